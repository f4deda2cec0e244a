// Every formula branch of the per-layer estimates against values computed by hand from
// finn-facts.md (a) (the arithmetic is written out next to each expectation).
#include <gtest/gtest.h>

#include "../../src/cost/layers.h"
#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"

namespace dnnsplit::cost {
namespace {

using detail::bram18_finn_r;

TEST(CostMemory, Bram18LadderMvau) {
  EXPECT_EQ(bram18_finn_r(1, 16385, false), 2);  // ceil(16385/16384)
  EXPECT_EQ(bram18_finn_r(2, 8192, false), 1);   // ceil(8192/8192)
  EXPECT_EQ(bram18_finn_r(2, 8193, false), 2);
  EXPECT_EQ(bram18_finn_r(3, 5000, false), 2);  // ceil(5000/4096) * ceil(3/4)
  EXPECT_EQ(bram18_finn_r(8, 2049, false), 2);  // ceil(2049/2048) * ceil(8/9)
  EXPECT_EQ(bram18_finn_r(9, 2048, false), 1);
  EXPECT_EQ(bram18_finn_r(16, 300, false), 1);    // w <= 18: ceil(300/1024) * ceil(16/18)
  EXPECT_EQ(bram18_finn_r(32, 600, false), 2);    // depth > 512: ceil(600/1024) * ceil(32/18)
  EXPECT_EQ(bram18_finn_r(32, 512, false), 1);    // else: ceil(512/512) * ceil(32/36)
  EXPECT_EQ(bram18_finn_r(72, 100, false), 2);    // ceil(100/512) * ceil(72/36)
  EXPECT_EQ(bram18_finn_r(512, 144, false), 15);  // CNV MVAU_hls_1: ceil(144/512) * ceil(512/36)
}

TEST(CostMemory, Bram18LadderVvauDivisors) {
  EXPECT_EQ(bram18_finn_r(9, 100, false), 1);
  EXPECT_EQ(bram18_finn_r(9, 100, true), 2);  // ceil(9/8)
  EXPECT_EQ(bram18_finn_r(17, 100, false), 1);
  EXPECT_EQ(bram18_finn_r(17, 100, true), 2);  // ceil(17/16)
  EXPECT_EQ(bram18_finn_r(33, 100, false), 1);
  EXPECT_EQ(bram18_finn_r(33, 100, true), 2);  // ceil(33/32)
}

TEST(CostMemory, UramAndAccumulatorBound) {
  EXPECT_EQ(detail::uram_blocks(73, 4097), 4);  // ceil(73/72) * ceil(4097/4096)
  EXPECT_EQ(detail::uram_blocks(72, 4096), 1);
  EXPECT_DOUBLE_EQ(detail::acc_bound_bits(11.0), 13.0);  // ceil(11 + log2(1 + 2^-11) + 1) = ceil(12.0007)
  EXPECT_DOUBLE_EQ(detail::acc_bound_bits(10.5), 12.0);  // ceil(11.5 + small)
}

TEST(CostMemory, PrimitiveChoiceFewestWastedBitsTiesToEarlier) {
  auto c = detail::pick_memory_primitive(8, 384, {"URAM", "BRAM18", "LUTRAM"});
  EXPECT_EQ(c.kind, "LUTRAM");  // 8 x ceil(384/64) = 48 LUTs, no waste
  EXPECT_EQ(c.count, 48);
  EXPECT_EQ(c.waste_bits, 0);
  c = detail::pick_memory_primitive(18, 1024, {"URAM", "BRAM18", "LUTRAM"});
  EXPECT_EQ(c.primitive, "BRAM18_18x1024");  // ties with 288 LUTRAMs at zero waste; BRAM comes first
  c = detail::pick_memory_primitive(16, 512, {"URAM"});
  EXPECT_EQ(c.primitive, "URAM_72x4096");  // 72x4096 and 36x8192 waste the same
}

TEST(CostDataType, NamesRangesAndSmallest) {
  EXPECT_EQ(DataType::of_int(13).name(), "INT13");
  EXPECT_EQ(DataType::of_int(13).min(), -4096);
  EXPECT_EQ(DataType::of_uint(8).max(), 255);
  EXPECT_EQ(DataType::smallest_for(0).name(), "BINARY");
  EXPECT_EQ(DataType::smallest_for(1).name(), "BINARY");
  EXPECT_EQ(DataType::smallest_for(2).name(), "UINT2");
  EXPECT_EQ(DataType::smallest_for(255).name(), "UINT8");
  EXPECT_EQ(DataType::smallest_for(256).name(), "UINT9");
  EXPECT_EQ(DataType::smallest_for(-1).name(), "BIPOLAR");
  EXPECT_EQ(DataType::smallest_for(-2).name(), "INT2");
  EXPECT_EQ(DataType::smallest_for(-129).name(), "INT9");
  EXPECT_EQ(DataType::smallest_for_range(-1, 1).name(), "INT2");  // |-1| > 1 is false: smallest(-2)
  EXPECT_EQ(DataType::smallest_for_range(-128, 127).name(), "INT8");
  EXPECT_EQ(DataType::smallest_for_range(0, 255).name(), "UINT8");
  EXPECT_EQ(DataType::parse("UINT4")->name(), "UINT4");
  EXPECT_TRUE(DataType::parse("BIPOLAR")->bipolar);
  EXPECT_FALSE(DataType::parse("FLOAT32").has_value());
  EXPECT_FALSE(DataType::parse("INT").has_value());
  EXPECT_FALSE(DataType::parse("INTx").has_value());
}

HwLayer mvau(int64_t mw, int64_t mh, DataType in, DataType w, WeightStats stats) {
  HwLayer l;
  l.name = "MVAU_hls_0";
  l.op = HwOp::kMvau;
  l.mw = mw;
  l.mh = mh;
  l.input_type = in;
  l.weight_type = w;
  l.weights = stats;
  return l;
}

TEST(CostDataType, WeightMinimisation) {
  HwLayer l = mvau(8, 8, DataType::of_int(2), DataType::of_int(4), {-1, 1, 4});
  EXPECT_EQ(detail::effective_weight_type(l).name(), "INT2");  // smallest(-1 - 1)
  l.weights = WeightStats{-7, 3, 10};
  EXPECT_EQ(detail::effective_weight_type(l).name(), "INT4");  // |-7| > 3: smallest(-7)
  l.weights = WeightStats{0, 5, 10};
  EXPECT_EQ(detail::effective_weight_type(l).name(), "UINT3");
  l.folding.runtime_writeable_weights = true;
  EXPECT_EQ(detail::effective_weight_type(l).name(), "INT4");  // declared type kept
}

TEST(CostDataType, AccumulatorMinimisation) {
  // max |input| 128 (INT8) x largest column sum: 128 * 20 = 2560, signed -> m = 2561 -> INT13
  HwLayer l = mvau(27, 64, DataType::of_int(8), DataType::of_int(2), {-1, 1, 20});
  EXPECT_EQ(detail::accumulator_type(l).name(), "INT13");
  l.weights->max_abs_col_sum = 15;  // 1920 -> m = 1921 -> 11 bits + sign
  EXPECT_EQ(detail::accumulator_type(l).name(), "INT12");
  // unsigned input, non-negative weights: 15 * 10 = 150 -> UINT8
  l = mvau(10, 4, DataType::of_uint(4), DataType::of_uint(2), {0, 2, 10});
  EXPECT_EQ(detail::accumulator_type(l).name(), "UINT8");
  // runtime-writeable: worst case over INT2 (-2..1), 100 inputs of UINT2 (max 3):
  // lower range -600..600, upper 0..300 -> acc_min -600, acc_max 300 -> m = 600 -> INT11
  l = mvau(100, 4, DataType::of_uint(2), DataType::of_int(2), {-1, 1, 50});
  l.folding.runtime_writeable_weights = true;
  EXPECT_EQ(detail::accumulator_type(l).name(), "INT11");
  // the graph's last node without thresholds rounds to whole bytes
  l.feeds_graph_output = true;
  EXPECT_EQ(detail::accumulator_type(l).name(), "INT16");
  l.acc_type = DataType::of_int(32);  // an explicit accumulator (FINN file) wins
  EXPECT_EQ(detail::accumulator_type(l).name(), "INT32");
}

// CNV MVAU_hls_0: MW 27, MH 64, PE 8, SIMD 3, INT8 x INT2, accumulator INT13, 900 vectors.
HwLayer cnv_mvau0() {
  HwLayer l = mvau(27, 64, DataType::of_int(8), DataType::of_int(2), {-1, 1, 20});
  l.folding.pe = 8;
  l.folding.simd = 3;
  l.num_vectors = 900;
  l.thresholds = true;
  l.output_type = DataType::of_int(2);
  return l;
}

TEST(CostMvau, HlsBlockWeights) {
  const LayerEstimate e = estimate_layer(cnv_mvau0());
  EXPECT_EQ(e.cycles, 64800);  // (64/8) * (27/3) * 900
  EXPECT_EQ(e.res.bram18, 2);  // width 48 > 18, WMEM 72 <= 512: ceil(72/512) * ceil(48/36)
  EXPECT_EQ(e.res.uram, 0);
  // mult 3*(2*ceil(10/6)-1)*10 = 90, adder 10*(2*3-1) = 50, acc min(13, 14) = 13:
  // int(300 + 1.1 * 8 * 153) = int(1646.4)
  EXPECT_EQ(e.res.lut, 1646);
  EXPECT_EQ(e.res.lutram, 0);
  EXPECT_EQ(e.res.dsp, 0);
  EXPECT_EQ(e.acc_type.name(), "INT13");
}

TEST(CostMvau, MemoryStyles) {
  HwLayer l = cnv_mvau0();
  l.folding.ram_style = RamStyle::kDistributed;
  LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18, 0);
  EXPECT_EQ(e.res.lutram, 96);  // c2 = 48 * ceil(72/64)
  EXPECT_EQ(e.res.lut, 1742);   // 1646 + 96
  l.folding.ram_style = RamStyle::kUltra;
  e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18, 0);
  EXPECT_EQ(e.res.uram, 1);  // ceil(48/72) * ceil(72/4096)
  EXPECT_EQ(e.res.lut, 1646);
  l.folding.ram_style = RamStyle::kAuto;
  l.folding.mem_mode = MemMode::kExternal;
  e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18 + e.res.uram + e.res.lutram, 0);
  l.folding.mem_mode = MemMode::kInternalEmbedded;  // WMEM 72 <= 128: LUTRAM
  e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18, 0);
  EXPECT_EQ(e.res.lut, 1742);
  l.folding.simd = 1;  // WMEM 216 > 128, width 16: BRAM ceil(216/1024) * ceil(16/18) = 1
  e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18, 1);
  EXPECT_EQ(e.res.uram, 0);
  EstimateOptions exact;
  exact.finn_exact = true;
  e = estimate_layer(l, exact);  // FINN also counts the same memory as URAM
  EXPECT_EQ(e.res.bram18, 1);
  EXPECT_EQ(e.res.uram, 1);
}

