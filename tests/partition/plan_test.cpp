// plan_model on zoo models: plan.json follows docs/plan-schema.md, every stage fits its board,
// the stage files chain up and verify bit for bit; bad requests fail cleanly.
#include <gtest/gtest.h>

#include <fstream>

#include "dnnsplit/cost.h"
#include "dnnsplit/npy.h"
#include "dnnsplit/error.h"
#include "partition_test_util.h"

namespace dnnsplit::partition {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json read_json(const std::string& path) { return json::parse(test::bytes_of(path)); }

std::vector<std::string> names_of(const json& tensors) {
  std::vector<std::string> out;
  for (const auto& t : tensors) out.push_back(t["name"]);
  return out;
}

// Everything plan.json promises, checked against the model and the files themselves.
void check_plan(const std::string& model_path, const std::string& dir, const std::string& catalog = "") {
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
  EXPECT_EQ(planned_nodes, all_nodes);
  EXPECT_EQ(names_of(stages.front()["inputs"]), names_of(plan["model_inputs"]));
  EXPECT_EQ(names_of(stages.back()["outputs"]), names_of(plan["model_outputs"]));
  EXPECT_EQ(plan["objective"]["total_cut_bytes"], total_bytes);
}

void expect_verifies(const std::string& model, const std::string& dir, int samples = 2) {
  const VerifyResult result = verify_plan(model, dir, {samples, 1, {}});
  EXPECT_TRUE(result.ok()) << (result.mismatches.empty() ? "nothing compared" : result.mismatches[0]);
  EXPECT_EQ(result.inputs_run, samples);
}

PlanOptions options(std::vector<std::string> boards, Strategy strategy, int stages = 0) {
  PlanOptions o;
  o.selection.boards = std::move(boards);
  o.strategy = strategy;
  o.stages = stages;
  return o;
}

TEST(Sha256, FipsTestVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_THROW(sha256_file("/nonexistent/file"), Error);
}

TEST(Plan, CnvMinTransferTwoStagesCutsWhereLeastDataCrosses) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("cnv-w2a2");
  plan_model(model, options({"zedboard"}, Strategy::kMinTransfer, 2), dir.path() + "/p");
  check_plan(model, dir.path() + "/p");
  const json plan = read_json(dir.path() + "/p/plan.json");
  // finn-facts (b): after the last conv only 1x1x256 2-bit values = 64 bytes cross, the least
  // anywhere in CNV.
  ASSERT_EQ(plan["cuts"].size(), 1U);
  EXPECT_EQ(plan["cuts"][0]["bytes_per_image"], 64);
  EXPECT_EQ(names_of(plan["cuts"][0]["tensors"]), std::vector<std::string>{"conv5_act_out"});
  expect_verifies(model, dir.path() + "/p");
}

TEST(Plan, EveryStrategyOnSmallZooModelsVerifies) {
  const test::TempDir dir;
  for (const char* name : {"cnv-w2a2", "tfc-w1a1", "tfc-w2a2"}) {
    const std::string& model = test::zoo_file(name);
    for (const auto& [strategy, stages] : std::vector<std::pair<Strategy, int>>{
             {Strategy::kFill, 0}, {Strategy::kMinTransfer, 0}, {Strategy::kMinTransfer, 3}, {Strategy::kBalanced, 3}}) {
      const std::string out = dir.path() + "/" + name + "-" + strategy_name(strategy) + std::to_string(stages);
      SCOPED_TRACE(out);
      plan_model(model, options({"zedboard"}, strategy, stages), out);
      check_plan(model, out);
      const json plan = read_json(out + "/plan.json");
      if (stages > 0) {
        EXPECT_EQ(plan["stages"].size(), static_cast<size_t>(stages));
      }
      expect_verifies(model, out, 1);
    }
  }
}

