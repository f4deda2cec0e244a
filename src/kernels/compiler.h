// Internal to the kernels: the plan compiler's state, shared by its translation units
// (plan_compile.cpp: graph walk, conversions, views, pools; plan_linear.cpp: linear nodes and
// input lookup tables).
#pragma once

#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plan_steps.h"

namespace dnnsplit::kernels {

// How the plan holds a graph tensor.
struct ValueRef {
  enum Kind { kNone, kInput, kCodes, kFloats, kTensor } kind = kNone;
  int slot = -1;  // kInput: graph input index; otherwise a workspace slot of that kind
  ActShape shape;
  CodeMap map;                // kCodes
  std::vector<float> values;  // kCodes: [c][levels] the float each code stands for
  double bound = std::numeric_limits<double>::infinity();  // max |value|, when known
};

double max_abs(const std::vector<float>& v);

// What a linear node computes, in the kernels' terms.
struct LinearDesc {
  bool conv = false, depthwise = false, gemm = false;
  ConvGeometry g;  // MatMul / Gemm: a 1x1 "conv" over a 1x1 image with in_c = K
  int64_t m = 0, k = 0;
  std::vector<int64_t> widx;  // [m][k]: flat index into the ONNX weight, k in kernel order
  std::vector<double> bias;   // per channel: Conv bias or Gemm beta * C (0 when absent)
  bool has_bias = false;
  double alpha = 1.0;
  int weight_axis = 0;        // output-channel axis of the ONNX weight
  bool padded = false;
};

// Range per channel of sum q * wc[m][k] for q in [q_lo, q_hi] (wc row-major [channels][k]).
PositionRange sum_range(const std::vector<int64_t>& wc, int64_t channels, int64_t k, int64_t q_lo, int64_t q_hi);
// Range of the int kernels' accumulator sum u * dir * wc, u in [0, u_max]; nullopt beyond int32's
// safe range.
std::optional<PositionRange> acc_range(const std::vector<int64_t>& wc, const std::vector<int8_t>& dir, int64_t channels,
                                       int64_t k, int64_t u_max);

// A depthwise step's kernel, weights (dir * codes, [taps][c_padded]) and packed thresholds; the
// int16 kernel when the sums allow it.
DwSpec make_dw_spec(const LinearDesc& d, const std::vector<int64_t>& wc, const std::vector<int8_t>& dir,
                    const std::vector<int32_t>& thresholds, int count, int u_max, uint8_t pad_code, bool simd);

class Compiler {
 public:
  Compiler(const ir::Graph& graph, const NodeEvaluator& evaluate, const CompileOptions& options);
  void compile();

  std::vector<std::unique_ptr<Step>> steps_;
  WorkspaceLayout layout_;
  int64_t fast_macs_ = 0;
  int64_t slow_macs_ = 0;
  std::vector<std::optional<Tensor>> folded_;  // constants folded here, by tensor id

 private:
  const Tensor* constant(int id) const;
  std::function<const Tensor*(int)> constant_fn() const;
  int new_codes_slot(int64_t elements);
  int new_floats_slot(int64_t elements);
  int new_tensor_slot();
  void add_step(std::unique_ptr<Step> step);
  std::optional<ActShape> act_shape(int id) const;

  // The tensor as a reference tensor slot / as codes / as NHWC float values (slot, max |x|),
  // adding conversion steps on first use.
  int as_tensor(int id);
  const ValueRef* codes_of(int id);
  std::optional<std::pair<int, double>> floats_of(int id);

  bool fold(size_t index);
  void reference(size_t index);
  // The reference's exact integer path for a linear node without a fast kernel; false when the
  // node's form is not covered (then compiling fails).
  bool exact_reference(size_t index);
  int64_t reference_macs(const ir::Node& node) const;
  // Whether engine::Session runs this Conv / MatMul / Gemm on its exact integer path.
  bool session_exact(const ir::Node& node) const;
  bool try_view(size_t index);
  bool try_maxpool(size_t index);
  bool try_lut(size_t index);
  bool try_linear(size_t index);
  // Codes of the chain's end in `slot`, the chain's nodes consumed.
  void finish_chain(const Chain& chain, int slot, const Requant& rq, int64_t macs);
  // Float thresholds of the reference's float path (sums in double, one rounding), per channel
  // in the direction dir (weights and bias multiplied by it).
  struct FloatRequant {
    std::vector<int8_t> dir;
    Requant rq;
    std::vector<float> thresholds;  // [m][count]; +inf: never
  };
  FloatRequant float_requant(const LinearDesc& d, const Chain& chain, size_t out_rank, const Tensor& w, double in_bound,
                             const std::string& name) const;
  // A depthwise conv on the float path (input codes with per-channel scales) run on integer
  // codes, plan_depthwise.cpp.
  bool try_float_depthwise(const ir::Node& node, const LinearDesc& d, const Chain& chain, const std::string& name,
                           int64_t macs);

  const ir::Graph& graph_;
  const NodeEvaluator& evaluate_;
  CompileOptions options_;
  std::vector<ValueRef> values_;
  std::vector<int> tensor_slot_;
  std::vector<int> codes_cache_;   // index into encoded_
  std::vector<int> floats_cache_;  // float slot
  std::deque<ValueRef> encoded_;  // stable addresses for codes_of
  std::vector<bool> consumed_;
};

}  // namespace dnnsplit::kernels