TEST(CostMvau, DspMultipliersAndDistributedThresholds) {
  HwLayer l = cnv_mvau0();
  l.folding.res_type = ResType::kDsp;
  LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.res.dsp, 24);   // 8 * 3 * ceil(10/48)
  EXPECT_EQ(e.res.lut, 854);  // int(300 + 1.1 * 8 * (0 + 50 + 13))
  l.folding.res_type = ResType::kLut;
  l.folding.ram_style_thresholds = RamStyle::kDistributed;
  e = estimate_layer(l);
  // B = 2: 3 thresholds; TMEM 8: thr = 3*13*ceil(8/64) = 39, cmp = 39
  EXPECT_EQ(e.res.lut, 2332);    // int(300 + 1.1 * 8 * (153 + 78))
  EXPECT_EQ(e.res.lutram, 312);  // 8 * 39
}

TEST(CostMvau, RtlDspAndLut) {
  HwLayer l = cnv_mvau0();
  l.thresholds = false;
  l.backend = Backend::kRtl;
  EstimateOptions o;
  o.dsp_block = DspBlock::kDsp48E1;
  LayerEstimate e = estimate_layer(l, o);
  EXPECT_EQ(e.res.dsp, 6);    // ceil(8/4) * 3
  EXPECT_EQ(e.res.lut, 414);  // control + one accumulator per PE: int(300 + 1.1 * 8 * 13)
  EXPECT_FALSE(e.notes.empty());
  o.dsp_block = DspBlock::kDsp58;
  EXPECT_EQ(estimate_layer(l, o).res.dsp, 8);  // 8 * ceil(3/3)
  o.finn_exact = true;
  EXPECT_EQ(estimate_layer(l, o).res.lut, 0);  // FINN's MVAU_rtl figure
}

