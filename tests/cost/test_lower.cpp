// lower_to_hw on small hand-made graphs: which FINN layers appear, their shapes and data types
// (accumulators from hand-picked weights), coverage of IR nodes, and the errors for what FINN
// cannot build.
#include <gtest/gtest.h>

#include "dnnsplit/cost.h"
#include "dnnsplit/error.h"
#include "model_builders.h"

namespace dnnsplit::cost {
namespace {

using cost_test::GraphBuilder;
using cost_test::quant_type;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// in (1,1,4,4) UINT4 -> Conv 2x2, pad 1, stride 2, 2 outputs -> Relu -> Quant UINT2.
// Weights: channel 0 = [1,-1,1,1] (sum |w| 4), channel 1 = [-1,-1,0,0] (sum 2).
ir::Graph small_conv(bool relu_quant = true, bool annotate = true) {
  GraphBuilder b;
  int x = b.input("in", {1, 1, 4, 4}, annotate ? std::optional(quant_type(4, false, false)) : std::nullopt);
  const int w = b.weights("w", {2, 1, 2, 2}, {1, -1, 1, 1, -1, -1, 0, 0}, quant_type(4, true, true, 0.5F));
  x = b.node("Conv", {x, w}, {1, 2, 3, 3});
  b.last().attributes["kernel_shape"] = std::vector<int64_t>{2, 2};
  b.last().attributes["pads"] = std::vector<int64_t>{1, 1, 1, 1};
  b.last().attributes["strides"] = std::vector<int64_t>{2, 2};
  if (relu_quant) {
    x = b.node("Relu", {x}, {1, 2, 3, 3});
    x = b.quant(x, quant_type(2, false, false), {1, 2, 3, 3});
  }
  b.output(x);
  return b.take();
}

TEST(CostLower, PaddedStridedConvWithEmbeddedThresholds) {
  const ir::Graph g = small_conv();
  const HwGraph hw = lower_to_hw(g);
  ASSERT_EQ(hw.layers.size(), 3u);  // spatial output: no LabelSelect
  EXPECT_EQ(hw.layers[0].name, "FMPadding_rtl_0");
  EXPECT_EQ(hw.layers[0].ofm, (std::array<int64_t, 2>{6, 6}));
  EXPECT_EQ(hw.layers[1].name, "ConvolutionInputGenerator_rtl_0");
  EXPECT_EQ(hw.layers[1].ifm, (std::array<int64_t, 2>{6, 6}));
  EXPECT_EQ(hw.layers[1].ofm, (std::array<int64_t, 2>{3, 3}));
  EXPECT_EQ(hw.layers[1].stride, (std::array<int64_t, 2>{2, 2}));
  const HwLayer& m = hw.layers[2];
  EXPECT_EQ(m.name, "MVAU_hls_0");  // embedded thresholds keep it HLS
  EXPECT_EQ(m.mw, 4);
  EXPECT_EQ(m.mh, 2);
  EXPECT_EQ(m.num_vectors, 9);
  EXPECT_TRUE(m.thresholds);
  EXPECT_EQ(m.num_steps, 3);  // UINT2: levels 0..3
  EXPECT_EQ(m.output_type.name(), "UINT2");
  ASSERT_TRUE(m.weights.has_value());
  EXPECT_EQ(m.weights->max_abs_col_sum, 4);
  EXPECT_EQ(m.weights->min, -1);
  // accumulator: 15 * 4 = 60, signed weights -> m = 61 -> INT7; weights minimise to INT2
  const LayerEstimate e = estimate_layer(m);
  EXPECT_EQ(e.acc_type.name(), "INT7");
  EXPECT_EQ(e.weight_type.name(), "INT2");
  EXPECT_EQ(hw.node_layer, (std::vector<int>{2, 2, 2}));  // Conv, Relu, Quant all in the MVAU
}

TEST(CostLower, SeparateThresholdsAndRtlSelection) {
  LowerOptions o;
  o.separate_thresholds = true;
  o.dsp_block = DspBlock::kDsp48E2;
  HwGraph hw = lower_to_hw(small_conv(), o);
  ASSERT_EQ(hw.layers.size(), 4u);
  EXPECT_EQ(hw.layers[2].name, "MVAU_rtl_0");  // 4-bit signed narrow weights, 4-bit input
  EXPECT_FALSE(hw.layers[2].thresholds);
  EXPECT_EQ(hw.layers[3].name, "Thresholding_rtl_0");
  EXPECT_EQ(hw.layers[3].input_type.name(), "INT7");  // the accumulator
  EXPECT_EQ(hw.layers[3].channels, 2);
  EXPECT_EQ(hw.layers[3].num_vectors, 9);
  EXPECT_EQ(hw.node_layer, (std::vector<int>{2, 3, 3}));
  // DSP48E1 needs narrow-range weights: -1 > INT4 min -8, so still RTL.
  o.dsp_block = DspBlock::kDsp48E1;
  EXPECT_EQ(lower_to_hw(small_conv(), o).layers[2].name, "MVAU_rtl_0");
}

TEST(CostLower, NonNarrowWeightsOnDsp48E1StayHls) {
  GraphBuilder b;
  int x = b.input("in", {1, 16}, quant_type(4, false, false));
  std::vector<int64_t> w(16 * 4, 1);
  w[3] = -8;  // reaches INT4's minimum: not narrow
  const int wt = b.weights("w", {16, 4}, w, quant_type(4, true, false));
  x = b.node("MatMul", {x, wt}, {1, 4});
  b.output(x);
  LowerOptions o;
  o.top_k = 0;
  o.dsp_block = DspBlock::kDsp48E1;
  const ir::Graph g = b.take();
  EXPECT_EQ(lower_to_hw(g, o).layers[0].name, "MVAU_hls_0");
  o.dsp_block = DspBlock::kDsp48E2;
  const HwGraph hw = lower_to_hw(g, o);
  EXPECT_EQ(hw.layers[0].name, "MVAU_rtl_0");
  EXPECT_TRUE(hw.layers[0].feeds_graph_output);
  // 15 * (15 + 8) = 345, m = 346 -> INT10, rounded to a whole byte as the graph's last node
  EXPECT_EQ(estimate_layer(hw.layers[0]).acc_type.name(), "INT16");
}

TEST(CostLower, SoftwareTailWithoutTopK) {
  GraphBuilder b;
  int x = b.input("in", {1, 8}, quant_type(2, true, true));
  const int wt = b.weights("w", {8, 3}, std::vector<int64_t>(24, 1), quant_type(2, true, true));
  x = b.node("MatMul", {x, wt}, {1, 3});
  x = b.node("Mul", {x, b.scalar("s", 0.5F)}, {1, 3});
  b.output(x);
  const ir::Graph g = b.take();
  LowerOptions o;
  o.top_k = 0;
  HwGraph hw = lower_to_hw(g, o);
  ASSERT_EQ(hw.layers.size(), 1u);
  EXPECT_EQ(hw.node_layer, (std::vector<int>{0, -1}));  // the Mul stays in software
  EXPECT_FALSE(hw.layers[0].feeds_graph_output);
  hw = lower_to_hw(g);  // default: a LabelSelect absorbs the scalar Mul
  ASSERT_EQ(hw.layers.size(), 2u);
  EXPECT_EQ(hw.layers[1].name, "LabelSelect_hls_0");
  EXPECT_EQ(hw.layers[1].channels, 3);
  EXPECT_EQ(hw.layers[1].output_type.name(), "UINT8");
  EXPECT_EQ(hw.node_layer, (std::vector<int>{0, 1}));
}

TEST(CostLower, UnfoldedConstantComputationsCountAsConstants) {
  // A BatchNorm exported as Sub(mean) / Pow(var + eps, 0.5) (QONNX zoo TFC): the Pow of two
  // initializers is left unfolded by the importer; the Div by it is still an affine op.
  GraphBuilder b;
  int x = b.input("in", {1, 8}, quant_type(2, true, true));
  const int wt = b.weights("w", {8, 3}, std::vector<int64_t>(24, 1), quant_type(2, true, true));
  x = b.node("MatMul", {x, wt}, {1, 3});
  const int p = b.node("Pow", {b.scalar("var", 4.0F), b.scalar("half", 0.5F)}, {});
  x = b.node("Div", {x, p}, {1, 3});
  b.output(x);
  const HwGraph hw = lower_to_hw(b.take());
  ASSERT_EQ(hw.layers.size(), 2u);
  EXPECT_EQ(hw.node_layer, (std::vector<int>{0, -1, 1}));  // Pow: no hardware; Div: in the LabelSelect
}

TEST(CostLower, ResidualJoinDuplicatesAndAdds) {
  // q = Quant(in) is read by a 1x1 conv branch and by the Add: DuplicateStreams + AddStreams.
  GraphBuilder b;
  const Shape s{1, 4, 5, 5};
  int x = b.input("in", s, quant_type(4, true, false));
  const int q = b.quant(x, quant_type(4, true, false), s);
  const int wt = b.weights("w", {4, 4, 1, 1}, std::vector<int64_t>(16, 1), quant_type(4, true, true));
  int c = b.node("Conv", {q, wt}, s);
  b.last().attributes["kernel_shape"] = std::vector<int64_t>{1, 1};
  c = b.quant(c, quant_type(4, true, false), s);
  const int y = b.node("Add", {q, c}, s);
  b.output(y);
  const HwGraph hw = lower_to_hw(b.take());
  std::vector<std::string> names;
  for (const auto& l : hw.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Thresholding_rtl_0", "DuplicateStreams_hls_0", "MVAU_hls_0",
                                             "AddStreams_hls_0"}));
  EXPECT_EQ(hw.layers[2].inputs, (std::vector<int>{1}));  // pointwise stride 1: no SWG
  EXPECT_EQ(hw.layers[3].inputs, (std::vector<int>{1, 2}));
  EXPECT_EQ(hw.layers[3].output_type.name(), "INT5");  // -8-8 .. 7+7
  EXPECT_EQ(hw.layers[3].num_vectors, 25);
}

