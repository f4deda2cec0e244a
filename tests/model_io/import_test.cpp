#include <gtest/gtest.h>

#include <filesystem>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "test_models.h"

namespace dnnsplit {
namespace {

std::string fixture(const std::string& relative) { return std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/" + relative; }

int count_ops(const ir::Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.nodes) n += node.op_type == op ? 1 : 0;
  return n;
}

const ir::TensorInfo& weight_of(const ir::Graph& g, const std::string& op, int index) {
  int seen = 0;
  for (const auto& node : g.nodes) {
    if (node.op_type != op) continue;
    if (seen++ == index) return g.tensor(node.inputs[1]);
  }
  throw Error("no such node");
}

TEST(Import, SmallConvModelInfersQuantTypes) {
  auto graph = import_model_from_bytes(testing::serialize(testing::small_conv_model()), "small.onnx");
  ASSERT_EQ(graph.inputs.size(), 1U);
  const auto& in = graph.tensor(graph.inputs[0]);
  ASSERT_TRUE(in.quant.has_value());
  EXPECT_EQ(in.quant->finn_name(), "UINT8");
  // The weight quantizer was folded: no Quant node reads the weight, the constant carries its grid.
  EXPECT_EQ(count_ops(graph, "Quant"), 2);
  const auto& w = weight_of(graph, "Conv", 0);
  ASSERT_TRUE(w.is_constant());
  ASSERT_TRUE(w.quant.has_value());
  EXPECT_EQ(w.quant->bits, 2);
  EXPECT_TRUE(w.quant->narrow);
  EXPECT_EQ(w.quant->channel_axis, 0);
  EXPECT_EQ(w.quant->scale, (std::vector<float>{0.5F, 0.25F, 1.0F, 0.125F}));
  // Folded values are on the grid: original 0.7 * {-1,0,1} quantized to {-1,0,1} * scale (clamped).
  EXPECT_FLOAT_EQ(w.constant->f32[0], -0.5F);  // -0.7/0.5 = -1.4 -> clamp -1 -> -0.5
  EXPECT_FLOAT_EQ(w.constant->f32[1], 0.0F);
  EXPECT_FLOAT_EQ(w.constant->f32[2], 0.5F);
  // Shapes inferred everywhere, quant types through Relu/Flatten.
  const auto& out = graph.tensor(graph.outputs[0]);
  EXPECT_EQ(out.shape, (Shape{1, 4}));
  ASSERT_TRUE(out.quant.has_value());
  EXPECT_EQ(out.quant->finn_name(), "UINT4");
  EXPECT_EQ(out.quant->scale, std::vector<float>{0.5F});
  const auto& conv_out = graph.tensor(graph.find_tensor("conv_out"));
  EXPECT_EQ(conv_out.shape, (Shape{1, 4, 1, 1}));
  EXPECT_FALSE(conv_out.quant.has_value());
}

TEST(Import, DynamicBatchBecomesOneAndReshapeStaysBatchAgnostic) {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {-1, 2, 2});
  // Brevitas-style dynamic flatten: Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape.
  testing::add_node(m, "Shape", "shape", {"x"}, {"s"});
  testing::add_int64_init(m, "zero", {}, {0});
  auto* gather = testing::add_node(m, "Gather", "gather", {"s", "zero"}, {"batch"});
  testing::set_int_attr(gather, "axis", 0);
  testing::add_int64_init(m, "axes", {1}, {0});
  testing::add_node(m, "Unsqueeze", "unsqueeze", {"batch", "axes"}, {"batch1"});
  testing::add_int64_init(m, "minus_one", {1}, {-1});
  auto* concat = testing::add_node(m, "Concat", "concat", {"batch1", "minus_one"}, {"target"});
  testing::set_int_attr(concat, "axis", 0);
  testing::add_node(m, "Reshape", "reshape", {"x", "target"}, {"y"});
  testing::add_output(m, "y", {-1, 4});
  auto graph = import_model_from_bytes(testing::serialize(m), "flatten.onnx");
  ASSERT_EQ(graph.nodes.size(), 1U);
  const auto& reshape = graph.nodes[0];
  EXPECT_EQ(reshape.op_type, "Reshape");
  const auto& target = graph.tensor(reshape.inputs[1]);
  ASSERT_TRUE(target.is_constant());
  EXPECT_EQ(target.constant->i64, (std::vector<int64_t>{0, -1}));
  EXPECT_EQ(graph.tensor(graph.inputs[0]).shape, (Shape{1, 2, 2}));
  EXPECT_EQ(graph.tensor(graph.outputs[0]).shape, (Shape{1, 4}));
  // And it really runs with batch 3.
  engine::Session session(graph);
  std::vector<float> values(12);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  auto outputs = session.run({Tensor::from_floats({3, 2, 2}, values)});
  ASSERT_EQ(outputs.size(), 1U);
  EXPECT_EQ(outputs[0].shape, (Shape{3, 4}));
  EXPECT_EQ(outputs[0].f32, values);
}

TEST(Import, QonnxZooTfc2w2a) {
  const auto path = fixture("qonnx-zoo/TFC_2W2A.onnx");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found at " << path;
  auto graph = import_model(path);
  EXPECT_EQ(count_ops(graph, "Shape"), 0) << "dynamic flatten chain must be folded";
  EXPECT_EQ(count_ops(graph, "MatMul"), 4);
  for (int k = 0; k < 4; ++k) {
    const auto& w = weight_of(graph, "MatMul", k);
    ASSERT_TRUE(w.is_constant()) << "MatMul " << k;
    ASSERT_TRUE(w.quant.has_value()) << "MatMul " << k << " weight has no quant type";
    EXPECT_EQ(w.quant->bits, 2);
  }
  EXPECT_EQ(graph.tensor(graph.outputs[0]).shape, (Shape{1, 10}));
}

TEST(Import, QonnxZooTfc1w1aBipolar) {
  const auto path = fixture("qonnx-zoo/TFC_1W1A.onnx");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found at " << path;
  auto graph = import_model(path);
  EXPECT_EQ(count_ops(graph, "Shape"), 0);
  for (int k = 0; k < 4; ++k) {
    const auto& w = weight_of(graph, "MatMul", k);
    ASSERT_TRUE(w.quant.has_value()) << "MatMul " << k;
    EXPECT_TRUE(w.quant->bipolar);
  }
  // Bipolar activations: every act quantizer output is BIPOLAR.
  int bipolar_acts = 0;
  for (const auto& node : graph.nodes) {
    if (ir::is_bipolar_quant_op(node) && graph.tensor(node.outputs[0]).quant &&
        graph.tensor(node.outputs[0]).quant->bipolar) {
      ++bipolar_acts;
    }
  }
  EXPECT_GE(bipolar_acts, 3);
}

TEST(Import, FinnMultiThresholdDialect) {
  const auto path = fixture("finn/tfc_w1a1_finn.onnx");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixture not found at " << path;
  auto graph = import_model(path);
  int thresholds = 0;
  for (const auto& node : graph.nodes) {
    if (!ir::is_multithreshold_op(node)) continue;
    ++thresholds;
    const auto& out = graph.tensor(node.outputs[0]);
    ASSERT_TRUE(out.quant.has_value()) << node.describe();
  }
  EXPECT_GE(thresholds, 3);
}

}  // namespace
}  // namespace dnnsplit

