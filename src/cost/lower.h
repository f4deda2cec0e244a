// Internal: the state of lower_to_hw while it walks the IR (lower.cpp: walk, quantizers, tail;
// lower_compute.cpp: convolutions, matrix products, pooling, joins).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dnnsplit/cost.h"

namespace dnnsplit::cost::detail {

// What flows on an IR tensor from the hardware's point of view.
struct Stream {
  bool valid = false;
  int layer = -1;                // producing hardware layer; -1 = graph input
  std::optional<DataType> type;  // integer type of the words on the stream
  bool accumulator = false;      // raw MVAU/VVAU output, its quantizer still to come
  bool float_tail = false;       // after an op FINN cannot build (Softmax): software only
  std::vector<int> pending;      // IR nodes absorbed by whichever layer consumes this next
  std::vector<int> per_channel;  // the pending affine ops that are per-channel
  Shape shape;                   // IR shape (NCHW)
};

class Lowerer {
 public:
  Lowerer(const ir::Graph& graph, const LowerOptions& options);
  HwGraph run();

 private:
  // lower.cpp
  void lower_node(int index);
  const Stream& input_stream(int node_index, size_t slot);
  void set_output(int tensor_id, Stream stream);
  int add_layer(HwLayer layer, const std::vector<int>& covered);
  void cover(int layer, const std::vector<int>& nodes);
  std::string where(int node_index) const;
  DataType require_type(int node_index, size_t slot);
  void pass_through(int node_index, bool affine, bool per_channel);
  void lower_quantizer(int node_index);
  void lower_trunc(int node_index);
  void lower_label_select(int node_index, int64_t k);
  int add_channelwise_ops(Stream& stream);
  void finish_outputs();
  void choose_backends();

  // lower_compute.cpp
  void lower_conv(int node_index);
  void lower_matmul(int node_index, bool gemm);
  void lower_maxpool(int node_index);
  void lower_average_pool(int node_index, bool global);
  void lower_add_streams(int node_index);
  int add_padding(const Stream& in, const std::array<int64_t, 4>& pads, const std::vector<int>& covered);
  void add_weights(HwLayer& layer, int node_index, int weight_tensor, int out_axis);

  bool is_constant(int tensor_id) const;
  int64_t dim(int node_index, int tensor_id, size_t axis) const;

  const ir::Graph& g_;
  LowerOptions opt_;
  HwGraph hw_;
  std::vector<Stream> streams_;
  std::vector<int> consumers_;          // uses of each tensor by nodes
  std::vector<bool> derived_constant_;  // outputs of constant computations the importer left
  bool has_label_select_ = false;
};

}  // namespace dnnsplit::cost::detail
