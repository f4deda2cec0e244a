// The CPU engine: executes an ir::Graph with exact QONNX semantics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::engine {

struct Options {
  int threads = 1;
};

// A graph compiled for repeated execution. Inputs are given in graph-input order, outputs come
// back in graph-output order. Any batch size N >= 1 is accepted in dimension 0.
class Session {
 public:
  explicit Session(ir::Graph graph, Options options = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  const ir::Graph& graph() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Executes one node on the given inputs (nullptr for omitted optional inputs), as used by the
// ONNX conformance tests. opset is the default-domain opset the node is interpreted under.
std::vector<Tensor> run_node(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                             int64_t opset);

// The standard ONNX ops the engine claims to implement (the conformance list). One place.
const std::vector<std::string>& supported_standard_ops();
// True when the engine can execute this node (standard or QONNX custom op).
bool supports(const ir::Node& node);

}  // namespace dnnsplit::engine
