// Test-only builders of fully annotated IR graphs (shapes and quantized types filled in, as the
// importer leaves them): small hand-made graphs and the literature's CNV-W2A2 and
// MobileNetV1-W4A4 topologies (finn-facts.md (b)) with deterministic synthetic weights.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"

namespace dnnsplit::cost_test {

// A fresh temporary directory for one test process (ctest runs tests in parallel processes).
std::filesystem::path temp_dir(const std::string& tag);

// Deterministic weights: a 64-bit LCG, independent of the standard library's distributions.
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  // Uniform integer in [lo, hi].
  int64_t uniform(int64_t lo, int64_t hi);

 private:
  uint64_t state_;
};

ir::QuantType quant_type(int bits, bool is_signed, bool narrow, float scale = 1.0F);

class GraphBuilder {
 public:
  GraphBuilder() = default;
  int input(const std::string& name, Shape shape, std::optional<ir::QuantType> quant);
  int constant(const std::string& name, Tensor value, std::optional<ir::QuantType> quant = std::nullopt);
  int scalar(const std::string& name, float value);
  // Adds a node with one output tensor of the given shape and quantized type.
  int node(const std::string& op, const std::vector<int>& inputs, Shape out_shape,
           std::optional<ir::QuantType> out_quant = std::nullopt, const std::string& domain = "");
  ir::Node& last() { return graph_.nodes.back(); }
  void output(int tensor) { graph_.outputs.push_back(tensor); }
  // Integer weights times `scale`, quantized type attached (as the importer folds weight Quants).
  int weights(const std::string& name, Shape shape, const std::vector<int64_t>& ints, const ir::QuantType& quant);
  // A Quant node (scale, zero point, bit width as constants) whose output has type `q`.
  int quant(int x, const ir::QuantType& q, Shape shape);
  ir::Graph take() { return std::move(graph_); }
  ir::Graph& graph() { return graph_; }

 private:
  ir::Graph graph_;
  int counter_ = 0;
};

// Conv block helper: Conv (no bias) -> BatchNormalization -> [Relu] -> Quant.
struct ConvSpec {
  int64_t out_channels;
  int64_t kernel;
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t group = 1;
};

// CNV-W2A2 (Brevitas bnn_pynq CNV, 2-bit weights/activations, 8-bit input quantizer), input
// (1,3,32,32) UINT8 -> Div -> Mul -> Sub -> Quant8 -> 6 conv blocks (2 max pools) -> Flatten ->
// 2 FC blocks -> FC -> Mul -> Add. Ternary weights drawn uniformly from {-1, 0, 1}.
ir::Graph build_cnv_w2a2(uint64_t seed = 1);

// MobileNetV1-W4A4 (Brevitas, finn-examples): conv0 8-bit per-channel weights stride 2 pad 0,
// 13 depthwise-separable blocks with 4-bit narrow weights and 4-bit unsigned activations after
// ReLU, AveragePool(7) -> Mul -> Trunc, FC 1024->1000 + bias Add.
ir::Graph build_mobilenet_v1_w4a4(uint64_t seed = 1);

}  // namespace dnnsplit::cost_test
