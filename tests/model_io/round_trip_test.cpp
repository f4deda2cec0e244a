#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "dnnsplit/engine.h"
#include "dnnsplit/model_io.h"
#include "test_models.h"

namespace dnnsplit {
namespace {

void expect_same_types(const ir::Graph& a, const ir::Graph& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t k = 0; k < a.nodes.size(); ++k) {
    EXPECT_EQ(a.nodes[k].op_type, b.nodes[k].op_type);
    EXPECT_EQ(a.nodes[k].name, b.nodes[k].name);
    for (size_t i = 0; i < a.nodes[k].inputs.size(); ++i) {
      const auto& ta = a.tensor(a.nodes[k].inputs[i]);
      const auto& tb = b.tensor(b.nodes[k].inputs[i]);
      EXPECT_EQ(ta.name, tb.name);
      EXPECT_EQ(ta.shape, tb.shape) << ta.name;
      EXPECT_EQ(ta.quant, tb.quant) << ta.name;
      EXPECT_EQ(ta.is_constant(), tb.is_constant()) << ta.name;
      if (ta.is_constant() && tb.is_constant()) {
        EXPECT_TRUE(tensors_identical(*ta.constant, *tb.constant)) << ta.name;
      }
    }
  }
}

TEST(RoundTrip, ExportThenImportKeepsGraphAndQuantTypes) {
  auto graph = import_model_from_bytes(testing::serialize(testing::small_conv_model()), "small.onnx");
  const std::string bytes = export_model_to_bytes(graph);
  EXPECT_NO_THROW(check_model_bytes(bytes, "exported"));
  auto again = import_model_from_bytes(bytes, "exported.onnx");
  expect_same_types(graph, again);
  EXPECT_EQ(again.tensor(again.inputs[0]).quant, graph.tensor(graph.inputs[0]).quant);
}

TEST(RoundTrip, GraphInputQuantTypeWithScaleSurvives) {
  // A stage whose input is a cut tensor: the full QuantType (scale, narrow, axis) must come back.
  auto graph = import_model_from_bytes(testing::serialize(testing::small_conv_model()), "small.onnx");
  ir::QuantType q;
  q.bits = 2;
  q.narrow = true;
  q.scale = {0.375F};
  graph.tensor(graph.inputs[0]).quant = q;
  auto again = import_model_from_bytes(export_model_to_bytes(graph), "stage.onnx");
  ASSERT_TRUE(again.tensor(again.inputs[0]).quant.has_value());
  EXPECT_EQ(*again.tensor(again.inputs[0]).quant, q);
}

TEST(RoundTrip, ExportedModelComputesTheSameOutputs) {
  auto graph = import_model_from_bytes(testing::serialize(testing::small_conv_model()), "small.onnx");
  auto again = import_model_from_bytes(export_model_to_bytes(graph), "exported.onnx");
  std::vector<float> x(2 * 2 * 3 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 256);
  const Tensor input = Tensor::from_floats({2, 2, 3, 3}, x);
  const auto a = engine::Session(graph).run({input});
  const auto b = engine::Session(again).run({input});
  ASSERT_EQ(a.size(), 1U);
  ASSERT_EQ(b.size(), 1U);
  EXPECT_TRUE(tensors_identical(a[0], b[0]));
  // Hand check of image 0, channel 2 (weight scale 1.0): inputs quantized to round(x/2) clamped to 127.
  // Weights before quantization: 0.7 * ((i % 3) - 1); with scale 1 they become round(+-0.7) = +-1.
  double sum = 0;
  for (int c = 0; c < 2; ++c) {
    for (int k = 0; k < 9; ++k) {
      const size_t wi = static_cast<size_t>(2 * 18 + c * 9 + k);
      const double w = static_cast<double>(static_cast<int>(wi % 3) - 1);
      const double xin = std::min(127.0, std::nearbyint(x[static_cast<size_t>(c * 9 + k)] / 2.0)) * 2.0;
      sum += w * xin;
    }
  }
  const double act = std::min(15.0, std::nearbyint(std::max(0.0, sum) / 0.5)) * 0.5;
  EXPECT_FLOAT_EQ(a[0].f32[2], static_cast<float>(act));
}

TEST(RoundTrip, ExportFileIsWrittenAtomically) {
  auto graph = import_model_from_bytes(testing::serialize(testing::small_conv_model()), "small.onnx");
  const auto dir = std::filesystem::temp_directory_path() / "dnnsplit_export_test";
  std::filesystem::create_directories(dir);
  const auto path = (dir / "model.onnx").string();
  export_model(graph, path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto again = import_model(path);
  EXPECT_EQ(again.nodes.size(), graph.nodes.size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dnnsplit