TEST(CostMvau, FoldingMustDivide) {
  HwLayer l = cnv_mvau0();
  l.folding.pe = 3;
  try {
    estimate_layer(l);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("MVAU_hls_0: PE 3 does not divide MH 64"), std::string::npos) << e.what();
  }
  l.folding.pe = 8;
  l.folding.simd = 2;
  EXPECT_THROW(estimate_layer(l), Error);
}

// Depthwise 3x3 over 32 channels, PE 4, UINT4 x INT4, 111x111 outputs, accumulator INT11.
HwLayer vvau() {
  HwLayer l;
  l.name = "VVAU_hls_0";
  l.op = HwOp::kVvau;
  l.channels = 32;
  l.kernel = {3, 3};
  l.num_vectors = 111 * 111;
  l.input_type = DataType::of_uint(4);
  l.weight_type = DataType::of_int(4);
  l.weights = WeightStats{-7, 7, 40};  // 15 * 40 = 600 -> m = 601 -> INT11
  l.folding.pe = 4;
  return l;
}

TEST(CostVvau, CyclesLutAndSmallAutoMemory) {
  HwLayer l = vvau();
  EstimateOptions exact;
  exact.finn_exact = true;
  LayerEstimate e = estimate_layer(l, exact);
  EXPECT_EQ(e.cycles, 887112);  // 32 * 9 / 4 * 12321
  EXPECT_EQ(e.acc_type.name(), "INT11");
  EXPECT_EQ(e.res.bram18, 0);  // auto with WMEM 72 <= 128
  // mult 1*(2*2-1)*8 = 24, adder 8, acc min(11, ceil(10.17+1)) = 11: int(300 + 1.1*4*43)
  EXPECT_EQ(e.res.lut, 489);
  e = estimate_layer(l);  // corrected: the shallow memory as LUTRAM, 16 * ceil(72/64)
  EXPECT_EQ(e.res.lutram, 32);
  EXPECT_EQ(e.res.lut, 521);
  l.folding.ram_style = RamStyle::kBlock;
  EXPECT_EQ(estimate_layer(l).res.bram18, 1);  // width 16: ceil(72/1024) * ceil(16/16)
  l.folding.res_type = ResType::kDsp;
  EXPECT_EQ(estimate_layer(l).res.dsp, 4);  // 4 * ceil(8/48)
}

