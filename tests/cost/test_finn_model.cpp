// Models already converted to FINN hardware layers (../shared/fixtures/finn): the settings in
// their node attributes give estimates that follow the formulas; values worked out by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"
#include "model_builders.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit::cost {
namespace {

std::string fixture(const std::string& name) {
  return std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/finn/" + name;
}

#define REQUIRE_FIXTURE(path) \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found at " << (path)

TEST(CostFinnModel, CybsecMlpFromNodeAttributes) {
  const std::string path = fixture("cybsec_mlp_hw_pe_simd.onnx");
  REQUIRE_FIXTURE(path);
  ASSERT_TRUE(is_finn_hw_model(path));
  HwGraph hw = load_hw_graph(path);
  ASSERT_EQ(hw.layers.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(hw.layers[static_cast<size_t>(i)].name, "MVAU_hls_" + std::to_string(i));
  EXPECT_EQ(hw.layers[0].input_type.name(), "BIPOLAR");
  EXPECT_EQ(hw.layers[0].mw, 600);
  EXPECT_EQ(hw.layers[1].inputs, (std::vector<int>{0}));
  const Estimate e = estimate(hw);
  // MVAU_hls_0: PE = SIMD = 1, BIPOLAR x INT2, accDataType unset (INT32):
  //   WMEM 600*64 = 38,400 of width 2: ceil(38400/8192) = 5 BRAM18; 38,400 cycles;
  //   mult 1*(2*1-1)*3 = 3, adder 3*1 = 3, acc min(32, ceil(10.23 + 1.0007)) = 12:
  //   int(300 + 1.1 * 18) = 319
  // MVAU_hls_1/2/3: UINT2 x INT2, MW 64: alpha = 6+2+2-1 = 9 -> acc 11; mult 4, adder 4:
  //   int(300 + 1.1 * 19) = 320; WMEM 4096 / 4096 / 64 at width 2: 1 BRAM18 each
  const int64_t lut[] = {319, 320, 320, 320};
  const int64_t bram[] = {5, 1, 1, 1};
  const int64_t cycles[] = {38400, 4096, 4096, 64};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(e.layers[i].res.lut, lut[i]) << hw.layers[i].name;
    EXPECT_EQ(e.layers[i].res.bram18, bram[i]) << hw.layers[i].name;
    EXPECT_EQ(e.layers[i].cycles, cycles[i]) << hw.layers[i].name;
    EXPECT_EQ(e.layers[i].res.dsp, 0);
  }
  EXPECT_EQ(e.total.lut, 1279);
  EXPECT_EQ(e.total.bram18, 8);
  EXPECT_EQ(e.critical_path_cycles, 38400 + 4096 + 4096 + 64);

  // Refolded: PE 16, SIMD 40 -> 4 * 15 = 60 cycles; WMEM 60 of width 16*40*2 = 1280:
  // ceil(60/512) * ceil(1280/36) = 36 BRAM18; mult 40*1*3 = 120, adder 3*79 = 237, acc 12:
  // int(300 + 1.1 * 16 * 369) = 6794. As LUTRAM: + 1280 * ceil(60/64).
  apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"PE": 16, "SIMD": 40}})", "fold.json"));
  LayerEstimate l0 = estimate_layer(hw.layers[0]);
  EXPECT_EQ(l0.cycles, 60);
  EXPECT_EQ(l0.res.bram18, 36);
  EXPECT_EQ(l0.res.lut, 6794);
  apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"ram_style": "distributed"}})", "fold.json"));
  l0 = estimate_layer(hw.layers[0]);
  EXPECT_EQ(l0.res.bram18, 0);
  EXPECT_EQ(l0.res.lut, 6794 + 1280);
}

TEST(CostFinnModel, ResidualBlockLegacyNames) {
  const std::string path = fixture("residual_block_hw.onnx");
  REQUIRE_FIXTURE(path);
  const HwGraph hw = read_finn_hw_model(path);
  std::vector<std::string> types;
  for (const auto& l : hw.layers) types.push_back(hw_op_type(l.op, l.backend));
  EXPECT_EQ(types, (std::vector<std::string>{"DuplicateStreams_hls", "FMPadding_hls", "ConvolutionInputGenerator_hls",
                                             "VVAU_hls", "MVAU_hls", "AddStreams_hls"}));
  EXPECT_EQ(hw.layers[0].name, "DuplicateStreams_Batch_0");  // FINN's own names are kept
  EXPECT_EQ(hw.layers[5].inputs, (std::vector<int>{0, 4}));
  EstimateOptions exact;
  exact.finn_exact = true;
  const Estimate e = estimate(hw, exact);
  const int64_t cycles[] = {1024, 1156, 9318, 9216, 16384, 1024};
  // SWG (HLS, block): (3 + 1) * ceil(64/36) = 8 BRAM18, 300 LUT.
  // VVAU: mult 24, adder 8, acc min(10, 11) = 10, thr 15*10*1/64, cmp 150, PE 16:
  //   int(300 + 1.1 * 16 * 194.34375) = 3720
  // MVAU: PE 1, SIMD 16, UINT4 x INT4: mult 16*3*8 = 384, adder 8*31 = 248, acc min(14, 13):
  //   int(300 + 1.1 * 645) = 1009; WMEM 16 of width 64: ceil(16/512) * ceil(64/36) = 2
  const int64_t lut[] = {0, 0, 300, 3720, 1009, 0};
  const int64_t bram[] = {0, 0, 8, 0, 2, 0};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(e.layers[i].cycles, cycles[i]) << hw.layers[i].name;
    EXPECT_EQ(e.layers[i].res.lut, lut[i]) << hw.layers[i].name;
    EXPECT_EQ(e.layers[i].res.bram18, bram[i]) << hw.layers[i].name;
  }
  EXPECT_EQ(e.critical_path_cycles, 1024 + 1156 + 9318 + 9216 + 16384 + 1024);
  // Corrected: the VVAU's 9-deep auto weight memory as LUTRAM, 64 * ceil(9/64).
  EXPECT_EQ(estimate(hw).layers[3].res.lut, 3720 + 64);
}