TEST(CostLower, ResidualJoinOfAccumulators) {
  // conv -> BN joins the quantized input without a quantizer in between (zoo ResNet-8 style).
  GraphBuilder b;
  const Shape s{1, 4, 5, 5};
  const int q = b.input("in", s, quant_type(4, false, false));
  const int wt = b.weights("w", {4, 4, 1, 1}, std::vector<int64_t>(16, 1), quant_type(4, true, true));
  int c = b.node("Conv", {q, wt}, s);
  b.last().attributes["kernel_shape"] = std::vector<int64_t>{1, 1};
  c = b.node("Mul", {c, b.scalar("bn", 0.5F)}, s);
  int y = b.node("Add", {c, q}, s);
  y = b.node("Relu", {y}, s);
  y = b.quant(y, quant_type(4, false, false), s);
  b.output(y);
  LowerOptions o;
  o.dsp_block = DspBlock::kDsp48E2;
  const HwGraph hw = lower_to_hw(b.take(), o);
  std::vector<std::string> names;
  for (const auto& l : hw.layers) names.push_back(l.name);
  EXPECT_EQ(names, (std::vector<std::string>{"DuplicateStreams_hls_0", "MVAU_rtl_0", "AddStreams_hls_0",
                                             "Thresholding_rtl_0"}));
  // accumulator: weights all +1 on unsigned inputs, 0..15*4 = 60 -> UINT6; plus UINT4: 0..75 -> UINT7
  EXPECT_EQ(hw.layers[2].input_type.name(), "UINT6");
  EXPECT_EQ(hw.layers[2].output_type.name(), "UINT7");
  EXPECT_EQ(hw.layers[3].input_type.name(), "UINT7");
  EXPECT_EQ(hw.node_layer, (std::vector<int>{1, 2, 2, 3, 3}));  // Conv; Mul, Add; Relu, Quant
}