TEST(CostVvau, RtlOnVersal) {
  HwLayer l = vvau();
  l.backend = Backend::kRtl;
  EstimateOptions o;
  o.dsp_block = DspBlock::kDsp58;
  LayerEstimate e = estimate_layer(l, o);
  EXPECT_EQ(e.res.dsp, 4);    // PE * ceil(SIMD/3)
  EXPECT_EQ(e.res.lut, 380);  // int(300 + 1.1 * 4 * 11) + 32 LUTRAM
  o.finn_exact = true;
  EXPECT_EQ(estimate_layer(l, o).res.lut, 0);
}

TEST(CostVvau, EmbeddedThresholdsAlwaysCounted) {
  HwLayer l = vvau();
  l.thresholds = true;
  l.output_type = DataType::of_uint(4);
  EstimateOptions exact;
  exact.finn_exact = true;
  // thr = 15 * 11 * 8 / 64 = 20.625, cmp = 165: int(300 + 1.1 * 4 * 228.625) = int(1305.95)
  EXPECT_EQ(estimate_layer(l, exact).res.lut, 1305);
}

HwLayer thresholding(int64_t channels, int64_t pe, DataType in, DataType out) {
  HwLayer l;
  l.name = "Thresholding_rtl_0";
  l.op = HwOp::kThresholding;
  l.backend = Backend::kRtl;
  l.channels = channels;
  l.input_type = in;
  l.output_type = out;
  l.num_vectors = 1024;
  l.folding.pe = pe;
  return l;
}