// A board with a fifth of the Zedboard's BRAM forces CNV onto several boards.
TEST(Plan, SmallBoardsNeedSeveralStagesAndEachFits) {
  const test::TempDir dir;
  const std::string catalog = test::write_board_file(dir.path() + "/boards.json", "tinyzed", "zedboard", {{"bram18", 100}});
  const std::string& model = test::zoo_file("cnv-w2a2");
  PlanOptions o = options({"tinyzed"}, Strategy::kFill);
  o.selection.boards_file = catalog;
  plan_model(model, o, dir.path() + "/fill");
  check_plan(model, dir.path() + "/fill", catalog);
  const json fill = read_json(dir.path() + "/fill/plan.json");
  EXPECT_GE(fill["stages"].size(), 3U);
  expect_verifies(model, dir.path() + "/fill", 1);

  // min-transfer without --stages takes the fewest stages that fit: never more than fill's.
  o.strategy = Strategy::kMinTransfer;
  plan_model(model, o, dir.path() + "/mt");
  check_plan(model, dir.path() + "/mt", catalog);
  const json mt = read_json(dir.path() + "/mt/plan.json");
  EXPECT_EQ(mt["stages"].size(), fill["stages"].size());
  EXPECT_LE(mt["objective"]["total_cut_bytes"].get<int64_t>(), fill["objective"]["total_cut_bytes"].get<int64_t>());

  // Two listed boards cannot take it.
  o.selection.boards = {"tinyzed", "tinyzed"};
  o.strategy = Strategy::kFill;
  try {
    plan_model(model, o, dir.path() + "/two");
    FAIL() << "two tiny boards accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("listed boards"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.path() + "/two"));
}

TEST(Plan, HeterogeneousBoardsAreEachUsedOnce) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("cnv-w2a2");
  plan_model(model, options({"zedboard", "ultra96"}, Strategy::kBalanced), dir.path() + "/p");
  check_plan(model, dir.path() + "/p");
  const json plan = read_json(dir.path() + "/p/plan.json");
  ASSERT_EQ(plan["stages"].size(), 2U);  // balanced takes every listed board
  std::multiset<std::string> used{plan["stages"][0]["board"], plan["stages"][1]["board"]};
  EXPECT_EQ(used, (std::multiset<std::string>{"ultra96", "zedboard"}));
  EXPECT_EQ(plan["stages"][0]["timing"]["clock_hz"].get<double>(),
            BoardCatalog::builtin().get(plan["stages"][0]["board"]).clock_mhz * 1e6);
  expect_verifies(model, dir.path() + "/p", 1);
}

TEST(Plan, LayerTooBigForTheBoardIsNamedWithItsResource) {
  const test::TempDir dir;
  const std::string catalog = test::write_board_file(dir.path() + "/boards.json", "microzed", "zedboard", {{"bram18", 20}});
  const std::string& model = test::zoo_file("cnv-w2a2");
  // The first layer whose BRAM alone exceeds 80 % of 20 BRAM18, from the cost model directly.
  cost::LowerOptions lower;
  lower.top_k = 0;
  const cost::HwGraph hw = cost::lower_to_hw(import_model(model), lower);
  const cost::Estimate estimate = cost::estimate(hw);
  std::string expected;
  for (size_t l = 0; l < hw.layers.size() && expected.empty(); ++l) {
    if (estimate.layers[l].res.bram18 > 16) expected = hw.layers[l].name;
  }
  ASSERT_FALSE(expected.empty());
  PlanOptions o = options({"microzed"}, Strategy::kFill);
  o.selection.boards_file = catalog;
  try {
    plan_model(model, o, dir.path() + "/p");
    FAIL() << "a layer larger than the board was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'" + expected + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("bram18"), std::string::npos) << message;
    EXPECT_NE(message.find("microzed"), std::string::npos) << message;
  }
  EXPECT_TRUE(test::files_in(dir.path()) == std::vector<std::string>{"boards.json"});
}

