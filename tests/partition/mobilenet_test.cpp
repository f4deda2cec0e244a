// MobileNetV1-W4A4 on Zedboards (HEAVY: the whole network in the reference engine).
#include <gtest/gtest.h>

#include "dnnsplit/error.h"
#include "partition_test_util.h"

namespace dnnsplit::partition {
namespace {

using nlohmann::json;

void expect_within_budget(const json& plan, const Board& board) {
  for (const auto& s : plan["stages"]) {
    const auto& r = s["resources"];
    EXPECT_LE(r["lut"].get<double>(), board.usable.lut * static_cast<double>(board.resources.lut)) << s["index"];
    EXPECT_LE(r["lutram"].get<double>(), board.usable.lutram * static_cast<double>(board.resources.lutram)) << s["index"];
    EXPECT_LE(r["bram18"].get<double>(), board.usable.bram18 * static_cast<double>(board.resources.bram18)) << s["index"];
    EXPECT_LE(r["dsp"].get<double>(), board.usable.dsp * static_cast<double>(board.resources.dsp)) << s["index"];
  }
}

// With FINN's default folding the 1024x1024 pointwise conv holds 4 Mbit of weights: 256 BRAM18 at
// any PE x SIMD (the FINN-R ladder gives 256 for every power-of-two width), more than 80 % of a
// Zynq-7020's 280; LUTRAM would need 65,536 LUTs. Streaming its weights from DRAM is FINN's
// remaining choice, and with it every stage fits FINN's default budget.
TEST(MobileNet, FillOnZedboardsKeepsEveryStageWithinTheDefaultBudget) {
  const test::TempDir dir;
  PlanOptions o;
  o.selection.boards = {"zedboard"};
  const std::string& model = test::zoo_file("mobilenetv1-w4a4");
  const json plan = json::parse(plan_model(model, o, dir.path() + "/p"));
  // The literature built 6 bitstreams with FINN's default folding and BRAM filled to the brim;
  // with the two 4-Mbit layers' weights off-chip one board fewer is needed.
  EXPECT_GE(plan["stages"].size(), 5U);
  EXPECT_LE(plan["stages"].size(), 6U);
  expect_within_budget(plan, BoardCatalog::builtin().get("zedboard"));
  std::vector<std::string> dram;
  for (const auto& s : plan["stages"]) {
    for (const auto& c : s["memory_choices"]) {
      EXPECT_EQ(c["weights"], "dram") << c;
      dram.push_back(c["layer"]);
    }
  }
  // b13_pw (1024 x 1024) and the classifier (1024 x 1000): the only layers over 224 BRAM18.
  EXPECT_EQ(dram.size(), 2U);
  const VerifyResult result = verify_plan(model, dir.path() + "/p", {1, 1, {}});
  EXPECT_TRUE(result.ok()) << (result.mismatches.empty() ? "nothing compared" : result.mismatches[0]);
}

TEST(MobileNet, MinTransferAndBalancedVerify) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("mobilenetv1-w4a4");
  for (const Strategy strategy : {Strategy::kMinTransfer, Strategy::kBalanced}) {
    PlanOptions o;
    o.selection.boards = {"zedboard"};
    o.strategy = strategy;
    const std::string out = dir.path() + "/" + strategy_name(strategy);
    const json plan = json::parse(plan_model(model, o, out));
    expect_within_budget(plan, BoardCatalog::builtin().get("zedboard"));
    const VerifyResult result = verify_plan(model, out, {1, 1, {}});
    EXPECT_TRUE(result.ok()) << strategy_name(strategy);
  }
}

// The literature filled Zedboards up to their BRAM: with the whole BRAM usable, fill with FINN's
// default folding needs 6 boards, as the literature's 6 bitstreams.
TEST(MobileNet, FillOnFullBramZedboardsTakesSixStagesThatEachFitAndVerify) {
  const test::TempDir dir;
  PlanOptions o;
  o.selection.boards = {"zedboard-bram"};
  o.selection.boards_file =
      test::write_board_file(dir.path() + "/boards.json", "zedboard-bram", "zedboard", {{"usable.bram18", 1.0}});
  const std::string& model = test::zoo_file("mobilenetv1-w4a4");
  const json plan = json::parse(plan_model(model, o, dir.path() + "/p"));
  ASSERT_EQ(plan["stages"].size(), 6U);
  const BoardCatalog catalog = BoardCatalog::builtin();
  const Board& zed = catalog.get("zedboard");
  for (const auto& s : plan["stages"]) {
    EXPECT_LE(s["resources"]["lut"].get<double>(), zed.usable.lut * static_cast<double>(zed.resources.lut));
    EXPECT_LE(s["resources"]["lutram"].get<double>(), zed.usable.lutram * static_cast<double>(zed.resources.lutram));
    EXPECT_LE(s["resources"]["bram18"].get<int64_t>(), zed.resources.bram18);
    EXPECT_LE(s["resources"]["dsp"].get<double>(), zed.usable.dsp * static_cast<double>(zed.resources.dsp));
  }
  const VerifyResult result = verify_plan(model, dir.path() + "/p", {1, 1, {}});
  EXPECT_TRUE(result.ok()) << (result.mismatches.empty() ? "nothing compared" : result.mismatches[0]);
}

}  // namespace
}  // namespace dnnsplit::partition
