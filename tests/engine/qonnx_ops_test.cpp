// QONNX custom ops against hand-computed values (semantics: finn-facts.md (f)).
#include <gtest/gtest.h>

#include "engine/engine_test_util.h"

namespace dnnsplit::engine {
namespace {

using namespace test_util;

ir::Node quant(int64_t is_signed, int64_t narrow, const std::string& mode) {
  ir::Node n = qonnx_node("Quant", 4);
  n.attributes["signed"] = is_signed;
  n.attributes["narrow"] = narrow;
  n.attributes["rounding_mode"] = mode;
  return n;
}

// Quant with scale 1, zero point 0, 8 bits: the output is the rounded code itself.
std::vector<float> round_codes(const std::string& mode) {
  const Tensor x = floats({5}, {2.5F, -2.5F, 2.4F, -2.6F, 3.5F});
  return run1(quant(1, 0, mode), {x, scalar(1), scalar(0), scalar(8)}).f32;
}

TEST(QuantOp, EveryRoundingMode) {
  EXPECT_EQ(round_codes("ROUND"), (std::vector<float>{2, -2, 2, -3, 4}));  // ties to even
  EXPECT_EQ(round_codes("CEIL"), (std::vector<float>{3, -2, 3, -2, 4}));
  EXPECT_EQ(round_codes("FLOOR"), (std::vector<float>{2, -3, 2, -3, 3}));
  EXPECT_EQ(round_codes("UP"), (std::vector<float>{3, -3, 3, -3, 4}));         // away from zero
  EXPECT_EQ(round_codes("DOWN"), (std::vector<float>{2, -2, 2, -2, 3}));       // toward zero
  EXPECT_EQ(round_codes("HALF_UP"), (std::vector<float>{3, -3, 2, -3, 4}));    // ties away from zero
  EXPECT_EQ(round_codes("HALF_DOWN"), (std::vector<float>{2, -2, 2, -3, 3}));  // ties toward zero
  EXPECT_EQ(round_codes("half_up"), round_codes("HALF_UP"));                  // case-insensitive
}

TEST(QuantOp, ScaleClampAndRound) {
  // 4-bit signed, scale 0.5: codes in [-8, 7]; x/0.5 = 0.5, 1.5, -0.5, -1.5, 2.6, 200, -200.
  const Tensor x = floats({7}, {0.25F, 0.75F, -0.25F, -0.75F, 1.3F, 100.0F, -100.0F});
  const Tensor y = run1(quant(1, 0, "ROUND"), {x, scalar(0.5F), scalar(0), scalar(4)});
  expect_values(y, {7}, {0.0F, 1.0F, -0.0F, -1.0F, 1.5F, 3.5F, -4.0F});
}

TEST(QuantOp, SignedUnsignedNarrowRanges) {
  const Tensor x = floats({2}, {-5.0F, 5.0F});
  auto range = [&](int64_t s, int64_t n) { return run1(quant(s, n, "ROUND"), {x, scalar(1), scalar(0), scalar(2)}).f32; };
  EXPECT_EQ(range(1, 0), (std::vector<float>{-2, 1}));  // INT2
  EXPECT_EQ(range(1, 1), (std::vector<float>{-1, 1}));  // INT2 narrow
  EXPECT_EQ(range(0, 0), (std::vector<float>{0, 3}));   // UINT2
  EXPECT_EQ(range(0, 1), (std::vector<float>{0, 2}));   // UINT2 narrow
}

TEST(QuantOp, PerChannelScale) {
  // Shape (1, 2, 2), scale (1, 2, 1) = [1, 0.25]: channel 1 codes 5.2 -> 5, -10.4 -> -10.
  const Tensor x = floats({1, 2, 2}, {1.3F, -2.6F, 1.3F, -2.6F});
  const Tensor scale = floats({1, 2, 1}, {1.0F, 0.25F});
  const Tensor y = run1(quant(1, 0, "ROUND"), {x, scale, scalar(0), scalar(8)});
  expect_values(y, {1, 2, 2}, {1.0F, -3.0F, 1.25F, -2.5F});
}

TEST(QuantOp, ZeroPoint) {
  // UINT3, zero point 2: q = x + 2 = -1, 3.4, 11 -> clamp 0, 3.4, 7 -> 0, 3, 7; y = q - 2.
  const Tensor y = run1(quant(0, 0, "ROUND"), {floats({3}, {-3.0F, 1.4F, 9.0F}), scalar(1), scalar(2), scalar(3)});
  expect_values(y, {3}, {-2.0F, 1.0F, 5.0F});
}

TEST(QuantOp, OneBitSignedIsBipolarUnsignedIsBinary) {
  const Tensor x = floats({4}, {0.0F, -0.1F, 3.0F, 0.7F});
  expect_values(run1(quant(1, 0, "ROUND"), {x, scalar(0.5F), scalar(0), scalar(1)}), {4}, {0.5F, -0.5F, 0.5F, 0.5F});
  // Unsigned 1 bit: codes {0, 1}; 0.7 rounds to 1, -0.1 clamps to 0.
  expect_values(run1(quant(0, 0, "ROUND"), {x, scalar(1), scalar(0), scalar(1)}), {4}, {0.0F, 0.0F, 1.0F, 1.0F});
}

TEST(QuantOp, BitWidthAsIntegerTensorAndIntQuantAlias) {
  ir::Node n = quant(1, 0, "ROUND");
  n.op_type = "IntQuant";
  n.domain = "onnx.brevitas";
  const Tensor bits = Tensor::from_ints(ElemType::kInt32, {}, {3});
  expect_values(run1(n, {floats({2}, {9.0F, -9.0F}), scalar(1), scalar(0), bits}), {2}, {3.0F, -4.0F});
}

TEST(QuantOp, BadParametersNameTheNode) {
  const Tensor x = floats({2}, {1, 2});
  const ir::Node n = quant(1, 0, "ROUND");
  EXPECT_NE(error_of([&] { run1(n, {x, scalar(1), scalar(0), scalar(2.5F)}); }).find("node 'Quant_0' (Quant)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { run1(quant(1, 0, "NEAREST"), {x, scalar(1), scalar(0), scalar(4)}); }).find("NEAREST"),
            std::string::npos);
  EXPECT_NE(error_of([&] { run1(n, {x, scalar(0), scalar(0), scalar(4)}); }).find("non-zero"), std::string::npos);
  const std::string msg = error_of([&] { run1(n, {x, floats({3}, {1, 1, 1}), scalar(0), scalar(4)}); });
  EXPECT_NE(msg.find("node 'Quant_0'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3]"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { run1(n, {x, scalar(1), scalar(0)}); }).find("takes 4 inputs, got 3"), std::string::npos);
}

TEST(BipolarQuantOp, SignTimesScale) {
  const Tensor x = floats({4}, {0.0F, -0.0F, -1e-9F, 2.0F});
  const Tensor y = run1(qonnx_node("BipolarQuant", 2), {x, scalar(3)});
  expect_values(y, {4}, {3.0F, 3.0F, -3.0F, 3.0F});  // zero (either sign) maps to +1
}

ir::Node trunc_node(int inputs, const std::string& mode) {
  ir::Node n = qonnx_node("Trunc", inputs);
  if (!mode.empty()) n.attributes["rounding_mode"] = mode;
  return n;
}

TEST(TruncOp, Version1ShiftsByBitDifference) {
  // in 8 bits -> out 4 bits: divide the rounded code by 16. 37 -> 2.3125, -37 -> -2.3125,
  // 40.4 -> 40 -> 2.5, 24 -> 1.5.
  const Tensor x = floats({4}, {37.0F, -37.0F, 40.4F, 24.0F});
  const std::vector<Tensor> args{x, scalar(1), scalar(0), scalar(8), scalar(4)};
  expect_values(run1(trunc_node(5, ""), args), {4}, {2, -3, 2, 1});  // default FLOOR
  expect_values(run1(trunc_node(5, "ROUND"), args), {4}, {2, -2, 2, 2});
  expect_values(run1(trunc_node(5, "CEIL"), args), {4}, {3, -2, 3, 2});
  // scale 0.5: 18.5 / 0.5 = 37 -> floor(2.3125) = 2 -> 2 * 0.5.
  expect_values(run1(trunc_node(5, ""), {floats({1}, {18.5F}), scalar(0.5F), scalar(0), scalar(8), scalar(4)}), {1},
                {1.0F});
}

TEST(TruncOp, Version2PowerOfTwoShiftClampAndOutputScale) {
  // out_scale 16 -> shift 16; INT3 clamp [-4, 3]: 37/16 = 2.3125, 200/16 = 12.5 -> 3.
  const Tensor x = floats({4}, {37.0F, -37.0F, 200.0F, -200.0F});
  expect_values(run1(trunc_node(6, ""), {x, scalar(1), scalar(0), scalar(8), scalar(16), scalar(3)}), {4},
                {32, -48, 48, -64});
  // out_scale 12: log2(12) = 3.58 rounds to 4, still a shift by 16, but y uses 12.
  expect_values(run1(trunc_node(6, ""), {x, scalar(1), scalar(0), scalar(8), scalar(12), scalar(3)}), {4},
                {24, -36, 36, -48});
  // Unsigned narrow UINT3 [0, 6] with ROUND: 2.3125 -> 2, 12.5 -> 6, -0.3125 -> 0.
  ir::Node n = trunc_node(6, "ROUND");
  n.attributes["signed"] = int64_t{0};
  n.attributes["narrow"] = int64_t{1};
  expect_values(run1(n, {floats({3}, {37.0F, 200.0F, -5.0F}), scalar(1), scalar(0), scalar(8), scalar(16), scalar(3)}),
                {3}, {32, 96, 0});
}

TEST(TruncOp, WrongInputCountNamesTheNode) {
  const std::string msg = error_of([] { run1(trunc_node(4, ""), {scalar(1), scalar(1), scalar(0), scalar(8)}); });
  EXPECT_NE(msg.find("node 'Trunc_0' (Trunc)"), std::string::npos) << msg;
}

ir::Node multithreshold(const std::string& layout, float out_scale, float out_bias) {
  ir::Node n = qonnx_node("MultiThreshold", 2);
  n.domain = "finn.custom_op.general";
  n.attributes["out_dtype"] = std::string("UINT2");
  n.attributes["data_layout"] = layout;
  n.attributes["out_scale"] = out_scale;
  n.attributes["out_bias"] = out_bias;
  return n;
}

// Channel 0 thresholds 0.5, 1.5, 2.5; channel 1 thresholds -0.5, 0, 0.5.
const Tensor kThresholds = floats({2, 3}, {0.5F, 1.5F, 2.5F, -0.5F, 0.0F, 0.5F});

TEST(MultiThresholdOp, ChannelsFirst) {
  // ch0: 0 -> 0, 1.5 -> 2 (x >= t counts equality), 3 -> 3; ch1: -1 -> 0, 0 -> 2, 1 -> 3.
  const Tensor x = floats({1, 2, 1, 3}, {0.0F, 1.5F, 3.0F, -1.0F, 0.0F, 1.0F});
  expect_values(run1(multithreshold("NCHW", 1, 0), {x, kThresholds}), {1, 2, 1, 3}, {0, 2, 3, 0, 2, 3});
  expect_values(run1(multithreshold("NCHW", 2, -1), {x, kThresholds}), {1, 2, 1, 3}, {-1, 3, 5, -1, 3, 5});
}

TEST(MultiThresholdOp, ChannelsLast) {
  // The same values as ChannelsFirst, interleaved (H=1, W=3, C=2).
  const Tensor x = floats({1, 1, 3, 2}, {0.0F, -1.0F, 1.5F, 0.0F, 3.0F, 1.0F});
  expect_values(run1(multithreshold("NHWC", 1, 0), {x, kThresholds}), {1, 1, 3, 2}, {0, 0, 2, 2, 3, 3});
}

TEST(MultiThresholdOp, TwoDimensionalAndGlobalThresholds) {
  const Tensor x = floats({2, 2}, {0.0F, 0.0F, 2.0F, -1.0F});
  expect_values(run1(multithreshold("NCHW", 1, 0), {x, kThresholds}), {2, 2}, {0, 2, 2, 0});
  expect_values(run1(multithreshold("NC", 1, 0), {x, kThresholds}), {2, 2}, {0, 2, 2, 0});
  // One row for all channels: thresholds 1, 2.
  const Tensor x2 = floats({1, 2, 2}, {0.5F, 1.0F, 2.0F, 3.0F});
  expect_values(run1(multithreshold("NCHW", 1, 0), {x2, floats({1, 2}, {1.0F, 2.0F})}), {1, 2, 2}, {0, 1, 2, 2});
}

TEST(MultiThresholdOp, ThresholdRowsMustMatchChannels) {
  const Tensor x = floats({1, 2, 1, 1}, {0, 0});
  const std::string msg = error_of([&] { run1(multithreshold("NCHW", 1, 0), {x, floats({3, 1}, {0, 0, 0})}); });
  EXPECT_NE(msg.find("node 'MultiThreshold_0' (MultiThreshold)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3, 1]"), std::string::npos) << msg;
}

TEST(QonnxDomains, EveryDomainIsRecognised) {
  for (const char* domain : {"onnx.brevitas", "qonnx.custom_op.general", "finn.custom_op.general"}) {
    ir::Node n = make_node("BipolarQuant", 2, 1, domain);
    EXPECT_TRUE(supports(n)) << domain;
  }
  EXPECT_FALSE(supports(make_node("BipolarQuant", 2, 1, "com.example")));
  EXPECT_FALSE(supports(make_node("Quant", 4)));  // default domain has no Quant
}

}  // namespace
}  // namespace dnnsplit::engine
