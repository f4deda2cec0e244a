// Folding files (parse, apply, write back), their error messages, and FINN's SetFolding heuristic
// on layers whose outcome is worked out by hand.
#include <gtest/gtest.h>

#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"
#include "model_builders.h"

namespace dnnsplit::cost {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

HwGraph cnv() {
  return lower_to_hw(cost_test::build_cnv_w2a2());
}

TEST(CostFolding, AppliesByNameAndDefaults) {
  HwGraph hw = cnv();
  apply_folding(hw, parse_folding(R"({
      "Defaults": {"ram_style": ["distributed", ["MVAU_hls"]], "mem_mode": ["external", "all"]},
      "MVAU_hls_0": {"PE": 8, "SIMD": 3, "resType": "dsp", "mem_mode": "internal_decoupled"},
      "ConvolutionInputGenerator_rtl_0": {"SIMD": 3, "ram_style": "block"},
      "StreamingFIFO_rtl_0": {"depth": 32}
    })",
                                  "test.json"));
  const HwLayer& m0 = hw.layers[static_cast<size_t>(hw.find_layer("MVAU_hls_0"))];
  EXPECT_EQ(m0.folding.pe, 8);
  EXPECT_EQ(m0.folding.simd, 3);
  EXPECT_EQ(m0.folding.res_type, ResType::kDsp);
  EXPECT_EQ(m0.folding.ram_style, RamStyle::kDistributed);  // from Defaults
  const HwLayer& m5 = hw.layers[static_cast<size_t>(hw.find_layer("MVAU_hls_5"))];
  EXPECT_EQ(m5.folding.mem_mode, MemMode::kExternal);  // "all" default
  EXPECT_EQ(m5.folding.ram_style, RamStyle::kDistributed);
  EXPECT_EQ(m0.folding.mem_mode, MemMode::kInternalDecoupled);  // the layer entry wins
  const HwLayer& s0 = hw.layers[static_cast<size_t>(hw.find_layer("ConvolutionInputGenerator_rtl_0"))];
  EXPECT_EQ(s0.folding.simd, 3);
  EXPECT_EQ(s0.folding.ram_style, RamStyle::kBlock);
  EXPECT_EQ(s0.folding.mem_mode, MemMode::kInternalDecoupled);  // SWG has no mem_mode: "all" skips it
}

TEST(CostFolding, WrittenFoldingReadsBackIdentically) {
  HwGraph hw = cnv();
  apply_folding(hw,
                read_folding_file(std::string(DNNSPLIT_SOURCE_DIR) + "/data/foldings/cnv-w2a2_folding_config.json"));
  HwGraph again = cnv();
  apply_folding(again, parse_folding(folding_to_json(hw), "written"));
  for (size_t i = 0; i < hw.layers.size(); ++i) {
    const Folding& a = hw.layers[i].folding;
    const Folding& b = again.layers[i].folding;
    EXPECT_EQ(a.pe, b.pe) << hw.layers[i].name;
    EXPECT_EQ(a.simd, b.simd) << hw.layers[i].name;
    EXPECT_EQ(a.ram_style, b.ram_style) << hw.layers[i].name;
    EXPECT_EQ(a.res_type, b.res_type) << hw.layers[i].name;
  }
  EXPECT_EQ(estimate(hw).total.lut, estimate(again).total.lut);
}

