// `dnnsplit inspect`: the table, the JSON report and errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_test_util.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit {
namespace {

using test::run_cli;

std::string write_zoo_model(const test::TempDir& dir, const std::string& name) {
  const std::string path = dir.path() + "/" + name + ".onnx";
  test::write_bytes(path, zoo_build(name, 1));
  return path;
}

TEST(InspectCli, JsonHasLayersAndTotal) {
  const test::TempDir dir;
  const auto r = run_cli({"inspect", write_zoo_model(dir, "cnv-w2a2"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report["layers"].size(), 12U);
  EXPECT_EQ(report["layers"][1]["name"], "conv0");
  EXPECT_EQ(report["layers"][1]["output_bytes"], 14400);
  EXPECT_EQ(report["layers"][1]["output_shape"], (std::vector<int64_t>{1, 64, 30, 30}));
  EXPECT_EQ(report["layers"][1]["weight_type"], "INT2");
  EXPECT_EQ(report["total"]["params"], 1542848);
  EXPECT_EQ(report["total"]["macs"], 59461376);
  EXPECT_EQ(report["inputs"][0]["bytes_per_image"], 3072);
}

TEST(InspectCli, TableColumnsAreAlignedAndTotalsPrinted) {
  const test::TempDir dir;
  const auto r = run_cli({"inspect", write_zoo_model(dir, "cnv-w2a2")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  size_t header = 0;
  while (header < lines.size() && lines[header].find("#  layer") == std::string::npos) ++header;
  ASSERT_LT(header + 13, lines.size()) << r.out;
  // Right-aligned numeric columns: every row ends its MACs column where the header's "MACs" ends.
  const size_t macs_end = lines[header].find("MACs") + 4;
  for (size_t i = header + 1; i <= header + 12; ++i) {
    ASSERT_GE(lines[i].size(), macs_end) << lines[i];
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(lines[i][macs_end - 1]))) << lines[i];
    EXPECT_EQ(lines[i][macs_end], ' ') << lines[i];
  }
  EXPECT_NE(lines[header + 3].find("28,901,376"), std::string::npos) << lines[header + 3];
  EXPECT_EQ(lines.back(), "total: 12 layers, 1,542,848 params (385,712 bytes packed), 59,461,376 MACs/image");
}

TEST(InspectCli, MissingOrBrokenModelIsAnError) {
  const test::TempDir dir;
  const std::string missing = dir.path() + "/nope.onnx";
  test::expect_cli_error(run_cli({"inspect", missing}), {missing});
  const std::string broken = dir.path() + "/broken.onnx";
  test::write_bytes(broken, "this is not a protobuf");
  test::expect_cli_error(run_cli({"inspect", broken}), {broken});
  EXPECT_EQ(run_cli({"inspect"}).exit_code, 2);
}

}  // namespace
}  // namespace dnnsplit