namespace dnnsplit {
namespace {

// AveragePool -> Mul -> Trunc (v1, as Brevitas exports TruncAvgPool2d) after an unsigned
// quantizer: the Trunc output is unsigned, found by walking upstream as FINN does.
TEST(Import, TruncV1TakesSignFromUpstreamQuantizer) {
  auto m = testing::empty_model();
  auto* op = m.add_opset_import();
  op->set_domain("qonnx.custom_op.general");
  op->set_version(1);
  testing::add_input(m, "x", {1, 2, 2, 2});
  testing::add_quant(m, "act", "x", "x_q", {}, {1.0F}, 4, false, false);
  auto* pool = testing::add_node(m, "AveragePool", "pool", {"x_q"}, {"pooled"});
  testing::set_ints_attr(pool, "kernel_shape", {2, 2});
  testing::add_float_init(m, "four", {}, {4.0F});
  testing::add_node(m, "Mul", "mul", {"pooled", "four"}, {"summed"});
  testing::add_float_init(m, "t_scale", {}, {1.0F});
  testing::add_float_init(m, "t_zero", {}, {0.0F});
  testing::add_float_init(m, "t_in_bits", {}, {6.0F});
  testing::add_float_init(m, "t_out_bits", {}, {4.0F});
  testing::add_node(m, "Trunc", "trunc", {"summed", "t_scale", "t_zero", "t_in_bits", "t_out_bits"}, {"y"},
                    "qonnx.custom_op.general");
  testing::add_output(m, "y", {1, 2, 1, 1});
  auto graph = import_model_from_bytes(testing::serialize(m), "trunc.onnx");
  const auto& y = graph.tensor(graph.outputs[0]);
  ASSERT_TRUE(y.quant.has_value());
  EXPECT_EQ(y.quant->finn_name(), "UINT4");
}

}  // namespace
}  // namespace dnnsplit