TEST(CostThresholding, HlsComparatorsAndMemory) {
  HwLayer l = thresholding(64, 4, DataType::of_int(12), DataType::of_int(2));
  l.backend = Backend::kHls;
  l.folding.ram_style = RamStyle::kDistributed;
  LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.cycles, 16 * 1024);
  EXPECT_EQ(e.res.lut, 96);  // 12*4 + 4*12*ceil(16/64)
  l.folding.ram_style = RamStyle::kBlock;
  e = estimate_layer(l);
  EXPECT_EQ(e.res.lut, 48);
  EXPECT_EQ(e.res.bram18, 3);  // ceil(48/16) * ceil(16/1024)
}

TEST(CostThresholding, RtlCnvInputQuantizer) {
  // 3 channels, UINT8 in, INT8 out: stage memories 3*2^x deep, 8 bits wide, all LUTRAM:
  // 8 * (1+1+1+1+1 + 2 + 3 + 6) = 128
  const LayerEstimate e = estimate_layer(thresholding(3, 1, DataType::of_uint(8), DataType::of_int(8)));
  EXPECT_EQ(e.res.lut, 128);
  EXPECT_EQ(e.res.bram18, 0);
  EXPECT_EQ(e.cycles, 3 * 1024);
}

TEST(CostThresholding, RtlHiddenBramQuirk) {
  // INT18 thresholds, 1 output bit, depth 1024: BRAM18_18x1024 ties LUTRAM at zero waste.
  const HwLayer l = thresholding(1024, 1, DataType::of_int(18), DataType{1, true, true});
  EstimateOptions exact;
  exact.finn_exact = true;
  LayerEstimate e = estimate_layer(l, exact);
  EXPECT_EQ(e.res.lut + e.res.bram18, 0);  // FINN's report: nothing
  EXPECT_FALSE(e.notes.empty());
  e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18, 1);
  EXPECT_EQ(e.res.lut, 0);
}

TEST(CostThresholding, RtlDepthTriggers) {
  // INT16 in, UINT4 out, 64 channels: depths 64, 128, 256, 512; BRAM from 256, URAM from 512.
  HwLayer l = thresholding(64, 1, DataType::of_int(16), DataType::of_uint(4));
  l.folding.depth_trigger_bram = 256;
  l.folding.depth_trigger_uram = 512;
  EstimateOptions o;
  o.has_uram = true;
  LayerEstimate e = estimate_layer(l, o);
  EXPECT_EQ(e.res.lut, 48);    // 16*1 + 16*2 LUTRAM
  EXPECT_EQ(e.res.bram18, 1);  // 16x256 in one BRAM18_36x512
  EXPECT_EQ(e.res.uram, 1);    // 16x512 in one URAM_72x4096
  o.has_uram = false;          // a part without URAM: the deepest stage goes to BRAM
  e = estimate_layer(l, o);
  EXPECT_EQ(e.res.bram18, 2);
  EXPECT_EQ(e.res.uram, 0);
  o.finn_exact = true;
  e = estimate_layer(l, o);
  EXPECT_EQ(e.res.bram18, 0);  // hidden by FINN
  EXPECT_EQ(e.res.uram, 1);    // and URAM even where there is none
}

