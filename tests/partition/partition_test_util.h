// Helpers for the partitioner tests: zoo models on disk, board catalogs, running a model as a
// chain of stage files cut at given positions.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "dnnsplit/boards.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/partition.h"
#include "dnnsplit/zoo.h"
#include "io/io_test_util.h"

namespace dnnsplit::test {

// Zoo models are written once per test program into one temporary directory.
inline const std::string& zoo_file(const std::string& name) {
  static TempDir dir;
  static std::map<std::string, std::string> files;
  auto it = files.find(name);
  if (it == files.end()) {
    const std::string path = dir.path() + "/" + name + ".onnx";
    write_bytes(path, zoo_build(name, 1));
    it = files.emplace(name, path).first;
  }
  return it->second;
}

inline std::string shared_fixture(const std::string& relative) {
  return std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/" + relative;
}

// A catalog file with one board: a copy of `base` renamed, with some resources / usable
// fractions replaced (keys of boards.json, e.g. {"bram18", 20} or {"usable.bram18", 1.0}).
inline std::string write_board_file(const std::string& path, const std::string& name, const std::string& base,
                                    const std::map<std::string, double>& overrides) {
  Board b = BoardCatalog::builtin().get(base);
  b.name = name;
  b.display_name += " (test copy)";
  b.source = "test";
  const std::map<std::string, int64_t*> counts{{"lut", &b.resources.lut},       {"ff", &b.resources.ff},
                                               {"lutram", &b.resources.lutram}, {"bram18", &b.resources.bram18},
                                               {"uram", &b.resources.uram},     {"dsp", &b.resources.dsp}};
  const std::map<std::string, double*> reals{
      {"usable.lut", &b.usable.lut},       {"usable.ff", &b.usable.ff},     {"usable.lutram", &b.usable.lutram},
      {"usable.bram18", &b.usable.bram18}, {"usable.uram", &b.usable.uram}, {"usable.dsp", &b.usable.dsp},
      {"clock_mhz", &b.clock_mhz},         {"link_mbps", &b.link_mbps},     {"reconfig_ms", &b.reconfig_ms}};
  for (const auto& [key, value] : overrides) {
    if (counts.count(key)) {
      *counts.at(key) = static_cast<int64_t>(value);
    } else {
      *reals.at(key) = value;
    }
  }
  const nlohmann::json board = nlohmann::json::parse(board_catalog_entry(b));
  write_bytes(path, nlohmann::json{{"format", "dnnsplit-boards-1"}, {"boards", {board}}}.dump(1));
  return path;
}

// Inputs for every graph input: values on the input's integer grid when it has one, else reals.
inline std::vector<Tensor> test_inputs(const ir::Graph& graph, int64_t batch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Tensor> result;
  for (int id : graph.inputs) {
    const ir::TensorInfo& info = graph.tensor(id);
    Shape shape = info.shape;
    shape[0] = batch;
    std::vector<float> values(static_cast<size_t>(shape_numel(shape)));
    for (auto& v : values) {
      if (info.quant) {
        std::uniform_int_distribution<int64_t> level(info.quant->min_int(), info.quant->max_int());
        v = static_cast<float>(level(rng)) * info.quant->scale[0];
      } else {
        v = std::uniform_real_distribution<float>(-1.5F, 1.5F)(rng);
      }
    }
    EXPECT_EQ(info.type, ElemType::kFloat) << "test inputs are float only";
    result.push_back(Tensor::from_floats(shape, std::move(values)));
  }
  return result;
}

// Runs the graph as the chain of stages cut at `positions` (ascending, inside the graph), each
// stage written as a model file's bytes and read back, as `dnnsplit verify` does with files.
inline std::vector<Tensor> run_split(const ir::Graph& graph, const std::vector<int>& positions,
                                     const std::vector<Tensor>& inputs) {
  std::map<std::string, Tensor> values;
  for (size_t i = 0; i < graph.inputs.size(); ++i) values[graph.tensor(graph.inputs[i]).name] = inputs[i];
  std::vector<int> bounds{0};
  bounds.insert(bounds.end(), positions.begin(), positions.end());
  bounds.push_back(static_cast<int>(graph.nodes.size()));
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    const ir::Graph stage = partition::extract_stage(graph, bounds[k], bounds[k + 1], "stage" + std::to_string(k));
    const engine::Session session(import_model_from_bytes(export_model_to_bytes(stage), "stage" + std::to_string(k)));
    std::vector<Tensor> stage_inputs;
    for (int id : session.graph().inputs) stage_inputs.push_back(values.at(session.graph().tensor(id).name));
    const std::vector<Tensor> outputs = session.run(stage_inputs);
    for (size_t i = 0; i < outputs.size(); ++i) values[session.graph().tensor(session.graph().outputs[i]).name] = outputs[i];
  }
  std::vector<Tensor> result;
  for (int id : graph.outputs) result.push_back(values.at(graph.tensor(id).name));
  return result;
}

}  // namespace dnnsplit::test