// A one-node FINN hardware model written with libonnx's protobuf classes.
std::string write_hw_model(const std::string& file, const std::string& op_type,
                           const std::vector<std::pair<std::string, int64_t>>& ints,
                           const std::vector<std::pair<std::string, std::string>>& strings) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  auto* graph = model.mutable_graph();
  graph->set_name("g");
  graph->add_input()->set_name("in");
  graph->add_output()->set_name("out");
  auto* node = graph->add_node();
  node->set_op_type(op_type);
  node->set_domain("finn.custom_op.fpgadataflow.hls");
  node->add_input("in");
  node->add_output("out");
  for (const auto& [k, v] : ints) {
    auto* a = node->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  for (const auto& [k, v] : strings) {
    auto* a = node->add_attribute();
    a->set_name(k);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  const std::filesystem::path dir = cost_test::temp_dir("hw");
  const std::string path = (dir / file).string();
  std::ofstream out(path, std::ios::binary);
  model.SerializeToOstream(&out);
  return path;
}

std::string error_of(const std::string& path) {
  try {
    read_finn_hw_model(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CostFinnModel, BadAttributesNameNodeAndField) {
  const std::vector<std::pair<std::string, std::string>> types{
      {"inputDataType", "INT2"}, {"weightDataType", "INT2"}, {"outputDataType", "INT2"}};
  std::string path = write_hw_model("ok.onnx", "MVAU_hls", {{"MW", 8}, {"MH", 4}, {"PE", 2}, {"SIMD", 4}}, types);
  const HwGraph ok = read_finn_hw_model(path);
  ASSERT_EQ(ok.layers.size(), 1u);
  EXPECT_EQ(estimate(ok).max_cycles, 4);  // (4/2) * (8/4)
  path = write_hw_model("nope.onnx", "MVAU_hls", {{"MW", 8}, {"MH", 4}, {"SIMD", 4}}, types);
  EXPECT_NE(error_of(path).find("node 'MVAU_hls #0' (MVAU_hls): required attribute 'PE' is missing"), std::string::npos)
      << error_of(path);
  path = write_hw_model("type.onnx", "MVAU_hls", {{"MW", 8}, {"MH", 4}, {"PE", 1}, {"SIMD", 1}},
                        {{"inputDataType", "FLOAT32"}, {"weightDataType", "INT2"}, {"outputDataType", "INT2"}});
  EXPECT_NE(error_of(path).find("attribute 'inputDataType' = 'FLOAT32' is not an integer FINN data type"),
            std::string::npos)
      << error_of(path);
  path = write_hw_model("zero.onnx", "MVAU_hls", {{"MW", 0}, {"MH", 4}, {"PE", 1}, {"SIMD", 1}}, types);
  EXPECT_NE(error_of(path).find("MW must be positive, got 0"), std::string::npos) << error_of(path);
  path = write_hw_model("pool.onnx", "StreamingMaxPool_hls", {{"NumChannels", 4}}, {{"dataType", "INT2"}});
  EXPECT_NE(error_of(path).find("required attribute 'ImgDim' is missing"), std::string::npos) << error_of(path);
  path = write_hw_model("foo.onnx", "Foo_hls", {}, {});
  EXPECT_NE(error_of(path).find("this FINN hardware op is not known"), std::string::npos) << error_of(path);
  std::filesystem::remove_all(cost_test::temp_dir("hw"));
}

TEST(CostFinnModel, BadFiles) {
  EXPECT_THROW(read_finn_hw_model("/nonexistent/model.onnx"), Error);
  const std::filesystem::path dir = cost_test::temp_dir("bad");
  const std::string path = (dir / "garbage.onnx").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not protobuf \x01\x02\xff", f);
    std::fclose(f);
  }
  try {
    read_finn_hw_model(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid ONNX model"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dnnsplit::cost