HwLayer swg(int64_t c, int64_t simd, int64_t ifm, int64_t k, int64_t stride, int64_t ofm, DataType t) {
  HwLayer l;
  l.name = "ConvolutionInputGenerator_rtl_0";
  l.op = HwOp::kSwg;
  l.backend = Backend::kRtl;
  l.channels = c;
  l.ifm = {ifm, ifm};
  l.ofm = {ofm, ofm};
  l.kernel = {k, k};
  l.stride = {stride, stride};
  l.input_type = l.output_type = t;
  l.folding.simd = simd;
  l.folding.ram_style = RamStyle::kDistributed;
  return l;
}

TEST(CostSwg, RtlDefaultStyle) {
  HwLayer l = swg(3, 3, 32, 3, 1, 30, DataType::of_int(8));
  LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.cycles, 8167);  // buffer (2*32+2+1) = 67, + 30 * max(30*9, 32)
  EXPECT_EQ(e.res.lut, 348);  // 300 + 24 * ceil(67/38)
  l.folding.ram_style = RamStyle::kBlock;
  e = estimate_layer(l);
  EXPECT_EQ(e.res.bram18, 1);  // depth 67 -> 36-bit wide, ceil(24/36)
  EXPECT_EQ(e.res.lut, 300);
  // MobileNet SWG_0: stride 2, 3 channels at SIMD 1: buffer (2*224+3)*3 + (224-9)*3 = 1998
  l = swg(3, 1, 224, 3, 2, 111, DataType::of_uint(8));
  e = estimate_layer(l);
  EXPECT_EQ(e.cycles, 334020);  // 1353 + 111 * max(111*9*3, 2*224*3)
  EXPECT_EQ(e.res.lut, 724);    // 300 + 8 * ceil(1998/38)
  l.folding.ram_style = RamStyle::kUltra;
  EXPECT_EQ(estimate_layer(l).res.uram, 1);
}

TEST(CostSwg, RtlDepthwiseAndParallel) {
  HwLayer l = swg(32, 16, 113, 3, 1, 111, DataType::of_uint(4));
  l.depthwise = true;
  EXPECT_EQ(estimate_layer(l).cycles, 222236);  // 458 + 111 * 1998
  l = swg(64, 8, 113, 3, 2, 56, DataType::of_uint(4));
  l.depthwise = true;
  // 1832 + 56 * (4032 + 56*1*7) + 1*113*8
  EXPECT_EQ(estimate_layer(l).cycles, 250480);
  l = swg(16, 16, 10, 3, 1, 8, DataType::of_uint(4));
  l.depthwise = true;
  l.folding.parallel_window = true;
  l.folding.ram_style = RamStyle::kBlock;
  const LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.cycles, 102);    // 10*10*1 + 2
  EXPECT_EQ(e.res.bram18, 4);  // 2 line buffers of depth 7, width 64: 2 * ceil(64/36)
  l.depthwise = false;
  l.folding.simd = 8;  // parallel needs SIMD = channels unless depthwise
  EXPECT_THROW(estimate_layer(l), Error);
}

TEST(CostSwg, RtlCascadedBram) {
  // depth (2*260+3)*64 = 33472 > 16384: 1-bit wide RAMs, 3 deep x 4 wide, remainder 704 deep
  // fits 18-bit RAMs (1 wide): savings 4 - 1 = 3 -> 12 - 3 = 9
  HwLayer l = swg(64, 1, 260, 3, 1, 258, DataType::of_uint(4));
  l.folding.ram_style = RamStyle::kAuto;
  EXPECT_EQ(estimate_layer(l).res.bram18, 9);
}

