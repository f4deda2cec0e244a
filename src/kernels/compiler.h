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
  int64_t reference_macs(const ir::Node& node) const;
  // Whether engine::Session runs this Conv / MatMul / Gemm on its exact integer path.
  bool session_exact(const ir::Node& node) const;
  bool try_view(size_t index);
  bool try_maxpool(size_t index);
  bool try_lut(size_t index);
  bool try_linear(size_t index);

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
