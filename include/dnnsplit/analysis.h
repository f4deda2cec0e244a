// Per-layer facts of a graph: what a user calls a layer (a Conv / MatMul / pool / residual join
// together with the BatchNorm, activation and quantizer that follow it), its weights, MACs and
// the bytes per image of the tensor it hands to the next layer. Analyses read, never change,
// the graph.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"

namespace dnnsplit {

struct LayerRow {
  std::string name;     // the node that defines the layer (compute op, or a lone quantizer)
  std::string op;       // its op type: Conv, MatMul, Gemm, MaxPool, Add, Quant, TopK, ...
  std::string detail;   // geometry, e.g. "3x3/2 p1 g32" for a conv, "256x512" for a MatMul
  Shape output_shape;   // of output_tensor, batch dimension as stored in the model
  int weight_bits = 0;  // bits per weight (0 when the layer has no weights; 32 for float)
  std::string weight_type;  // FINN name of the weight grid (INT2, BIPOLAR, ...) or FLOAT32; "" without weights
  int act_bits = 32;        // bits per element of output_tensor (32 for float)
  std::string act_type;     // FINN name of output_tensor's grid, or its element type (FLOAT32, INT64, ...)
  int64_t params = 0;       // weight elements (biases and BatchNorm parameters not counted, as FINN)
  int64_t macs = 0;         // multiply-accumulates per image
  int64_t output_bytes = 0; // packed_bytes_per_image(output_tensor)
  int output_tensor = -1;   // the tensor the layer hands on: after its quantizer when it has one
  std::vector<int> nodes;   // indices into graph.nodes belonging to this layer, in graph order
};

struct LayerTotals {
  int64_t layers = 0;
  int64_t params = 0;
  int64_t macs = 0;
  int64_t weight_bytes = 0;  // all weights packed at their bit widths
};

// One row per layer in topological order. Ops that only move data (Reshape, Flatten,
// Transpose, ...) and constant elementwise ops belong to the layer they follow; preprocessing
// before the first layer joins that layer. Throws Error naming the node when a shape the
// counts need is unknown.
std::vector<LayerRow> analyze_layers(const ir::Graph& graph);
LayerTotals layer_totals(const std::vector<LayerRow>& rows);

// Bytes one image occupies at a tensor when packed at its bit width: ceil(elements * bits / 8)
// with the batch dimension (dimension 0) excluded for activations; constants count whole.
// Bits: the tensor's quantized grid when known (BIPOLAR = 1), else its element type (float32 = 32).
// Throws Error naming the tensor when its shape is not static.
int64_t packed_bytes_per_image(const ir::Graph& graph, int tensor_id);
// Bits per element used by packed_bytes_per_image.
int tensor_bits(const ir::TensorInfo& tensor);
// FINN-style name of a tensor's grid (INT2, UINT8, BIPOLAR) or of its element type (FLOAT32).
std::string tensor_type_name(const ir::TensorInfo& tensor);

}  // namespace dnnsplit