TEST(CostLower, MultiThresholdRangeWidensThresholdMemory) {
  GraphBuilder b;
  int x = b.input("in", {1, 2}, quant_type(8, false, false));
  const int t = b.constant("t", Tensor::from_floats({2, 3}, {0.5F, 100.0F, 300.0F, 1.0F, 2.0F, 3.0F}));
  x = b.node("MultiThreshold", {x, t}, {1, 2}, quant_type(2, false, false), "qonnx.custom_op.general");
  b.last().attributes["out_dtype"] = std::string("UINT2");
  b.output(x);
  LowerOptions o;
  o.top_k = 0;
  const HwGraph hw = lower_to_hw(b.take(), o);
  ASSERT_EQ(hw.layers.size(), 1u);
  ASSERT_TRUE(hw.layers[0].threshold_range.has_value());
  // ceil, clipped to [0, 256]: 1 .. 256 -> UINT9 threshold memory
  EXPECT_EQ(hw.layers[0].threshold_range->first, 1);
  EXPECT_EQ(hw.layers[0].threshold_range->second, 256);
  EXPECT_EQ(estimate_layer(hw.layers[0]).weight_type.name(), "UINT9");
  EXPECT_EQ(hw.layers[0].num_steps, 3);
}

TEST(CostLower, DepthwiseConvBecomesSwgAndVvau) {
  GraphBuilder b;
  int x = b.input("in", {1, 8, 6, 6}, quant_type(4, false, false));
  std::vector<int64_t> w(8 * 9, 1);
  const int wt = b.weights("w", {8, 1, 3, 3}, w, quant_type(4, true, true));
  x = b.node("Conv", {x, wt}, {1, 8, 4, 4});
  b.last().attributes["kernel_shape"] = std::vector<int64_t>{3, 3};
  b.last().attributes["group"] = int64_t{8};
  x = b.quant(x, quant_type(4, false, false), {1, 8, 4, 4});
  b.output(x);
  const HwGraph hw = lower_to_hw(b.take());
  ASSERT_EQ(hw.layers.size(), 2u);
  EXPECT_EQ(hw.layers[0].name, "ConvolutionInputGenerator_rtl_0");
  EXPECT_TRUE(hw.layers[0].depthwise);
  EXPECT_EQ(hw.layers[1].name, "VVAU_hls_0");
  EXPECT_EQ(hw.layers[1].channels, 8);
  EXPECT_EQ(hw.layers[1].num_vectors, 16);
  EXPECT_TRUE(hw.layers[1].thresholds);
  EXPECT_EQ(hw.layers[1].weights->max_abs_col_sum, 9);
}

