// The split-point study on CNV-W2A2 against the figures in finn-facts.md ((b) bytes per
// boundary, (h) first-board share with the finn-examples folding), and the files it writes.
#include <gtest/gtest.h>


#include "dnnsplit/error.h"
#include "partition_test_util.h"

namespace dnnsplit::partition {
namespace {

const std::string kCnvFolding = std::string(DNNSPLIT_SOURCE_DIR) + "/data/foldings/cnv-w2a2_folding_config.json";

std::vector<SplitPoint> cnv_points(const std::string& folding) {
  HardwareOptions hw;
  hw.boards = {"zedboard"};
  hw.folding_file = folding;
  return split_points(import_model(test::zoo_file("cnv-w2a2")), hw);
}

const SplitPoint& after(const std::vector<SplitPoint>& points, const std::string& tensor) {
  for (const auto& p : points) {
    if (p.tensors == std::vector<std::string>{tensor}) return p;
  }
  throw Error("no split point after " + tensor);
}

TEST(SplitPoints, CnvBytesPerImageFollowTheTopology) {
  const auto points = cnv_points("");
  std::vector<int64_t> bytes;
  for (const auto& p : points) bytes.push_back(p.bytes_per_image);
  // finn-facts (b): input quant, conv0, conv1, pool, conv2, conv3, pool, conv4, conv5, fc0, fc1.
  EXPECT_EQ(bytes, (std::vector<int64_t>{3072, 14400, 12544, 3136, 4608, 3200, 800, 576, 64, 128, 128}));
  EXPECT_EQ(after(points, "conv0_act_out").bytes_per_image, 14400);
  EXPECT_EQ(after(points, "conv5_act_out").bytes_per_image, 64);
  // The first board only grows as the cut moves later.
  for (size_t i = 1; i < points.size(); ++i) {
    EXPECT_GE(points[i].lut, points[i - 1].lut);
    EXPECT_GE(points[i].bram18, points[i - 1].bram18);
    EXPECT_GT(points[i].position, points[i - 1].position);
  }
}

TEST(SplitPoints, CnvFirstBoardShareMatchesTheReferenceFigures) {
  if (!std::filesystem::exists(kCnvFolding)) GTEST_SKIP() << "folding not found at " << kCnvFolding;
  const auto points = cnv_points(kCnvFolding);
  // finn-facts (h): cutting after conv 0..5, the first board's share of a Zynq-7020.
  const std::vector<std::string> convs{"conv0_act_out", "conv1_act_out", "conv2_act_out",
                                       "conv3_act_out", "conv4_act_out", "conv5_act_out"};
  const std::vector<double> lut{3.99, 12.12, 16.78, 21.58, 23.74, 25.33};
  const std::vector<double> bram{0.71, 6.07, 11.43, 22.14, 35.00, 60.71};
  for (size_t i = 0; i < convs.size(); ++i) {
    const SplitPoint& p = after(points, convs[i]);
    EXPECT_NEAR(p.lut_percent, lut[i], 0.005) << convs[i];
    EXPECT_NEAR(p.bram_percent, bram[i], 0.005) << convs[i];
    EXPECT_EQ(p.dsp_percent, 0.0) << convs[i];
    EXPECT_TRUE(p.fits);
  }
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(Report, WritesTableCsvAndLabelledCharts) {
  const test::TempDir dir;
  HardwareOptions hw;
  hw.boards = {"zedboard"};
  write_report(test::zoo_file("cnv-w2a2"), hw, dir.path() + "/r");
  EXPECT_EQ(test::files_in(dir.path() + "/r"),
            (std::vector<std::string>{"bytes.svg", "report.csv", "report.md", "usage.svg"}));
  const auto points = cnv_points("");
  const std::string md = test::bytes_of(dir.path() + "/r/report.md");
  EXPECT_NE(md.find("| # | cut after | LUT % | LUTRAM % | FF % | BRAM % | DSP % |"), std::string::npos);
  EXPECT_NE(md.find("| 14,400 | conv0_act_out |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 64 | conv5_act_out |"), std::string::npos) << md;
  const std::string csv = test::bytes_of(dir.path() + "/r/report.csv");
  EXPECT_EQ(count(csv, "\n"), points.size() + 1);  // header + one row per split point

  const std::string usage = test::bytes_of(dir.path() + "/r/usage.svg");
  EXPECT_EQ(usage.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0U);
  EXPECT_NE(usage.find("share of the board (%)"), std::string::npos);
  EXPECT_NE(usage.find("cut after hardware layer"), std::string::npos);
  for (const char* legend : {">LUT<", ">LUTRAM<", ">BRAM18<", ">DSP<", ">LUT budget<"}) {
    EXPECT_NE(usage.find(legend), std::string::npos) << legend;
  }
  // One marker per split point and series (4 series) plus 4 legend markers.
  EXPECT_EQ(count(usage, "<circle"), points.size() * 4 + 4);
  EXPECT_EQ(count(usage, "<svg"), 1U);
  EXPECT_EQ(count(usage, "</svg>"), 1U);

  const std::string bytes = test::bytes_of(dir.path() + "/r/bytes.svg");
  EXPECT_NE(bytes.find("bytes per image (log scale)"), std::string::npos);
  // Decade ticks from 10 to 100 k cover 64 .. 14,400 bytes.
  for (const char* tick : {">10<", ">100<", ">1 k<", ">10 k<", ">100 k<"}) EXPECT_NE(bytes.find(tick), std::string::npos) << tick;
  EXPECT_EQ(count(bytes, "<rect") - 2, points.size());  // background + legend swatch + one bar each
  EXPECT_NE(bytes.find(">14,400<"), std::string::npos);
}

TEST(Report, BadInput) {
  const test::TempDir dir;
  HardwareOptions hw;
  hw.boards = {"zedboard"};
  EXPECT_THROW(write_report(dir.path() + "/missing.onnx", hw, dir.path() + "/r"), Error);
  hw.boards = {};
  EXPECT_THROW(write_report(test::zoo_file("tfc-w1a1"), hw, dir.path() + "/r"), Error);
  hw.boards = {"zedboard"};
  hw.folding_file = dir.path() + "/no-folding.json";
  EXPECT_THROW(write_report(test::zoo_file("tfc-w1a1"), hw, dir.path() + "/r"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/r"));
}

}  // namespace
}  // namespace dnnsplit::partition
