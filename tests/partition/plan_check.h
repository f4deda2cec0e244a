// Checks of a plan directory shared by the partitioner's test programs: plan.json against the
// model and the files (docs/plan-schema.md), every stage within its board's budget, and verify.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "partition_test_util.h"

namespace dnnsplit::partition::test_plan {

using json = nlohmann::json;

inline json read_json(const std::string& path) { return json::parse(test::bytes_of(path)); }

inline std::vector<std::string> names_of(const json& tensors) {
  std::vector<std::string> out;
  for (const auto& t : tensors) out.push_back(t["name"]);
  return out;
}

// Everything plan.json promises, checked against the model and the files themselves.
inline void check_plan(const std::string& model_path, const std::string& dir, const std::string& catalog = "") {
  const json plan = read_json(dir + "/plan.json");
  const ir::Graph model = import_model(model_path);
  EXPECT_EQ(plan["schema"], "dnnsplit-plan/1");
  EXPECT_EQ(plan["source_model"]["sha256"], sha256_file(model_path));
  const auto& stages = plan["stages"];
  ASSERT_GE(stages.size(), 1U);
  ASSERT_EQ(plan["cuts"].size(), stages.size() - 1);

  std::vector<std::string> all_nodes;
  for (const auto& node : model.nodes) all_nodes.push_back(node.name);
  std::vector<std::string> planned_nodes;
  BoardCatalog boards = BoardCatalog::builtin();
  if (!catalog.empty()) boards.add_file(catalog);
  int64_t total_bytes = 0;
  for (size_t k = 0; k < stages.size(); ++k) {
    const auto& s = stages[k];
    EXPECT_EQ(s["index"], k);
    for (const auto& n : s["nodes"]) planned_nodes.push_back(n);
    const std::string file = dir + "/" + s["file"].get<std::string>();
    EXPECT_EQ(s["sha256"], sha256_file(file));
    EXPECT_NO_THROW(check_model_bytes(test::bytes_of(file), file));  // libonnx checker + shape inference
    const ir::Graph stage = import_model(file);
    std::vector<std::string> ins;
    std::vector<std::string> outs;
    for (int id : stage.inputs) ins.push_back(stage.tensor(id).name);
    for (int id : stage.outputs) outs.push_back(stage.tensor(id).name);
    EXPECT_EQ(ins, names_of(s["inputs"])) << file;
    EXPECT_EQ(outs, names_of(s["outputs"])) << file;
    for (int id : stage.inputs) {  // the cut's quantized type survives in the stage file
      const int source = model.find_tensor(stage.tensor(id).name);
      EXPECT_EQ(stage.tensor(id).quant, model.tensor(source).quant) << stage.tensor(id).name;
    }
    if (k + 1 < stages.size()) {
      const auto& cut = plan["cuts"][k];
      EXPECT_EQ(names_of(cut["tensors"]), names_of(s["outputs"]));
      EXPECT_EQ(names_of(stages[k + 1]["inputs"]), names_of(s["outputs"]));
      int64_t bytes = 0;
      for (const auto& t : cut["tensors"]) bytes += t["bytes_per_image"].get<int64_t>();
      EXPECT_EQ(cut["bytes_per_image"], bytes);
      total_bytes += bytes;
    }
    // Within the board's usable budget.
    const Board& board = boards.get(s["board"]);
    const auto& r = s["resources"];
    EXPECT_LE(r["lut"].get<double>(), board.usable.lut * static_cast<double>(board.resources.lut)) << file;
    EXPECT_LE(r["lutram"].get<double>(), board.usable.lutram * static_cast<double>(board.resources.lutram)) << file;
    EXPECT_LE(r["bram18"].get<double>(), board.usable.bram18 * static_cast<double>(board.resources.bram18)) << file;
    EXPECT_LE(r["dsp"].get<double>(), board.usable.dsp * static_cast<double>(board.resources.dsp)) << file;
    EXPECT_NEAR(r["percent"]["bram18"].get<double>(),
                100.0 * r["bram18"].get<double>() / static_cast<double>(board.resources.bram18), 1e-9);
    EXPECT_TRUE(plan["boards"].contains(board.name));
  }
  // Every node in exactly one stage; the order may differ from the file's (hardware-layer order).
  std::sort(planned_nodes.begin(), planned_nodes.end());
  std::sort(all_nodes.begin(), all_nodes.end());
  EXPECT_EQ(planned_nodes, all_nodes);
  EXPECT_EQ(names_of(stages.front()["inputs"]), names_of(plan["model_inputs"]));
  EXPECT_EQ(names_of(stages.back()["outputs"]), names_of(plan["model_outputs"]));
  EXPECT_EQ(plan["objective"]["total_cut_bytes"], total_bytes);
}

inline void expect_verifies(const std::string& model, const std::string& dir, int samples = 2) {
  const VerifyResult result = verify_plan(model, dir, {samples, 1, {}});
  EXPECT_TRUE(result.ok()) << (result.mismatches.empty() ? "nothing compared" : result.mismatches[0]);
  EXPECT_EQ(result.inputs_run, samples);
}

inline PlanOptions options(std::vector<std::string> boards, Strategy strategy, int stages = 0) {
  PlanOptions o;
  o.selection.boards = std::move(boards);
  o.strategy = strategy;
  o.stages = stages;
  return o;
}

// Plans on Zedboards, checks plan.json and the stage count (when given), verifies one sample.
inline json plan_check_and_verify(const std::string& model, const std::string& out, Strategy strategy, int stages) {
  SCOPED_TRACE(out);
  plan_model(model, options({"zedboard"}, strategy, stages), out);
  check_plan(model, out);
  json plan = read_json(out + "/plan.json");
  if (stages > 0) {
    EXPECT_EQ(plan["stages"].size(), static_cast<size_t>(stages));
  }
  expect_verifies(model, out, 1);
  return plan;
}

}  // namespace dnnsplit::partition::test_plan
