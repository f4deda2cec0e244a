// The kernel tables and single-node execution.
#include <algorithm>
#include <map>

#include "dnnsplit/engine.h"
#include "kernel.h"
#include "linear.h"

namespace dnnsplit::engine {

namespace {

using Table = std::map<std::string, OpSpec>;

Table make_table(const std::vector<std::vector<OpSpec>>& families) {
  Table table;
  for (const auto& family : families) {
    for (const auto& spec : family) table.emplace(spec.op_type, spec);
  }
  return table;
}

const Table& standard_table() {
  static const Table table = make_table({elementwise_ops(), activation_ops(), linear_ops(), pool_norm_ops(),
                                         shape_ops(), tensor_ops(), reduce_ops()});
  return table;
}

const Table& qonnx_table() {
  static const Table table = make_table({qonnx_ops()});
  return table;
}

}  // namespace

const OpSpec* find_op(const ir::Node& node) {
  const Table* table = nullptr;
  if (node.domain.empty() || node.domain == "ai.onnx") {
    table = &standard_table();
  } else if (ir::is_qonnx_domain(node.domain)) {
    table = &qonnx_table();
  } else {
    return nullptr;
  }
  auto it = table->find(node.op_type);
  return it == table->end() ? nullptr : &it->second;
}

const std::vector<std::string>& supported_standard_ops() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, spec] : standard_table()) v.push_back(name);
    return v;
  }();
  return names;
}

bool supports(const ir::Node& node) { return find_op(node) != nullptr; }

void check_node_arity(const ir::Node& node, size_t input_count, const std::vector<bool>& present) {
  const OpSpec* spec = find_op(node);
  if (spec == nullptr) {
    throw Error(node.describe() + ": op '" + node.op_type + "'" +
                (node.domain.empty() ? std::string() : " of domain '" + node.domain + "'") +
                " is not supported by the engine");
  }
  const auto count = static_cast<int>(input_count);
  if (count < spec->min_inputs || (spec->max_inputs >= 0 && count > spec->max_inputs)) {
    const std::string expected = spec->max_inputs < 0 ? "at least " + std::to_string(spec->min_inputs)
                                 : spec->min_inputs == spec->max_inputs
                                     ? std::to_string(spec->min_inputs)
                                     : std::to_string(spec->min_inputs) + " to " + std::to_string(spec->max_inputs);
    throw Error(node.describe() + ": takes " + expected + " inputs, got " + std::to_string(count));
  }
  for (int i = 0; i < spec->min_inputs; ++i) {
    if (!present[static_cast<size_t>(i)]) {
      throw Error(node.describe() + ": required input " + std::to_string(i) + " is missing");
    }
  }
}

namespace {

// Inputs handed in from outside (run_node callers, graph constants) must be well-formed before
// any kernel indexes into them.
void check_tensor(const ir::Node& node, const Tensor& t, size_t index) {
  size_t have = t.i64.size();
  if (t.type == ElemType::kFloat) have = t.f32.size();
  if (t.type == ElemType::kDouble) have = t.f64.size();
  const bool dims_ok = std::all_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d >= 0; });
  if (!dims_ok || have != static_cast<size_t>(t.numel())) {
    throw Error(node.describe() + ": input " + std::to_string(index) + " of shape " + shape_to_string(t.shape) +
                " holds " + std::to_string(have) + " values");
  }
}

}  // namespace

std::vector<Tensor> execute_node(const OpSpec& spec, const ir::Node& node, const std::vector<const Tensor*>& inputs,
                                 int64_t opset, const ir::Graph* graph, const ExactLinearPlan* exact) {
  const KernelContext ctx{node, inputs, opset, graph};
  std::vector<Tensor> outputs;
  try {
    outputs = exact != nullptr ? run_linear_exact(ctx, *exact) : spec.kernel(ctx);
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.find(node.describe()) != std::string::npos) throw;
    throw Error(node.describe() + ": " + message);
  } catch (const std::exception& e) {  // e.g. std::bad_alloc on absurd shapes
    throw Error(node.describe() + ": " + e.what());
  }
  if (outputs.size() < node.outputs.size()) {
    throw Error(node.describe() + ": has " + std::to_string(node.outputs.size()) + " outputs, the op produces " +
                std::to_string(outputs.size()));
  }
  outputs.resize(node.outputs.size());
  return outputs;
}

std::vector<Tensor> run_node(const ir::Node& node, const std::vector<const Tensor*>& inputs, int64_t opset,
                             const ir::Graph* graph) {
  std::vector<bool> present;
  for (size_t i = 0; i < inputs.size(); ++i) {
    present.push_back(inputs[i] != nullptr);
    if (inputs[i] != nullptr) check_tensor(node, *inputs[i], i);
  }
  check_node_arity(node, inputs.size(), present);
  return execute_node(*find_op(node), node, inputs, opset, graph, nullptr);
}

}  // namespace dnnsplit::engine
