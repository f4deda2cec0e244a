// The plan / verify / report subcommands through the dnnsplit binary: exit codes and messages.
#include <gtest/gtest.h>

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
  EXPECT_EQ(test::files_in(dir.path()), std::vector<std::string>{});
}

}  // namespace
}  // namespace dnnsplit