TEST(CostLower, InputTypeForUnannotatedInputs) {
  LowerOptions o;
  o.input_type = DataType::of_uint(4);
  const HwGraph hw = lower_to_hw(small_conv(true, false), o);
  EXPECT_EQ(hw.layers[0].input_type.name(), "UINT4");
  EXPECT_EQ(estimate_layer(hw.layers[2]).acc_type.name(), "INT7");  // as with the annotation
}

// in (1,4) float -> Mul -> Quant INT4 -> MatMul 4x3 -> Quant INT4: with host_input_quantizers the
// first quantizer and the Mul before it stay in software and the MVAU reads INT4.
TEST(CostLower, HostQuantizesAFloatInput) {
  GraphBuilder b;
  int x = b.input("in", {1, 4}, std::nullopt);
  x = b.node("Mul", {x, b.scalar("two", 2.0F)}, {1, 4});
  x = b.quant(x, quant_type(4, true, false), {1, 4});
  const int w = b.weights("w", {4, 3}, {1, -1, 1, 1, 0, -1, 1, 1, 1, -1, -1, 0}, quant_type(2, true, true));
  x = b.node("MatMul", {x, w}, {1, 3});
  x = b.quant(x, quant_type(4, true, false), {1, 3});
  b.output(x);
  const ir::Graph g = b.take();
  EXPECT_NE(error_of([&] { lower_to_hw(g); }).find("has no integer type"), std::string::npos);
  LowerOptions o;
  o.top_k = 0;
  o.host_input_quantizers = true;
  const HwGraph hw = lower_to_hw(g, o);
  ASSERT_EQ(hw.layers.size(), 1U);
  EXPECT_EQ(hw.layers[0].name, "MVAU_hls_0");
  EXPECT_EQ(hw.layers[0].input_type.name(), "INT4");
  EXPECT_EQ(hw.layers[0].mw, 4);
  EXPECT_EQ(hw.node_layer, (std::vector<int>{-1, -1, 0, 0}));  // Mul, Quant in software
  // max |x| 8 (INT4) times the largest column sum of |w|, 4 (column 0): +-32 needs INT7.
  EXPECT_EQ(estimate_layer(hw.layers[0]).acc_type.name(), "INT7");
}

