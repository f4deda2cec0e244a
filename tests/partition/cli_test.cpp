// The plan / verify / report subcommands through the dnnsplit binary: exit codes and messages.
#include <gtest/gtest.h>

#include <algorithm>

#include "cli/cli_test_util.h"
#include "partition_test_util.h"

namespace dnnsplit {
namespace {

using test::expect_cli_error;
using test::run_cli;

TEST(PartitionCli, PlanVerifyReportSucceed) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("tfc-w1a1");
  const auto plan = run_cli({"plan", model, "--board", "zedboard", "--strategy", "min-transfer", "--stages", "2", "-o",
                             dir.path() + "/p", "--json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  const auto parsed = nlohmann::json::parse(plan.out);
  EXPECT_EQ(parsed["schema"], "dnnsplit-plan/1");
  EXPECT_EQ(parsed["stages"].size(), 2U);
  EXPECT_EQ(parsed, nlohmann::json::parse(test::bytes_of(dir.path() + "/p/plan.json")));

  const auto verify = run_cli({"verify", model, dir.path() + "/p", "--samples", "2"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("2 input(s), 2 output(s) bit-identical"), std::string::npos) << verify.out;

  const auto summary = run_cli({"plan", model, "--board", "zedboard,zedboard", "--strategy", "balanced", "-o",
                                dir.path() + "/q"});
  EXPECT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_NE(summary.out.find("2 stage(s), strategy balanced"), std::string::npos) << summary.out;

  const auto report = run_cli({"report", model, "--board", "zedboard", "-o", dir.path() + "/r"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/r/usage.svg"));
}

// A split that changes the results is reported with exit code 1, not as bad input (2).
TEST(PartitionCli, VerifyMismatchExitsOne) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("tfc-w2a2");
  const std::string out = dir.path() + "/p";
  ASSERT_EQ(run_cli({"plan", model, "--board", "zedboard", "--strategy", "min-transfer", "--stages", "2", "-o", out})
                .exit_code,
            0);
  // Negated weights stay on the symmetric grid; plan.json's hash is updated so only results differ.
  const std::string stage_file = out + "/stage-1.onnx";
  ir::Graph stage = import_model(stage_file);
  for (const auto& node : stage.nodes) {
    if (node.op_type != "MatMul") continue;
    for (auto& w : stage.tensor(node.inputs[1]).constant->f32) w = -w;
    break;
  }
  export_model(stage, stage_file);
  auto plan = nlohmann::json::parse(test::bytes_of(out + "/plan.json"));
  plan["stages"][1]["sha256"] = partition::sha256_file(stage_file);
  test::write_bytes(out + "/plan.json", plan.dump(1));
  const auto verify = run_cli({"verify", model, out, "--samples", "2"});
  EXPECT_EQ(verify.exit_code, 1) << verify.err;
  EXPECT_NE(verify.out.find("MISMATCH random sample 0"), std::string::npos) << verify.out;
  EXPECT_EQ(std::count(verify.err.begin(), verify.err.end(), '\n'), 1) << verify.err;
  EXPECT_NE(verify.err.find("2 of 2 outputs differ"), std::string::npos) << verify.err;
  // Nothing to compare is a usage error.
  expect_cli_error(run_cli({"verify", model, out, "--samples", "0"}), {"no output was compared"});
}

// The QONNX zoo's float-input TFC plans without --input-type (its quantizer runs on the host).
TEST(PartitionCli, FloatInputFixturePlansAndVerifies) {
  const std::string model = test::shared_fixture("qonnx-zoo/TFC_2W2A.onnx");
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "fixtures not found at " << model;
  const test::TempDir dir;
  const auto plan = run_cli({"plan", model, "--board", "zedboard", "--strategy", "balanced", "--stages", "2", "-o",
                             dir.path() + "/p"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("2 stage(s), strategy balanced"), std::string::npos) << plan.out;
  const auto verify = run_cli({"verify", model, dir.path() + "/p", "--samples", "1"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST(PartitionCli, BadInputExitsTwoWithOneLine) {
  const test::TempDir dir;
  const std::string& model = test::zoo_file("tfc-w1a1");
  const std::string out = dir.path() + "/p";
  expect_cli_error(run_cli({"plan", model, "--board", "zedboard", "--strategy", "greedy", "-o", out}),
                   {"unknown strategy 'greedy'", "fill, min-transfer or balanced"});
  expect_cli_error(run_cli({"plan", model, "--board", "zedboard", "--strategy", "balanced", "--stages", "99", "-o", out}),
                   {"--stages 99", "larger than the number of layers"});
  expect_cli_error(run_cli({"plan", model, "--board", "zedboard", "-o", dir.path() + "/no/such/dir"}),
                   {dir.path() + "/no/such/dir"});
  expect_cli_error(run_cli({"verify", model, dir.path()}), {"no plan.json"});
  // A board too small for one layer even at PE = SIMD = 1.
  const test::TempDir boards;
  const std::string catalog = test::write_board_file(boards.path() + "/b.json", "nano", "zedboard", {{"lut", 200}});
  expect_cli_error(run_cli({"plan", model, "--board", "nano", "--boards-file", catalog, "-o", out}),
                   {"layer 'MVAU_hls_0'", "'nano'", "lut needs", "even at PE = SIMD = 1"});
  EXPECT_EQ(test::files_in(dir.path()), std::vector<std::string>{});
}

}  // namespace
}  // namespace dnnsplit
