// Fast low-bit execution of a quantized ir::Graph on the CPU, bit-identical to engine::Session.
//
// compile_fast_plan streamlines every Conv / MatMul / Gemm whose reference result is a function
// of an integer accumulator (the engine's exact integer path) or of a float32 sum it can
// reproduce (the float path), together with the per-channel chain after it (BatchNormalization,
// Relu, Mul/Add/Sub/Div by constants, Quant, BipolarQuant, MultiThreshold), into integer weights
// and per-channel thresholds found by evaluating that chain with the reference's own node
// evaluator. Activations then stay uint8 codes (NHWC) between SIMD kernels; every node the plan
// has no kernel for runs through the same evaluator, so outputs match the reference bit for bit.
// Weights are packed and buffers allocated once, at compile time.
//
// A Conv / MatMul / Gemm the Session runs on its exact integer path but the plan has no kernel
// for (grouped non-depthwise conv, batched MatMul) runs through the evaluator on its integer
// codes as float64 (exact sums), with the Session's rounding applied after. Codes cannot hold
// the sign of a zero, so a quantized tensor that is a graph output, or reaches one through
// value-moving ops (max-pool, flatten, reshape, ...), is computed by the reference nodes (except
// a depthwise conv's chain ending at a graph output itself, which has no float kernel); where
// the plan decodes codes for other reference nodes, a -0 of the reference becomes +0, which
// only sign-sensitive ops could tell apart.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::kernels {

// Runs one node on the given inputs (nullptr for omitted optional inputs) with the reference
// semantics, e.g. [&](auto& n, auto& in) { return engine::run_node(n, in, graph.opset); }.
using NodeEvaluator = std::function<std::vector<Tensor>(const ir::Node&, const std::vector<const Tensor*>&)>;

struct CompileOptions {
  int threads = 1;    // worker threads of run(); images of a batch are shared among them
  bool simd = true;   // false: the generic (scalar) kernels, the bit-exact truth
  int group = 0;      // images a worker runs layer by layer together; 0: chosen from memory use
};

// One step of the compiled plan, for reports and per-layer timing.
struct StepInfo {
  std::string name;    // the graph node(s) it covers, e.g. "conv1+conv1_bn+conv1_act"
  std::string kind;    // qgemm, dwconv, fconv, maxpool, lut, decode, encode, reference, ...
  std::string kernel;  // the kernel's name, empty for reference steps
  int64_t macs = 0;    // multiply-accumulates per image
};

class FastPlan {
 public:
  FastPlan();
  ~FastPlan();
  FastPlan(FastPlan&&) noexcept;
  FastPlan& operator=(FastPlan&&) noexcept;

  // Same contract as engine::Session::run: inputs in graph-input order with any batch N >= 1 in
  // dimension 0, outputs in graph-output order. Calls are serialised (the plan owns its buffers).
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  // One thread, images one after another, adding each step's thread CPU time to step_seconds
  // (resized to steps().size()).
  std::vector<Tensor> run_profiled(const std::vector<Tensor>& inputs, std::vector<double>& step_seconds) const;

  const std::vector<StepInfo>& steps() const;
  int threads() const;
  // How much of the model's multiply-accumulate work runs in fast kernels, in [0, 1].
  double fast_mac_share() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  friend FastPlan compile_fast_plan(const ir::Graph&, const NodeEvaluator&, const CompileOptions&);
};

// Throws Error naming the node when the graph cannot be executed at all; nodes without a fast
// kernel are not an error (they run through `evaluate`).
FastPlan compile_fast_plan(const ir::Graph& graph, const NodeEvaluator& evaluate, const CompileOptions& options = {});

}  // namespace dnnsplit::kernels
