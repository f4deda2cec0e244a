// MobileNetV1-W4A4 on Zedboards (HEAVY: the whole network in the reference engine).
#include <gtest/gtest.h>

#include "dnnsplit/error.h"
#include "partition_test_util.h"

namespace dnnsplit::partition {
namespace {

using nlohmann::json;

// With FINN's default folding the 1024x1024 pointwise conv holds 4 Mbit of weights: 256 BRAM18,
// more than 80 % of a Zynq-7020's 280, so it fits no Zedboard on FINN's default budget.
TEST(MobileNet, DefaultBudgetNamesTheLayerThatCannotFit) {
  const test::TempDir dir;
  PlanOptions o;
  o.selection.boards = {"zedboard"};
  try {
    plan_model(test::zoo_file("mobilenetv1-w4a4"), o, dir.path() + "/p");
    FAIL() << "MobileNet accepted on a Zedboard's 80 % BRAM budget";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("b13_pw"), std::string::npos) << message;
    EXPECT_NE(message.find("bram18 needs 256"), std::string::npos) << message;
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
