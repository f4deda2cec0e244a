// plan_model on zoo models: plan.json follows docs/plan-schema.md, every stage fits its board,
// the stage files chain up and verify bit for bit; bad requests fail cleanly.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "dnnsplit/cost.h"
#include "dnnsplit/npy.h"
#include "dnnsplit/error.h"
#include "plan_check.h"

namespace dnnsplit::partition {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using test_plan::check_plan;
using test_plan::expect_verifies;
using test_plan::names_of;
using test_plan::options;
using test_plan::read_json;

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

// FINN's default-folding estimate of a model's layers as the planner lowers them (no TopK added).
std::pair<cost::HwGraph, cost::Estimate> default_estimate(const std::string& model) {
  cost::LowerOptions lower;
  lower.top_k = 0;
  cost::HwGraph hw = cost::lower_to_hw(import_model(model), lower);
  cost::Estimate estimate = cost::estimate(hw);
  return {std::move(hw), std::move(estimate)};
}

// Bytes per image of a tensor in plan.json, recomputed from its shape and bit width.
int64_t packed_bytes(const json& tensor) {
  int64_t elements = 1;
  const auto& shape = tensor["shape"];
  for (size_t d = 1; d < shape.size(); ++d) elements *= shape[d].get<int64_t>();
  const int64_t bits = tensor["quant"].is_null() ? 32 : tensor["quant"]["bits"].get<int64_t>();
  return (elements * bits + 7) / 8;
}

// ResNet-8 on boards of a ninth of a Zedboard's LUTs: cuts inside a residual block (the block's
// input crosses next to the branch) and between blocks, all bit-identical to the whole model.
TEST(Plan, ResNet8SplitsInsideAndAcrossResidualBlocks) {
  const test::TempDir dir;
  const std::string catalog = test::write_board_file(dir.path() + "/boards.json", "lutzed", "zedboard", {{"lut", 6000}});
  const std::string& model = test::zoo_file("resnet8-w4a4");
  const std::set<std::string> block_inputs{"stem_act_out", "s1_act_out", "s2_act_out"};
  int inside = 0;
  int between = 0;
  for (const auto& [strategy, stages] : std::vector<std::pair<Strategy, int>>{
           {Strategy::kFill, 0}, {Strategy::kMinTransfer, 2}, {Strategy::kBalanced, 8}}) {
    const std::string out = dir.path() + "/" + strategy_name(strategy) + std::to_string(stages);
    SCOPED_TRACE(out);
    PlanOptions o = options({"lutzed"}, strategy, stages);
    o.selection.boards_file = catalog;
    plan_model(model, o, out);
    check_plan(model, out, catalog);
    const json plan = read_json(out + "/plan.json");
    for (const auto& cut : plan["cuts"]) {
      int64_t bytes = 0;
      bool skip = false;
      for (const auto& t : cut["tensors"]) {
        EXPECT_EQ(t["bytes_per_image"].get<int64_t>(), packed_bytes(t)) << t["name"];
        bytes += packed_bytes(t);
        skip = skip || block_inputs.count(t["name"].get<std::string>()) > 0;
      }
      EXPECT_EQ(cut["bytes_per_image"].get<int64_t>(), bytes);
      if (cut["tensors"].size() >= 2) {
        EXPECT_TRUE(skip) << "a cut inside a block carries the block's input: " << cut["tensors"];
        ++inside;
      } else if (skip) {
        ++between;
      }
    }
    expect_verifies(model, out, 1);
  }
  EXPECT_GE(inside, 1);
  EXPECT_GE(between, 1);
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

// With a fifth of a BRAM budget's worth of RAMB18s, CNV's big weight memories move to LUTRAM or
// DRAM (FINN's mem_mode / ram_style choices) instead of making the plan fail.
TEST(Plan, WeightsMoveOutOfBramWhenALayerAloneOverflowsIt) {
  const test::TempDir dir;
  const std::string catalog = test::write_board_file(dir.path() + "/boards.json", "microzed", "zedboard", {{"bram18", 20}});
  const std::string& model = test::zoo_file("cnv-w2a2");
  // The layers whose BRAM alone exceeds 80 % of 20 BRAM18, from the cost model directly.
  const auto [hw, estimate] = default_estimate(model);
  std::set<std::string> expected;
  for (size_t l = 0; l < hw.layers.size(); ++l) {
    if (estimate.layers[l].res.bram18 > 16) expected.insert(hw.layers[l].name);
  }
  ASSERT_FALSE(expected.empty());
  PlanOptions o = options({"microzed"}, Strategy::kFill);
  o.selection.boards_file = catalog;
  plan_model(model, o, dir.path() + "/p");
  check_plan(model, dir.path() + "/p", catalog);
  const json plan = read_json(dir.path() + "/p/plan.json");
  std::set<std::string> moved;
  for (const auto& stage : plan["stages"]) {
    for (const auto& choice : stage["memory_choices"]) {
      moved.insert(choice["layer"].get<std::string>());
      // The stage's folding (under the stage's own layer names) carries the choice.
      const auto& entry = stage["folding"][choice["stage_layer"].get<std::string>()];
      const bool lutram = choice["weights"] == "lutram";
      EXPECT_TRUE(lutram || choice["weights"] == "dram") << choice;  // a Zynq-7020 has no URAM
      EXPECT_EQ(entry["mem_mode"], lutram ? "internal_decoupled" : "external") << choice;
      if (lutram) {
        EXPECT_EQ(entry["ram_style"], "distributed") << choice;
      } else {  // weights from DRAM arrive at most 64 bits per cycle through a Zynq-7000's HP port
        EXPECT_LE(entry["PE"].get<int64_t>() * entry["SIMD"].get<int64_t>() * 2, 64) << choice;
      }
      EXPECT_NE(choice["reason"].get<std::string>().find("bram18 needs"), std::string::npos) << choice;
    }
  }
  EXPECT_EQ(moved, expected);
  expect_verifies(model, dir.path() + "/p", 1);
}

TEST(Plan, LayerTooBigForTheBoardIsNamedWithItsResource) {
  const test::TempDir dir;
  const std::string catalog = test::write_board_file(dir.path() + "/boards.json", "nano", "zedboard", {{"lut", 500}});
  const std::string& model = test::zoo_file("cnv-w2a2");
  // The first layer whose LUTs alone exceed 70 % of 500 at FINN's default (smallest) folding.
  const auto [hw, estimate] = default_estimate(model);
  std::string expected;
  for (size_t l = 0; l < hw.layers.size() && expected.empty(); ++l) {
    if (estimate.layers[l].res.lut > 350) expected = hw.layers[l].name;
  }
  ASSERT_FALSE(expected.empty());
  PlanOptions o = options({"nano"}, Strategy::kFill);
  o.selection.boards_file = catalog;
  try {
    plan_model(model, o, dir.path() + "/p");
    FAIL() << "a layer larger than the board was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("layer '" + expected + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("lut needs"), std::string::npos) << message;
    EXPECT_NE(message.find("'nano'"), std::string::npos) << message;
    EXPECT_NE(message.find("even at PE = SIMD = 1"), std::string::npos) << message;
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