TEST(CostFolding, ErrorsNameFileLayerAndField) {
  HwGraph hw = cnv();
  std::string msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_9": {"PE": 1}})", "f.json")); });
  EXPECT_NE(msg.find("folding f.json: layer 'MVAU_hls_9' does not exist"), std::string::npos) << msg;
  msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"PE": 7}})", "f.json")); });
  EXPECT_NE(msg.find("MVAU_hls_0: PE 7 does not divide MH 64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("f.json"), std::string::npos) << msg;
  EXPECT_EQ(hw.layers[static_cast<size_t>(hw.find_layer("MVAU_hls_0"))].folding.pe, 1);  // rejected: unchanged
  msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_1": {"SIMD": 5}})", "f.json")); });
  EXPECT_NE(msg.find("SIMD 5 does not divide MW 576"), std::string::npos) << msg;
  msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"depth": 4}})", "f.json")); });
  EXPECT_NE(msg.find("layer 'MVAU_hls_0' (MVAU_hls) has no attribute 'depth'"), std::string::npos) << msg;
  msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"ram_style": "bram"}})", "f.json")); });
  EXPECT_NE(msg.find("attribute 'ram_style': 'bram' is not one of"), std::string::npos) << msg;
  msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"PE": "8"}})", "f.json")); });
  EXPECT_NE(msg.find("'PE' must be an integer"), std::string::npos) << msg;
  msg = error_of([&] { apply_folding(hw, parse_folding(R"({"MVAU_hls_0": {"PE": 0}})", "f.json")); });
  EXPECT_NE(msg.find("must be at least 1"), std::string::npos) << msg;
  msg = error_of([&] { parse_folding("{not json", "f.json"); });
  EXPECT_NE(msg.find("folding f.json: not valid JSON"), std::string::npos) << msg;
  msg = error_of([&] { parse_folding("[1]", "f.json"); });
  EXPECT_NE(msg.find("top level must be an object"), std::string::npos) << msg;
  msg = error_of([&] { parse_folding(R"({"Defaults": {"PE": 2}})", "f.json"); });
  EXPECT_NE(msg.find("Defaults 'PE' must be [value"), std::string::npos) << msg;
  msg = error_of([&] { parse_folding(R"({"MVAU_hls_0": {"PE": 1.5}})", "f.json"); });
  EXPECT_NE(msg.find("attribute 'PE' must be an integer or a string"), std::string::npos) << msg;
  msg = error_of([&] { read_folding_file("/nonexistent/fold.json"); });
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
  // a folding for a slice may name layers the slice does not have
  HwGraph slice = hw_slice(hw, 0, 2);
  EXPECT_NO_THROW(apply_folding(slice, parse_folding(R"({"MVAU_hls_5": {"PE": 1}})", "f.json"), true));
}

TEST(CostFolding, SeparateThresholdsHint) {
  HwGraph hw = cnv();
  const std::string msg = error_of([&] {
    apply_folding(hw, read_folding_file(std::string(DNNSPLIT_SOURCE_DIR) +
                                        "/data/foldings/mobilenet-v1_zcu102_folding_config.json"));
  });
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lower with --separate-thresholds"), std::string::npos) << msg;
}

HwLayer single_mvau() {
  HwLayer l;
  l.name = "MVAU_hls_0";
  l.op = HwOp::kMvau;
  l.mw = 64;
  l.mh = 64;
  l.input_type = DataType::of_int(2);
  l.weight_type = DataType::of_int(2);
  l.weights = WeightStats{-1, 1, 40};
  return l;
}

TEST(CostAutoFold, MvauSimdLimitedByWeightWidthThenPe) {
  HwGraph hw;
  hw.layers = {single_mvau()};
  // target 100 cycles at 1 MHz = 10,000 frames/s. SIMD 1..16 (W*SIMD <= 36), SIMD 32 gives 128
  // cycles but 2*32 > 36 bits: back to 16 (256 cycles). PE 1, 2, 4: 64 < 100.
  const AutoFoldResult r = auto_fold(hw, 10000.0, 1.0);
  EXPECT_EQ(r.target_cycles, 100);
  EXPECT_EQ(hw.layers[0].folding.simd, 16);
  EXPECT_EQ(hw.layers[0].folding.pe, 4);
  EXPECT_EQ(r.achieved_cycles, 64);
  EXPECT_FALSE(r.relaxed);
}

TEST(CostAutoFold, ThresholdingAndRelaxation) {
  HwLayer thr;
  thr.name = "Thresholding_rtl_0";
  thr.op = HwOp::kThresholding;
  thr.backend = Backend::kRtl;
  thr.channels = 64;
  thr.num_vectors = 100;
  thr.input_type = DataType::of_int(8);
  thr.output_type = DataType::of_int(2);
  HwGraph hw;
  hw.layers = {thr};
  auto_fold(hw, 1000.0, 1.0);  // target 1000: PE 8 gives 800
  EXPECT_EQ(hw.layers[0].folding.pe, 8);
  // A max pool cannot fold (2D StreamingMaxPool has no PE): 980 cycles hold the target at 980.
  HwLayer pool;
  pool.name = "StreamingMaxPool_hls_0";
  pool.op = HwOp::kStreamingMaxPool;
  pool.channels = 64;
  pool.ifm = {28, 28};
  pool.kernel = {2, 2};
  hw.layers = {thr, pool};
  const AutoFoldResult r = auto_fold(hw, 10000.0, 1.0);  // target 100
  EXPECT_TRUE(r.relaxed);
  EXPECT_EQ(r.achieved_cycles, 980);
  EXPECT_EQ(hw.layers[0].folding.pe, 8);  // second pass: PE 8 -> 800 < 980
}

