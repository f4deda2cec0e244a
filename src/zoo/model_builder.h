// Builds QONNX models the way Brevitas exports them and FINN reads them: float initializers
// behind weight Quant nodes, activation Quant / BipolarQuant nodes in domain
// qonnx.custom_op.general, a float32 graph input annotated with its FINN datatype. Every call
// adds nodes and initializers named after the given node name and returns the new activation.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "activation_stats.h"
#include "dnnsplit/tensor.h"
#include "onnx/onnx_pb.h"
#include "portable_random.h"

namespace dnnsplit::zoo {

inline constexpr const char* kQonnxDomain = "qonnx.custom_op.general";

// An activation tensor during construction: dimension 1 is the channel axis.
struct Act {
  std::string name;
  Shape shape;
  Stats stats;  // one entry per channel
  std::vector<float> quant_scale;  // the scale of the Quant node that produced it, if one did
  int64_t channels() const { return shape.at(1); }
};

// A weight quantizer: signed, narrow range (as Brevitas' weight quantizers); bits 1 means
// BipolarQuant. scale > 0 is a fixed per-tensor scale; otherwise scales are drawn per tensor
// or per output channel so the real weights have variance about 1/fan_in.
struct WeightQuant {
  int bits = 2;
  bool per_channel = false;
  double scale = 0.0;
};

// An activation quantizer (Quant node, or BipolarQuant when bits is 1). Scale either fixed
// (scale > 0, per tensor) or chosen from the input statistics so that the largest code sits
// at the 99.5th percentile, per channel or per tensor.
struct ActQuant {
  int bits = 4;
  bool is_signed = false;
  bool narrow = false;
  bool per_channel = false;
  double scale = 0.0;
};

class ModelBuilder {
 public:
  ModelBuilder(std::string model_name, uint64_t seed);

  Rng& rng() { return rng_; }

  // The graph input: float32 with integer values 0..255 (FINN datatype annotation UINT8),
  // modelled as uniform over those values.
  Act input_uint8(const std::string& name, Shape shape);
  // Standard elementwise op (Div, Mul, Sub, Add) with a constant operand: one value (a 0-d
  // initializer) or one per channel (shaped to broadcast over dimension 1).
  Act elementwise(const Act& x, const std::string& node, const std::string& op, const std::vector<float>& values);
  Act quant(const Act& x, const std::string& node, const ActQuant& q);
  Act relu(const Act& x, const std::string& node);
  // Conv without bias, square kernel, symmetric padding; weights behind a Quant node named
  // node + "_wq".
  Act conv(const Act& x, const std::string& node, int64_t out_channels, int64_t kernel, int64_t stride, int64_t pad,
           int64_t group, const WeightQuant& wq);
  // MatMul of an (N, K) activation with a quantized (K, out) weight.
  Act matmul(const Act& x, const std::string& node, int64_t out_features, const WeightQuant& wq);
  // BatchNormalization with running statistics equal to the expected moments of its input,
  // gamma about 1 and a small beta.
  Act batch_norm(const Act& x, const std::string& node, float epsilon);
  Act max_pool(const Act& x, const std::string& node, int64_t kernel, int64_t stride);
  Act average_pool(const Act& x, const std::string& node, int64_t kernel, int64_t stride);
  Act global_average_pool(const Act& x, const std::string& node);
  // QONNX Trunc v1 (inputs X, scale, zeropt, in_bitwidth, out_bitwidth), rounding FLOOR.
  Act trunc(const Act& x, const std::string& node, float scale, int in_bits, int out_bits);
  Act flatten(const Act& x, const std::string& node);
  // Elementwise sum of two activations of the same shape (a residual join).
  Act add(const Act& a, const Act& b, const std::string& node);
  // Add of a drawn per-feature bias (small relative to the input's spread).
  Act bias(const Act& x, const std::string& node);
  // Brevitas' TensorNorm as exported (Sub mean, Div std, Mul gamma, Add beta, all scalars),
  // or folded into Mul + Add when `folded`.
  Act tensor_norm(const Act& x, const std::string& prefix, bool folded);

  // Marks `output` as the graph output and returns the serialized ModelProto.
  std::string finish(const Act& output);

 private:
  std::string add_initializer(const std::string& name, const Tensor& tensor);
  std::string scalar(const std::string& name, float value);
  onnx::NodeProto& add_node(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                            const std::string& domain = "");
  // Adds the weight initializer and its quantizer; returns the quantized weight tensor name
  // and the real (quantized) weight values in `values`.
  std::string quantized_weight(const std::string& node, const Shape& shape, int64_t fan_in, int64_t out_axis_size,
                               bool out_axis_first, const WeightQuant& wq, std::vector<double>& values);
  Act same_shape(const Act& x, const std::string& tensor, Stats stats) const;

  onnx::ModelProto model_;
  onnx::GraphProto* graph_;
  Rng rng_;
  std::set<std::string> node_names_;
};

// Attribute helpers for NodeProto.
void set_int_attr(onnx::NodeProto& node, const std::string& name, int64_t value);
void set_float_attr(onnx::NodeProto& node, const std::string& name, float value);
void set_string_attr(onnx::NodeProto& node, const std::string& name, const std::string& value);
void set_ints_attr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values);

}  // namespace dnnsplit::zoo
