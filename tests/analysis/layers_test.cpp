// analyze_layers and packed_bytes_per_image on hand-built graphs with hand-computed counts.
#include <gtest/gtest.h>

#include "dnnsplit/analysis.h"
#include "dnnsplit/error.h"
#include "graph_builder.h"

namespace dnnsplit {
namespace {

using test::grid;
using test::GraphBuilder;

std::vector<std::string> names_of(const std::vector<LayerRow>& rows) {
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.name);
  return names;
}

std::vector<std::string> node_names(const ir::Graph& g, const LayerRow& row) {
  std::vector<std::string> names;
  for (int i : row.nodes) names.push_back(g.nodes[static_cast<size_t>(i)].name);
  return names;
}

TEST(PackedBytes, PacksAtTheBitWidthWithoutTheBatch) {
  GraphBuilder b;
  const int f = b.activation("f", {8, 3, 4, 4});                          // 48 floats per image
  const int int2 = b.activation("int2", {1, 64, 30, 30}, grid(2, true));  // CNV conv0 output
  const int bipolar = b.activation("bip", {1, 10}, grid(1, true, true));  // 10 bits -> 2 bytes
  const int uint4 = b.activation("u4", {2, 3}, grid(4, false));           // 12 bits -> 2 bytes
  const int i64 = b.activation("idx", {1, 5}, std::nullopt, ElemType::kInt64);
  const int weights = b.constant("w", {64, 3, 3, 3}, grid(2, true));      // constants count whole
  const int unknown = b.activation("dyn", {1, -1, 4});
  EXPECT_EQ(packed_bytes_per_image(b.graph, f), 192);
  EXPECT_EQ(packed_bytes_per_image(b.graph, int2), 14400);
  EXPECT_EQ(packed_bytes_per_image(b.graph, bipolar), 2);
  EXPECT_EQ(packed_bytes_per_image(b.graph, uint4), 2);
  EXPECT_EQ(packed_bytes_per_image(b.graph, i64), 40);
  EXPECT_EQ(packed_bytes_per_image(b.graph, weights), 432);
  EXPECT_EQ(tensor_type_name(b.graph.tensor(f)), "FLOAT32");
  EXPECT_EQ(tensor_type_name(b.graph.tensor(bipolar)), "BIPOLAR");
  try {
    packed_bytes_per_image(b.graph, unknown);
    FAIL() << "no error for a dynamic shape";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'dyn'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(packed_bytes_per_image(b.graph, 99), Error);
}

// input -> Div -> Quant | Conv -> BN -> Relu -> Quant -> Flatten | MatMul -> Add(bias)
GraphBuilder conv_chain() {
  GraphBuilder b;
  const int x = b.input("x", {1, 3, 8, 8}, grid(8, false));
  const int scaled = b.activation("scaled", {1, 3, 8, 8});
  b.node("Div", "div", {x, b.constant("c255", {})}, {scaled});
  const int q_in = b.activation("q_in", {1, 3, 8, 8}, grid(8, true));
  b.node("Quant", "in_q", {scaled, b.constant("s", {}), b.constant("z", {}), b.constant("bw", {})}, {q_in},
         "qonnx.custom_op.general");
  const int conv = b.activation("conv_out", {1, 4, 6, 6});
  b.node("Conv", "conv", {q_in, b.constant("w", {4, 3, 3, 3}, grid(2, true))}, {conv});
  const int bn = b.activation("bn_out", {1, 4, 6, 6});
  b.node("BatchNormalization", "bn",
         {conv, b.constant("g", {4}), b.constant("be", {4}), b.constant("m", {4}), b.constant("v", {4})}, {bn});
  const int relu = b.activation("relu_out", {1, 4, 6, 6});
  b.node("Relu", "relu", {bn}, {relu});
  const int act = b.activation("act_out", {1, 4, 6, 6}, grid(4, false));
  b.node("Quant", "act", {relu, b.constant("s2", {}), b.constant("z2", {}), b.constant("bw2", {})}, {act},
         "qonnx.custom_op.general");
  const int flat = b.activation("flat", {1, 144}, grid(4, false));
  b.node("Flatten", "flatten", {act}, {flat});
  const int fc = b.activation("fc_out", {1, 10});
  b.node("MatMul", "fc", {flat, b.constant("wfc", {144, 10}, grid(4, true))}, {fc});
  const int out = b.activation("logits", {1, 10});
  b.node("Add", "bias", {fc, b.constant("bias", {10})}, {out});
  b.output(out);
  return b;
}

TEST(AnalyzeLayers, FoldsBatchNormActivationAndQuantizerIntoTheConv) {
  const GraphBuilder b = conv_chain();
  const auto rows = analyze_layers(b.graph);
  ASSERT_EQ(names_of(rows), (std::vector<std::string>{"in_q", "conv", "fc"}));
  // The preprocessing Div belongs to the input quantizer's layer.
  EXPECT_EQ(node_names(b.graph, rows[0]), (std::vector<std::string>{"div", "in_q"}));
  EXPECT_EQ(rows[0].op, "Quant");
  EXPECT_EQ(rows[0].act_type, "INT8");
  EXPECT_EQ(rows[0].output_bytes, 192);
  EXPECT_EQ(rows[0].params, 0);

  const LayerRow& conv = rows[1];
  EXPECT_EQ(node_names(b.graph, conv), (std::vector<std::string>{"conv", "bn", "relu", "act", "flatten"}));
  EXPECT_EQ(b.graph.tensor(conv.output_tensor).name, "act_out");  // the quantizer, not the Flatten
  EXPECT_EQ(conv.output_shape, (Shape{1, 4, 6, 6}));
  EXPECT_EQ(conv.detail, "3x3");
  EXPECT_EQ(conv.weight_bits, 2);
  EXPECT_EQ(conv.weight_type, "INT2");
  EXPECT_EQ(conv.act_bits, 4);
  EXPECT_EQ(conv.act_type, "UINT4");
  EXPECT_EQ(conv.params, 4 * 3 * 3 * 3);
  EXPECT_EQ(conv.macs, 4 * 6 * 6 * (3 * 3 * 3));
  EXPECT_EQ(conv.output_bytes, 4 * 6 * 6 * 4 / 8);

  const LayerRow& fc = rows[2];
  EXPECT_EQ(node_names(b.graph, fc), (std::vector<std::string>{"fc", "bias"}));
  EXPECT_EQ(fc.detail, "144x10");
  EXPECT_EQ(fc.params, 1440);
  EXPECT_EQ(fc.macs, 1440);
  EXPECT_EQ(fc.act_type, "FLOAT32");
  EXPECT_EQ(fc.output_bytes, 40);

  const LayerTotals total = layer_totals(rows);
  EXPECT_EQ(total.layers, 3);
  EXPECT_EQ(total.params, 108 + 1440);
  EXPECT_EQ(total.macs, 3888 + 1440);
  EXPECT_EQ(total.weight_bytes, 108 * 2 / 8 + 1440 * 4 / 8);
}

// conv_a -> bn_a = t; t feeds relu -> conv_b and the join add(t, conv_b).
TEST(AnalyzeLayers, ABranchPointEndsTheLayerAndAJoinStartsOne) {
  GraphBuilder b;
  const int x = b.input("x", {1, 2, 5, 5});
  const int a = b.activation("a", {1, 2, 5, 5});
  b.node("Conv", "conv_a", {x, b.constant("wa", {2, 2, 3, 3})}, {a}).attributes["pads"] =
      std::vector<int64_t>{1, 1, 1, 1};
  const int t = b.activation("t", {1, 2, 5, 5});
  b.node("BatchNormalization", "bn_a",
         {a, b.constant("g", {2}), b.constant("be", {2}), b.constant("m", {2}), b.constant("v", {2})}, {t});
  const int r = b.activation("r", {1, 2, 5, 5});
  b.node("Relu", "relu", {t}, {r});
  const int c = b.activation("c", {1, 2, 5, 5});
  b.node("Conv", "conv_b", {r, b.constant("wb", {2, 1, 3, 3})}, {c}).attributes = {
      {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t{2}}, {"strides", std::vector<int64_t>{1, 1}}};
  const int s = b.activation("s", {1, 2, 5, 5});
  b.node("Add", "join", {t, c}, {s});
  b.output(s);
  const auto rows = analyze_layers(b.graph);
  ASSERT_EQ(names_of(rows), (std::vector<std::string>{"conv_a", "conv_b", "join"}));
  EXPECT_EQ(node_names(b.graph, rows[0]), (std::vector<std::string>{"conv_a", "bn_a"}));
  EXPECT_EQ(b.graph.tensor(rows[0].output_tensor).name, "t");
  EXPECT_EQ(rows[0].output_bytes, 2 * 5 * 5 * 4);
  EXPECT_EQ(rows[0].detail, "3x3 p1");
  // The Relu reads the branch point, so it is the depthwise conv's preprocessing.
  EXPECT_EQ(node_names(b.graph, rows[1]), (std::vector<std::string>{"relu", "conv_b"}));
  EXPECT_EQ(rows[1].detail, "3x3 p1 g2");
  EXPECT_EQ(rows[1].macs, 2 * 5 * 5 * 9);  // depthwise: one input channel per output
  EXPECT_EQ(rows[1].weight_type, "FLOAT32");
  EXPECT_EQ(rows[1].weight_bits, 32);
  EXPECT_EQ(rows[2].op, "Add");
  EXPECT_EQ(rows[2].macs, 0);
  EXPECT_EQ(rows[2].weight_bits, 0);
}

TEST(AnalyzeLayers, AnUnfoldedWeightQuantizerBelongsToItsLayer) {
  GraphBuilder b;
  const int x = b.input("x", {1, 8});
  const int wq = b.activation("wq", {8, 4}, grid(2, true));
  b.node("Quant", "fc_wq", {b.constant("w", {8, 4}), b.constant("s", {}), b.constant("z", {}), b.constant("bw", {})},
         {wq}, "qonnx.custom_op.general");
  const int y = b.activation("y", {1, 4});
  b.node("MatMul", "fc", {x, wq}, {y});
  b.output(y);
  const auto rows = analyze_layers(b.graph);
  ASSERT_EQ(names_of(rows), std::vector<std::string>{"fc"});
  EXPECT_EQ(node_names(b.graph, rows[0]), (std::vector<std::string>{"fc_wq", "fc"}));
  EXPECT_EQ(rows[0].weight_type, "INT2");
  EXPECT_EQ(rows[0].params, 32);
  EXPECT_EQ(rows[0].macs, 32);
}

TEST(AnalyzeLayers, GemmConvTransposeAndMultiThreshold) {
  GraphBuilder b;
  const int x = b.input("x", {1, 8});
  const int g = b.activation("g", {1, 18});
  b.node("Gemm", "gemm", {x, b.constant("w", {18, 8}, grid(4, true)), b.constant("bias", {18})}, {g})
      .attributes["transB"] = int64_t{1};
  // FINN dialect: scale Mul, then MultiThreshold as the layer's quantizer.
  const int m = b.activation("m", {1, 18});
  b.node("Mul", "scale", {g, b.constant("k", {})}, {m});
  const int t = b.activation("t", {1, 18}, grid(2, false));
  b.node("MultiThreshold", "thr", {m, b.constant("th", {18, 3})}, {t}, "qonnx.custom_op.general");
  const int r = b.activation("r", {1, 2, 3, 3}, grid(2, false));
  b.node("Reshape", "reshape", {t, b.constant("shape", {4})}, {r});
  const int y = b.activation("y", {1, 5, 4, 4});
  b.node("ConvTranspose", "deconv", {r, b.constant("wt", {2, 5, 2, 2})}, {y});
  b.output(y);
  const auto rows = analyze_layers(b.graph);
  ASSERT_EQ(names_of(rows), (std::vector<std::string>{"gemm", "deconv"}));
  EXPECT_EQ(node_names(b.graph, rows[0]), (std::vector<std::string>{"gemm", "scale", "thr", "reshape"}));
  EXPECT_EQ(rows[0].detail, "8x18");
  EXPECT_EQ(rows[0].params, 144);  // the bias is not a weight
  EXPECT_EQ(rows[0].macs, 144);
  EXPECT_EQ(rows[0].act_type, "UINT2");
  EXPECT_EQ(rows[0].output_bytes, 5);  // 18 x 2 bits
  // Each of the 18 input values meets 5 x 2 x 2 weights.
  EXPECT_EQ(rows[1].macs, 18 * 20);
  EXPECT_EQ(rows[1].params, 40);
  EXPECT_EQ(rows[1].detail, "2x2");
}

TEST(AnalyzeLayers, TopKHandsOnItsIndices) {
  GraphBuilder b;
  const int x = b.input("x", {1, 10});
  const int values = b.activation("values", {1, 1});
  const int indices = b.activation("indices", {1, 1}, std::nullopt, ElemType::kInt64);
  b.node("TopK", "topk", {x, b.constant("k", {1})}, {values, indices});
  b.output(indices);
  const auto rows = analyze_layers(b.graph);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].output_tensor, indices);
  EXPECT_EQ(rows[0].act_type, "INT64");
  EXPECT_EQ(rows[0].output_bytes, 8);
}

TEST(AnalyzeLayers, UnknownShapeIsAnErrorNamingNodeAndTensor) {
  GraphBuilder b;
  const int x = b.input("x", {1, 3, -1, -1});
  const int y = b.activation("conv_y", {1, 4, -1, -1});
  b.node("Conv", "conv_dyn", {x, b.constant("w", {4, 3, 3, 3})}, {y});
  b.output(y);
  try {
    analyze_layers(b.graph);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("conv_dyn"), std::string::npos) << message;
    EXPECT_NE(message.find("conv_y"), std::string::npos) << message;
  }
  GraphBuilder bad;
  const int in = bad.input("x", {1, 3, 4, 4});
  const int out = bad.activation("o", {1, 4, 2, 2});
  bad.node("Conv", "conv_1d_weight", {in, bad.constant("w", {4})}, {out});
  bad.output(out);
  EXPECT_THROW(analyze_layers(bad.graph), Error);
}

}  // namespace
}  // namespace dnnsplit