TEST(CostLower, ErrorsNameNodeAndCause) {
  EXPECT_NE(error_of([] { lower_to_hw(small_conv(true, false)); }).find("input 'in' has no integer type"),
            std::string::npos);
  {
    GraphBuilder b;
    int x = b.input("in", {1, 4, 3, 3}, quant_type(4, false, false));
    const int wt = b.weights("w", {4, 2, 1, 1}, std::vector<int64_t>(8, 1), quant_type(4, true, true));
    x = b.node("Conv", {x, wt}, {1, 4, 3, 3});
    b.last().attributes["kernel_shape"] = std::vector<int64_t>{1, 1};
    b.last().attributes["group"] = int64_t{2};
    const ir::Graph g = b.take();
    const std::string msg = error_of([&] { lower_to_hw(g); });
    EXPECT_NE(msg.find("Conv_0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("grouped convolution (group 2)"), std::string::npos) << msg;
  }
  {
    GraphBuilder b;
    int x = b.input("in", {1, 4}, quant_type(4, false, false));
    const int w = b.constant("w", Tensor::from_floats({4, 2}, {0.3F, 0.1F, 0.2F, 0.7F, 0.5F, 0.5F, 0.1F, 0.9F}));
    x = b.node("MatMul", {x, w}, {1, 2});
    const ir::Graph g = b.take();
    const std::string msg = error_of([&] { lower_to_hw(g); });
    EXPECT_NE(msg.find("weight 'w' is not quantized"), std::string::npos) << msg;
  }
  {
    GraphBuilder b;
    int x = b.input("in", {1, 4}, quant_type(4, false, false));
    x = b.node("Concat", {x, x}, {1, 8});
    const ir::Graph g = b.take();
    const std::string msg = error_of([&] { lower_to_hw(g); });
    EXPECT_NE(msg.find("Concat has no FINN hardware layer"), std::string::npos) << msg;
  }
  {
    // two MatMuls with no quantizer between them
    GraphBuilder b;
    int x = b.input("in", {1, 4}, quant_type(4, false, false));
    const int w1 = b.weights("w1", {4, 4}, std::vector<int64_t>(16, 1), quant_type(4, true, true));
    const int w2 = b.weights("w2", {4, 2}, std::vector<int64_t>(8, 1), quant_type(4, true, true));
    x = b.node("MatMul", {x, w1}, {1, 4});
    x = b.node("MatMul", {x, w2}, {1, 2});
    const ir::Graph g = b.take();
    const std::string msg = error_of([&] { lower_to_hw(g); });
    EXPECT_NE(msg.find("MatMul_1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("raw accumulator"), std::string::npos) << msg;
  }
  {
    GraphBuilder b;
    int x = b.input("in", {1, 4}, quant_type(4, false, false));
    x = b.quant(x, quant_type(16, true, false), {1, 4});
    const ir::Graph g = b.take();
    EXPECT_NE(error_of([&] { lower_to_hw(g); }).find("16-bit activation quantizer"), std::string::npos);
  }
}

}  // namespace
}  // namespace dnnsplit::cost
