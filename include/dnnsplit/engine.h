// The CPU engine: executes an ir::Graph with exact QONNX semantics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::engine {

struct Options {
  int threads = 1;  // worker threads of the fast kernels; the reference path is single-threaded
  // Run on the fast low-bit kernels (dnnsplit/kernels.h), bit-identical to the reference; a graph
  // they cannot compile runs on the reference path. false: the reference path, the ground truth.
  bool fast = false;
};

// A graph compiled for repeated execution. Inputs are given in graph-input order, outputs come
// back in graph-output order. Any batch size N >= 1 is accepted in dimension 0 (a Reshape to a
// constant shape that starts with the graph's static batch follows the actual batch).
//
// Construction validates every node (supported op, input count, inputs available), folds nodes
// whose inputs are all constant, and plans the exact integer path: a Conv / MatMul / Gemm whose
// data input has a per-tensor QuantType (zero point 0) and whose weight is a constant with a
// per-tensor or per-output-channel QuantType accumulates the integer codes in int64 and rounds
// once, y = float32(S * (s_act * s_w[oc]) + bias). Weights off their announced grid are an
// Error at construction, activations off theirs an Error at run time. run() is const and may be
// called from several threads at once.
class Session {
 public:
  explicit Session(ir::Graph graph, Options options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  const ir::Graph& graph() const;
  // True when run() uses the fast kernels (Options::fast and the graph compiled for them).
  bool fast() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Executes one node on the given inputs (nullptr for omitted optional inputs), as used by the
// ONNX conformance tests. opset is the default-domain opset the node is interpreted under;
// graph, when given, only supplies tensor names for error messages. Returns one tensor per
// node output. Throws Error naming the node for unsupported ops and bad inputs.
std::vector<Tensor> run_node(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                             int64_t opset, const ir::Graph* graph = nullptr);

// The standard ONNX ops the engine claims to implement (the conformance list). One place.
const std::vector<std::string>& supported_standard_ops();
// True when the engine can execute this node (standard or QONNX custom op).
bool supports(const ir::Node& node);

}  // namespace dnnsplit::engine
