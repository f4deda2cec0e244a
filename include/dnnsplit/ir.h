// The graph IR every component works on: tensors with shapes and quantized types, nodes in
// topological order. Built by model_import (from QONNX / FINN-ONNX), written back by
// model_export. Node semantics follow ONNX and QONNX; the IR adds what analyses need to know
// about every tensor: its shape and, where known, the integer grid its values live on.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dnnsplit/tensor.h"

namespace dnnsplit::ir {

// The values of a tensor are reals x = (q - zero_point) * scale with integer q in
// [min_int(), max_int()]. A bipolar type has q in {-1, +1}.
struct QuantType {
  int bits = 8;
  bool is_signed = true;
  bool narrow = false;
  bool bipolar = false;
  // Per-tensor (size 1) or per-channel (size = extent of channel_axis).
  std::vector<float> scale{1.0F};
  std::vector<float> zero_point{0.0F};
  int channel_axis = -1;  // axis of the per-channel scale; -1 when per-tensor

  int64_t min_int() const;
  int64_t max_int() const;
  bool per_channel() const { return scale.size() > 1 || zero_point.size() > 1; }
  // FINN data type name: BIPOLAR, BINARY, INT2, UINT4, ...
  std::string finn_name() const;
  // Bits needed to store one value on the wire / in a FIFO.
  int storage_bits() const { return bipolar ? 1 : bits; }
  bool operator==(const QuantType&) const = default;
};

struct TensorInfo {
  std::string name;
  ElemType type = ElemType::kFloat;
  // Static shape; dimension 0 of activations is the batch and is stored as given by the model
  // (usually 1). -1 marks a dimension that is not known statically.
  Shape shape;
  std::optional<QuantType> quant;  // the integer grid of the values, when known
  std::optional<Tensor> constant;  // initializer or folded constant
  bool is_constant() const { return constant.has_value(); }
};

using AttributeValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                                    std::vector<float>, std::vector<std::string>, Tensor>;

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;           // "" for standard ONNX ops
  std::vector<int> inputs;      // tensor ids; -1 for an omitted optional input
  std::vector<int> outputs;     // tensor ids
  std::map<std::string, AttributeValue> attributes;

  bool has_attr(const std::string& key) const { return attributes.count(key) != 0; }
  // Typed attribute access. The *_or variants return the default when absent; all throw Error
  // naming the node and attribute when present with another type.
  int64_t attr_int(const std::string& key) const;
  int64_t attr_int_or(const std::string& key, int64_t fallback) const;
  float attr_float_or(const std::string& key, float fallback) const;
  std::string attr_string_or(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints_or(const std::string& key, std::vector<int64_t> fallback) const;
  std::vector<float> attr_floats_or(const std::string& key, std::vector<float> fallback) const;
  const Tensor* attr_tensor(const std::string& key) const;
  // "node 'conv0' (Conv)" for error messages.
  std::string describe() const;
};

// QONNX custom op kinds, whatever domain they came from.
bool is_quant_op(const Node& node);           // Quant / IntQuant
bool is_bipolar_quant_op(const Node& node);   // BipolarQuant
bool is_trunc_op(const Node& node);           // Trunc
bool is_multithreshold_op(const Node& node);  // MultiThreshold
// Domains the QONNX custom ops may be found in.
bool is_qonnx_domain(const std::string& domain);

struct Graph {
  std::string name;
  std::vector<TensorInfo> tensors;
  std::vector<Node> nodes;  // topological order
  std::vector<int> inputs;  // graph inputs (non-constant)
  std::vector<int> outputs;
  int64_t opset = 13;       // default-domain opset version
  std::string source_path;  // file the graph was loaded from, for messages

  int find_tensor(const std::string& name) const;  // -1 when absent
  int add_tensor(TensorInfo info);                   // returns its id; name must be unique
  const TensorInfo& tensor(int id) const { return tensors.at(static_cast<size_t>(id)); }
  TensorInfo& tensor(int id) { return tensors.at(static_cast<size_t>(id)); }

  // Index of the node producing tensor id, or -1 (graph input or constant).
  int producer(int tensor_id) const;
  // Indices of nodes consuming tensor id.
  std::vector<int> consumers(int tensor_id) const;
  // Re-sorts nodes topologically; throws Error naming a node when the graph has a cycle or
  // a node reads a tensor nothing produces.
  void sort_topologically();
  // Removes nodes whose outputs reach no graph output and tensors nobody uses.
  void remove_dead_code();
};

}  // namespace dnnsplit::ir
