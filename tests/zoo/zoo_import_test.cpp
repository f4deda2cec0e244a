// Every zoo model passes libonnx's checker and strict shape inference, imports, and its weights
// land on the quantizer grids uniformly.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "zoo_test_util.h"

namespace dnnsplit {
namespace {

const ir::TensorInfo& weight_of(const ir::Graph& g, const std::string& node_name) {
  for (const auto& node : g.nodes) {
    if (node.name == node_name) return g.tensor(node.inputs.at(1));
  }
  throw Error("no node " + node_name);
}

TEST(ZooImport, EveryModelPassesTheCheckerAndImports) {
  for (const auto& entry : zoo_list()) {
    SCOPED_TRACE(entry.name);
    const std::string bytes = zoo_build(entry.name, 1);
    EXPECT_NO_THROW(check_model_bytes(bytes, entry.name + ".onnx"));
    const ir::Graph graph = import_model_from_bytes(bytes, entry.name + ".onnx");
    ASSERT_EQ(graph.inputs.size(), 1U);
    const auto& in = graph.tensor(graph.inputs[0]);
    EXPECT_EQ(in.shape, entry.input_shape);
    ASSERT_TRUE(in.quant.has_value());
    EXPECT_EQ(in.quant->finn_name(), "UINT8");
    ASSERT_EQ(graph.outputs.size(), 1U);
    const int64_t classes = entry.name.rfind("mobilenet", 0) == 0 ? 1000 : 10;
    EXPECT_EQ(graph.tensor(graph.outputs[0]).shape, (Shape{1, classes}));
    // Weight quantizers fold into quantized constants; only activation quantizers remain.
    for (const auto& node : graph.nodes) {
      if (node.op_type != "Conv" && node.op_type != "MatMul") continue;
      const auto& w = graph.tensor(node.inputs.at(1));
      EXPECT_TRUE(w.is_constant()) << node.name;
      EXPECT_TRUE(w.quant.has_value()) << node.name;
    }
  }
}

// Fraction of each integer code among the weights of one layer.
std::map<int64_t, double> code_fractions(const ir::TensorInfo& w) {
  std::map<int64_t, double> fractions;
  const auto& q = *w.quant;
  const int64_t n = w.constant->numel();
  const int64_t channels = static_cast<int64_t>(q.scale.size());
  const int64_t inner = n / channels;
  for (int64_t i = 0; i < n; ++i) {
    const double scale = q.scale[static_cast<size_t>(channels == 1 ? 0 : i / inner)];
    const double code = w.constant->at(i) / scale;
    EXPECT_NEAR(code, std::nearbyint(code), 1e-4) << w.name << " element " << i << " is off the grid";
    fractions[static_cast<int64_t>(std::nearbyint(code))] += 1.0 / static_cast<double>(n);
  }
  return fractions;
}

TEST(ZooImport, WeightsAreUniformOverTheQuantizerGrid) {
  {
    // 589,824 ternary weights: each code 1/3; the standard error of a fraction is 0.0006.
    const ir::Graph cnv = import_model_from_bytes(zoo_build("cnv-w2a2", 5), "cnv-w2a2.onnx");
    const auto& w = weight_of(cnv, "conv5");
    EXPECT_EQ(w.quant->bits, 2);
    EXPECT_TRUE(w.quant->narrow);
    const auto fractions = code_fractions(w);
    ASSERT_EQ(fractions.size(), 3U);
    for (const auto& [code, fraction] : fractions) EXPECT_NEAR(fraction, 1.0 / 3.0, 0.005) << code;
  }
  {
    const ir::Graph cnv = import_model_from_bytes(zoo_build("cnv-w1a1", 5), "cnv-w1a1.onnx");
    const auto& w = weight_of(cnv, "conv5");
    EXPECT_TRUE(w.quant->bipolar);
    const auto fractions = code_fractions(w);
    ASSERT_EQ(fractions.size(), 2U);
    EXPECT_NEAR(fractions.at(-1), 0.5, 0.005);
  }
  {
    // 1,048,576 4-bit narrow weights with per-channel scales: codes -7..7, each 1/15.
    const ir::Graph mobilenet = import_model_from_bytes(zoo_build("mobilenetv1-w4a4", 5), "mobilenet.onnx");
    const auto& w = weight_of(mobilenet, "b13_pw");
    EXPECT_EQ(w.quant->bits, 4);
    EXPECT_EQ(w.quant->scale.size(), 1024U);
    EXPECT_EQ(w.quant->channel_axis, 0);
    const auto fractions = code_fractions(w);
    ASSERT_EQ(fractions.size(), 15U);
    EXPECT_EQ(fractions.begin()->first, -7);
    for (const auto& [code, fraction] : fractions) EXPECT_NEAR(fraction, 1.0 / 15.0, 0.003) << code;
    EXPECT_EQ(weight_of(mobilenet, "conv0").quant->bits, 8);
  }
}

}  // namespace
}  // namespace dnnsplit