TEST(CostAutoFold, SwgParallelWindowAndDepthwiseProducer) {
  HwLayer swg;
  swg.name = "ConvolutionInputGenerator_rtl_0";
  swg.op = HwOp::kSwg;
  swg.backend = Backend::kRtl;
  swg.channels = 3;
  swg.ifm = {32, 32};
  swg.ofm = {30, 30};
  swg.kernel = {3, 3};
  swg.input_type = swg.output_type = DataType::of_uint(8);
  HwGraph hw;
  hw.layers = {swg};
  auto_fold(hw, 1000.0, 1.0);  // SIMD 3 still 8,167 cycles: parallel window, 32*32 + 2
  EXPECT_EQ(hw.layers[0].folding.simd, 3);
  EXPECT_TRUE(hw.layers[0].folding.parallel_window);
  EXPECT_EQ(estimate(hw).max_cycles, 1026);

  HwLayer dw = swg;
  dw.channels = 16;
  dw.depthwise = true;
  dw.input_type = dw.output_type = DataType::of_uint(4);
  HwLayer vvau;
  vvau.name = "VVAU_hls_0";
  vvau.op = HwOp::kVvau;
  vvau.channels = 16;
  vvau.kernel = {3, 3};
  vvau.num_vectors = 900;
  vvau.input_type = DataType::of_uint(4);
  vvau.weight_type = DataType::of_int(4);
  vvau.weights = WeightStats{-7, 7, 40};
  vvau.inputs = {0};
  hw.layers = {dw, vvau};
  // target 10,000: PE over divisors of 16: 16*9/PE*900 < 10,000 needs PE 16 (8,100); the SWG follows
  auto_fold(hw, 100.0, 1.0);
  EXPECT_EQ(hw.layers[1].folding.pe, 16);
  EXPECT_EQ(hw.layers[0].folding.simd, 16);
  EXPECT_FALSE(hw.layers[0].folding.parallel_window);
}

TEST(CostAutoFold, FmPaddingRtlQuirk) {
  HwLayer pad;
  pad.name = "FMPadding_rtl_0";
  pad.op = HwOp::kFmPadding;
  pad.backend = Backend::kRtl;
  pad.channels = 32;
  pad.ofm = {10, 10};
  HwGraph hw;
  hw.layers = {pad};
  auto_fold(hw, 1e6 / 1000.0, 1.0, 36, true);  // FINN: no rule, SIMD stays 1 (3,200 cycles)
  EXPECT_EQ(hw.layers[0].folding.simd, 1);
  auto_fold(hw, 1e6 / 1000.0, 1.0);  // corrected: SIMD 4 -> 800 < 1000
  EXPECT_EQ(hw.layers[0].folding.simd, 4);
}

TEST(CostAutoFold, CnvMeetsItsTargetAndRejectsBadInput) {
  HwGraph hw = cnv();
  const AutoFoldResult r = auto_fold(hw, 1000.0, 100.0);  // 100,000 cycles per frame
  EXPECT_EQ(r.target_cycles, 100000);
  const Estimate e = estimate(hw);
  EXPECT_LT(e.max_cycles, 100000);
  EXPECT_FALSE(r.relaxed);
  EXPECT_NE(error_of([&] { auto_fold(hw, 0.0, 100.0); }).find("frames/s must be positive"), std::string::npos);
  EXPECT_NE(error_of([&] { auto_fold(hw, 10.0, -1.0); }).find("clock must be positive"), std::string::npos);
  EXPECT_NE(error_of([&] { auto_fold(hw, 1e9, 100.0); }).find("less than one cycle"), std::string::npos);
}

}  // namespace
}  // namespace dnnsplit::cost