TEST(Plan, BadRequestsLeaveNothingBehind) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("tfc-w1a1");
  auto expect_error = [&](const PlanOptions& o, const std::string& out, const std::string& needle) {
    try {
      plan_model(model, o, out);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(options({"zedboard"}, Strategy::kMinTransfer, 500), dir.path() + "/k", "larger than the number of layers");
  expect_error(options({"no-such-board"}, Strategy::kFill), dir.path() + "/b", "no-such-board");
  expect_error(options({}, Strategy::kFill), dir.path() + "/none", "no board");
  expect_error(options({"zedboard"}, Strategy::kFill), dir.path() + "/missing/parent/out", "missing/parent");
  test::write_bytes(dir.path() + "/a-file", "x");
  expect_error(options({"zedboard"}, Strategy::kFill), dir.path() + "/a-file", "not a directory");
  fs::create_directory(dir.path() + "/precious");
  test::write_bytes(dir.path() + "/precious/notes.txt", "keep me");
  expect_error(options({"zedboard"}, Strategy::kFill), dir.path() + "/precious", "refusing to overwrite");
  EXPECT_EQ(test::bytes_of(dir.path() + "/precious/notes.txt"), "keep me");
  // Nothing half-written: only what the test itself made.
  EXPECT_EQ(test::files_in(dir.path()), (std::vector<std::string>{"a-file", "precious"}));
}

TEST(Plan, AnExistingPlanDirectoryIsReplacedWhole) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("tfc-w1a1");
  const std::string out = dir.path() + "/p";
  plan_model(model, options({"zedboard"}, Strategy::kMinTransfer, 3), out);
  EXPECT_TRUE(fs::exists(out + "/stage-2.onnx"));
  plan_model(model, options({"zedboard"}, Strategy::kMinTransfer, 2), out);
  EXPECT_EQ(test::files_in(out), (std::vector<std::string>{"plan.json", "stage-0.onnx", "stage-1.onnx"}));
  check_plan(model, out);
  EXPECT_EQ(test::files_in(dir.path()), std::vector<std::string>{"p"});
}

TEST(Verify, DetectsChangedFilesOtherModelsAndWrongResults) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("tfc-w2a2");
  const std::string out = dir.path() + "/p";
  plan_model(model, options({"zedboard"}, Strategy::kMinTransfer, 2), out);
  expect_verifies(model, out);

  EXPECT_THROW(verify_plan(test::zoo_file("tfc-w1a1"), out, {}), Error);  // plan made for another model
  EXPECT_THROW(verify_plan(model, dir.path(), {}), Error);                 // no plan.json

  // Extra inputs from .npy files (a batch of 3), next to the random ones.
  const ir::Graph graph = import_model(model);
  const std::string npy = dir.path() + "/x.npy";
  write_npy(npy, test::test_inputs(graph, 3, 5)[0]);
  const VerifyResult with_file = verify_plan(model, out, {1, 1, {npy}});
  EXPECT_TRUE(with_file.ok());
  EXPECT_EQ(with_file.inputs_run, 2);
  write_npy(npy, Tensor::from_floats({1, 5}, {1, 2, 3, 4, 5}));
  EXPECT_THROW(verify_plan(model, out, {1, 1, {npy}}), Error);  // wrong shape for the model input

  // plan.json may only name files inside the plan directory.
  {
    json plan = read_json(out + "/plan.json");
    const std::string saved = plan.dump(1);
    plan["stages"][0]["file"] = "../x.npy";
    test::write_bytes(out + "/plan.json", plan.dump(1));
    try {
      verify_plan(model, out, {});
      ADD_FAILURE() << "a stage file outside the plan directory was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("field 'file'"), std::string::npos) << e.what();
    }
    test::write_bytes(out + "/plan.json", saved);
  }

  // A stage whose weights changed (and whose hash was updated to match) must be caught.
  const std::string stage_file = out + "/stage-1.onnx";
  ir::Graph stage = import_model(stage_file);
  bool changed = false;
  for (const auto& node : stage.nodes) {
    if (node.op_type != "MatMul" || changed) continue;
    ir::TensorInfo& weights = stage.tensor(node.inputs[1]);
    ASSERT_TRUE(weights.is_constant());
    for (auto& w : weights.constant->f32) w = -w;  // still on the weight grid: symmetric narrow range
    changed = true;
  }
  ASSERT_TRUE(changed);
  export_model(stage, stage_file);
  json plan = read_json(out + "/plan.json");
  plan["stages"][1]["sha256"] = sha256_file(stage_file);
  test::write_bytes(out + "/plan.json", plan.dump(1));
  const VerifyResult wrong = verify_plan(model, out, {2, 1, {}});
  EXPECT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.mismatches.size(), 2U);
  EXPECT_NE(wrong.mismatches[0].find("values differ"), std::string::npos) << wrong.mismatches[0];

  // A file changed behind plan.json's back.
  test::write_bytes(stage_file, test::bytes_of(stage_file) + " ");
  try {
    verify_plan(model, out, {});
    FAIL() << "changed stage file accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dnnsplit::partition
