// Internal to the kernels: streamlining. Finds the per-channel chain after a linear node (BN,
// Relu, constant Mul/Add/Sub/Div, Quant, MultiThreshold, ...) and turns "linear result ->
// chain -> quantized code" into ascending per-channel thresholds, by evaluating the chain with
// the reference's node evaluator. The chain is monotone in its input for every channel (each op
// is, for fixed constants), so a binary search over the accumulator finds, for every level t,
// the smallest accumulator whose code is >= t; the result is verified on sampled points.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/kernels.h"

namespace dnnsplit::kernels {

// How a tensor's values map to the uint8 codes the kernels store: q = a * u + b, value of q on
// channel c = the float the reference holds. Bipolar: a = 2, b = -1 (u in {0, 1}).
struct CodeMap {
  int a = 1;
  int b = 0;
  int levels = 0;                 // u in [0, levels)
  std::vector<double> scale;      // per channel (replicated when per tensor)
  bool per_channel = false;
  int64_t u_max() const { return levels - 1; }
  // The code of the real value 0, or -1 when zero is not on the grid (bipolar).
  int zero_code() const { return (-b) % a == 0 && -b / a >= 0 && -b / a < levels ? -b / a : -1; }
};

// The map of a QuantType over `channels` channels (channel axis 1), or nullopt when the
// kernels cannot hold it (non-zero zero point, more than 256 levels, bad scale, other axis).
std::optional<CodeMap> code_map_of(const ir::QuantType& q, int64_t channels, size_t rank);

// Whether `node`, reading tensor `data` (of the given rank, channel axis 1), maps each channel's
// values through a monotone function of constants (one value or one per channel).
bool is_chain_op(const ir::Graph& graph, const ir::Node& node, int data, int64_t channels, size_t rank,
                 const std::function<const Tensor*(int)>& constant);

// Per-channel elementwise chain starting at tensor `start` (the linear node's output).
struct Chain {
  std::vector<int> nodes;  // graph node indices, in order
  int end_tensor = -1;     // the last quantized tensor of the chain, -1 when there is none
  CodeMap out;             // its code map
};

// Longest chain of per-channel monotone ops from `start` whose intermediate tensors have one
// consumer and are no graph outputs, cut back to its last quantized tensor. `constant` returns
// a tensor's constant value or nullptr. The chain does not end at a tensor whose values reach a
// graph output through value-moving ops (a max-pool, flatten or reshape ending a split stage),
// nor, unless end_at_output, at a graph output itself: codes cannot tell -0 from +0, which the
// reference's Quant can produce, so such outputs are computed by the reference nodes from the
// exact linear result.
Chain find_chain(const ir::Graph& graph, int start, int64_t channels, const std::function<const Tensor*(int)>& constant,
                 bool end_at_output);

// Evaluates a chain on a batch of inputs: rows x channels float32 values, in a tensor of the
// linear output's rank with spatial extents 1.
class ChainEvaluator {
 public:
  ChainEvaluator(const ir::Graph& graph, const Chain& chain, int64_t channels, size_t rank,
                 const std::function<const Tensor*(int)>& constant, const NodeEvaluator& evaluate);
  // Codes u per element (row-major [row][channel]); the float result goes to values if given.
  std::vector<int> codes(const std::vector<float>& inputs, std::vector<float>* values) const;
  int64_t channels() const { return channels_; }

 private:
  const ir::Graph& graph_;
  const Chain& chain_;
  int64_t channels_;
  size_t rank_;
  std::function<const Tensor*(int)> constant_;
  const NodeEvaluator& evaluate_;
};

// The result of streamlining one linear node: per channel, thresholds over the kernel's
// accumulator (after the caller's sign flip of decreasing channels) and the float each output
// code stands for.
struct Requant {
  int count = 0;                   // thresholds per channel = levels - 1
  std::vector<int64_t> thresholds; // [channel][count], ascending; lo..hi+1 (hi + 1: never)
  std::vector<float> values;       // [channel][levels]
};

// Accumulator positions per channel: y(channel, position) is the float32 that enters the chain
// for that accumulator, and must be non-decreasing in position after `flip` is applied by the
// caller's y (positions are int64 accumulators, or ordered float keys for the float path).
struct PositionRange {
  std::vector<int64_t> lo, hi;  // per channel, inclusive
};

// Direction of the chain per channel from its two ends: +1 non-decreasing, -1 non-increasing.
std::vector<int8_t> chain_directions(const ChainEvaluator& chain, const PositionRange& range,
                                     const std::function<float(int64_t, int64_t)>& y);

// Thresholds by binary search, then verification on sampled positions; throws Error naming the
// node when the chain turns out not to be monotone.
Requant derive_requant(const ChainEvaluator& chain, const CodeMap& out, const PositionRange& range,
                       const std::function<float(int64_t, int64_t)>& y, const std::string& node_name);

// Ordered keys of float32 values (-0 and +0 share key 0), and back.
int64_t float_key(float v);
float key_float(int64_t key);

}  // namespace dnnsplit::kernels
