// Internal to the engine: the exact integer path of Conv / MatMul / Gemm.
//
// When the data input of one of these ops lives on a per-tensor integer grid (x = q * s_act,
// zero point 0) and the weight is a constant on a per-tensor or per-output-channel grid
// (w = q_w * s_w[oc], zero point 0), the Session does not trust float accumulation. It
// recovers the integer codes q = nearbyint(double(x) / double(s_act)) (exact, since
// x = float32(q * s_act)), accumulates S = sum q * q_w in int64 and produces
//     y = float32(double(S) * (double(s_act) * double(s_w[oc])) + double(bias[oc]))
// (Gemm: float32(alpha * (double(S) * scale) + beta * double(C))), one rounding per output.
// A float path could disagree with this at a tie of a later quantizer; this one cannot, and
// the fast kernels reproduce it bit for bit.
#pragma once

#include <string>
#include <vector>

#include "kernel.h"

namespace dnnsplit::engine {

struct ExactLinearPlan {
  double act_scale = 1.0;
  int64_t act_min = 0;  // integer range of the data input's codes
  int64_t act_max = 0;
  std::string act_type;  // FINN name, for messages
  std::vector<int64_t> weight_codes;  // in the weight tensor's layout
  std::vector<double> weight_scale;   // size 1 (per tensor) or one per output channel
};

// Runs node (Conv, MatMul or Gemm) on ctx's inputs with the plan's integer weights. Fails
// naming the node and tensor when a data value is not on the announced grid.
std::vector<Tensor> run_linear_exact(const KernelContext& ctx, const ExactLinearPlan& plan);

// Runs the node's kernel (or, given a plan, its exact integer path) on inputs whose count has
// been checked: the one place kernels run, so every error names the node.
std::vector<Tensor> execute_node(const OpSpec& spec, const ir::Node& node, const std::vector<const Tensor*>& inputs,
                                 int64_t opset, const ir::Graph* graph, const ExactLinearPlan* exact);

// Axis of the weight that holds the output channels (Conv: 0, MatMul: last, Gemm: 1 or 0
// with transB), or -1 when the op/weight cannot take the exact path.
int64_t weight_output_axis(const ir::Node& node, size_t weight_rank);

}  // namespace dnnsplit::engine