TEST(CostSwg, HlsFormulas) {
  HwLayer l = swg(16, 16, 34, 3, 1, 32, DataType::of_int(4));
  l.backend = Backend::kHls;
  l.folding.ram_style = RamStyle::kBlock;
  const LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.cycles, 9318);   // 34*3*1*1 + 32 * max(32*9, 34)
  EXPECT_EQ(e.res.bram18, 8);  // (3+1) * ceil(64/36)
  EXPECT_EQ(e.res.lut, 300);
}

TEST(CostStreamOps, CycleFormulas) {
  HwLayer l;
  l.name = "StreamingMaxPool_hls_0";
  l.op = HwOp::kStreamingMaxPool;
  l.channels = 64;
  l.ifm = {28, 28};
  l.kernel = {2, 2};
  EXPECT_EQ(estimate_layer(l).cycles, 980);  // 784 * (1 + 1/4)
  l.ifm = {10, 10};
  EXPECT_EQ(estimate_layer(l).cycles, 125);

  HwLayer pad;
  pad.name = "FMPadding_rtl_0";
  pad.op = HwOp::kFmPadding;
  pad.channels = 32;
  pad.ofm = {113, 113};
  pad.folding.simd = 2;
  EXPECT_EQ(estimate_layer(pad).cycles, 204304);  // 16 * 113^2

  HwLayer pool;
  pool.name = "Pool_hls_0";
  pool.op = HwOp::kPool;
  pool.channels = 1024;
  pool.kernel = {7, 7};
  pool.ofm = {1, 1};
  EXPECT_EQ(estimate_layer(pool).cycles, 50176);  // 1024 * 49

  HwLayer gap;
  gap.name = "GlobalAccPool_hls_0";
  gap.op = HwOp::kGlobalAccPool;
  gap.channels = 64;
  gap.num_vectors = 64;
  gap.folding.pe = 2;
  EXPECT_EQ(estimate_layer(gap).cycles, 2080);  // 32 * 64 + 32

  HwLayer sel;
  sel.name = "LabelSelect_hls_0";
  sel.op = HwOp::kLabelSelect;
  sel.channels = 1000;
  EXPECT_EQ(estimate_layer(sel).cycles, 1000);
  sel.folding.pe = 4;
  EXPECT_EQ(estimate_layer(sel).cycles, 250);
  sel.folding.pe = 3;
  EXPECT_THROW(estimate_layer(sel), Error);

  HwLayer add;
  add.name = "AddStreams_hls_0";
  add.op = HwOp::kAddStreams;
  add.channels = 16;
  add.num_vectors = 1024;
  add.folding.pe = 16;
  EXPECT_EQ(estimate_layer(add).cycles, 1024);
  add.op = HwOp::kDuplicateStreams;
  EXPECT_EQ(estimate_layer(add).cycles, 1024);

  HwLayer down;
  down.name = "DownSampler_hls_0";
  down.op = HwOp::kDownSampler;
  down.channels = 64;
  down.ifm = {28, 28};
  down.folding.simd = 4;
  EXPECT_EQ(estimate_layer(down).cycles, 12544);  // 16 * 784
}

TEST(CostStreamOps, ChannelwiseOpMemory) {
  HwLayer l;
  l.name = "ChannelwiseOp_hls_0";
  l.op = HwOp::kChannelwiseOp;
  l.channels = 1000;
  l.input_type = DataType::of_int(20);
  l.folding.ram_style = RamStyle::kDistributed;
  LayerEstimate e = estimate_layer(l);
  EXPECT_EQ(e.cycles, 1000);
  EXPECT_EQ(e.res.lut, 340);  // 20 + 20 * ceil(1000/64)
  l.folding.ram_style = RamStyle::kBlock;
  e = estimate_layer(l);
  EXPECT_EQ(e.res.lut, 20);
  EXPECT_EQ(e.res.bram18, 2);  // ceil(20/16) * ceil(1000/1024)
}

}  // namespace
}  // namespace dnnsplit::cost
