// Session: compiles an ir::Graph once (validation, constant folding, exact integer plans,
// batch-following Reshapes) and runs it any number of times, reentrantly.
#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/kernels.h"
#include "linear.h"

namespace dnnsplit::engine {

namespace {

struct CompiledNode {
  size_t index = 0;  // into graph.nodes
  const OpSpec* spec = nullptr;
  std::optional<ExactLinearPlan> exact;
  // Reshape whose constant target starts with the graph's static batch: when a run's batch N
  // differs and the Reshape's input leads with N, the target's first extent becomes N, so a
  // model exported with batch 1 (e.g. Reshape to [1, -1]) runs with batch N.
  bool batch_reshape = false;
  std::vector<int> release;  // tensors whose last reader is this node
};

bool zero_points_zero(const ir::QuantType& q) {
  for (float z : q.zero_point) {
    if (z != 0.0F) return false;
  }
  return true;
}

bool usable_scale(float s) { return std::isfinite(s) && s > 0.0F; }

std::string storage_size_problem(const Tensor& t) {
  size_t have = t.i64.size();
  if (t.type == ElemType::kFloat) have = t.f32.size();
  if (t.type == ElemType::kDouble) have = t.f64.size();
  const bool dims_ok = std::all_of(t.shape.begin(), t.shape.end(), [](int64_t d) { return d >= 0; });
  if (dims_ok && have == static_cast<size_t>(t.numel())) return {};
  return "holds " + std::to_string(have) + " values for shape " + shape_to_string(t.shape);
}

}  // namespace

struct Session::Impl {
  ir::Graph graph;
  Options options;
  std::vector<std::optional<Tensor>> constants;  // by tensor id: initializers and folded results
  std::vector<CompiledNode> nodes;               // the nodes left to run, in order
  int64_t static_batch = -1;                     // dim 0 of the first graph input, when known
  std::unique_ptr<kernels::FastPlan> fast_plan;  // Options::fast, when the graph compiled for it

  void compile();
  void check_inputs_available();
  void fold_constants();
  std::optional<ExactLinearPlan> exact_plan(const ir::Node& node) const;
  void mark_batch_reshape(CompiledNode& compiled) const;
  void plan_releases();
  void check_feed(const std::vector<Tensor>& inputs) const;
};

void Session::Impl::compile() {
  constants.resize(graph.tensors.size());
  for (size_t id = 0; id < graph.tensors.size(); ++id) {
    constants[id] = graph.tensors[id].constant;
    if (!constants[id]) continue;
    const std::string problem = storage_size_problem(*constants[id]);
    check(problem.empty(), "graph '" + graph.name + "' constant '" + graph.tensors[id].name + "' " + problem);
  }
  if (!graph.inputs.empty()) {
    const auto& shape = graph.tensor(graph.inputs[0]).shape;
    if (!shape.empty() && shape[0] >= 1) static_batch = shape[0];
  }
  check_inputs_available();
  fold_constants();
  for (auto& compiled : nodes) {
    const ir::Node& node = graph.nodes[compiled.index];
    compiled.exact = exact_plan(node);
    mark_batch_reshape(compiled);
  }
  plan_releases();
}

// Every node is supported, has a valid input count and reads only tensors that exist by the
// time it runs.
void Session::Impl::check_inputs_available() {
  std::vector<bool> available(graph.tensors.size(), false);
  for (size_t id = 0; id < graph.tensors.size(); ++id) available[id] = constants[id].has_value();
  for (int id : graph.inputs) available[static_cast<size_t>(id)] = true;
  for (const auto& node : graph.nodes) {
    std::vector<bool> present;
    for (int id : node.inputs) present.push_back(id >= 0);
    check_node_arity(node, node.inputs.size(), present);
    for (int id : node.inputs) {
      if (id >= 0 && !available[static_cast<size_t>(id)]) {
        throw Error(node.describe() + ": reads tensor '" + graph.tensor(id).name +
                    "', which is no graph input, no initializer and no output of an earlier node");
      }
    }
    for (int id : node.outputs) {
      if (id >= 0) available[static_cast<size_t>(id)] = true;
    }
  }
  for (int id : graph.outputs) {
    check(available[static_cast<size_t>(id)], "graph output '" + graph.tensor(id).name + "' is never produced");
  }
}

// Nodes whose inputs are all constant run once here (e.g. Quant on weights, shape chains).
void Session::Impl::fold_constants() {
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const ir::Node& node = graph.nodes[i];
    bool all_constant = true;
    std::vector<const Tensor*> inputs;
    for (int id : node.inputs) {
      if (id < 0) {
        inputs.push_back(nullptr);
        continue;
      }
      const auto& c = constants[static_cast<size_t>(id)];
      all_constant = all_constant && c.has_value();
      inputs.push_back(c ? &*c : nullptr);
    }
    if (!all_constant) {
      CompiledNode compiled;
      compiled.index = i;
      compiled.spec = find_op(node);
      nodes.push_back(std::move(compiled));
      continue;
    }
    auto outputs = run_node(node, inputs, graph.opset, &graph);
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      if (node.outputs[k] >= 0) constants[static_cast<size_t>(node.outputs[k])] = std::move(outputs[k]);
    }
  }
}

std::optional<ExactLinearPlan> Session::Impl::exact_plan(const ir::Node& node) const {
  if (!node.domain.empty() || (node.op_type != "Conv" && node.op_type != "MatMul" && node.op_type != "Gemm")) {
    return std::nullopt;
  }
  if (node.inputs.size() < 2 || node.inputs[0] < 0 || node.inputs[1] < 0) return std::nullopt;
  const auto& data = graph.tensor(node.inputs[0]);
  const auto& weight_info = graph.tensor(node.inputs[1]);
  const auto& weight = constants[static_cast<size_t>(node.inputs[1])];
  if (!data.quant || !weight_info.quant || !weight || data.type != ElemType::kFloat ||
      weight->type != ElemType::kFloat) {
    return std::nullopt;
  }
  const ir::QuantType& dq = *data.quant;
  const ir::QuantType& wq = *weight_info.quant;
  if (dq.scale.size() != 1 || !usable_scale(dq.scale[0]) || !zero_points_zero(dq) || !zero_points_zero(wq)) {
    return std::nullopt;
  }
  const int64_t axis = weight_output_axis(node, weight->shape.size());
  if (wq.scale.size() > 1 &&
      (wq.channel_axis != axis || axis < 0 ||
       static_cast<int64_t>(wq.scale.size()) != weight->shape[static_cast<size_t>(axis)])) {
    return std::nullopt;
  }
  for (float s : wq.scale) {
    if (!usable_scale(s)) return std::nullopt;
  }
  ExactLinearPlan plan;
  plan.act_scale = dq.scale[0];
  plan.act_min = dq.min_int();
  plan.act_max = dq.max_int();
  plan.act_type = dq.finn_name();
  plan.weight_scale.assign(wq.scale.begin(), wq.scale.end());
  // Weight codes, checked to lie exactly on the announced grid.
  const auto strides = strides_of(weight->shape);
  plan.weight_codes.resize(weight->f32.size());
  for (size_t i = 0; i < weight->f32.size(); ++i) {
    const size_t channel =
        wq.scale.size() == 1 ? 0
                             : static_cast<size_t>((static_cast<int64_t>(i) / strides[static_cast<size_t>(axis)]) %
                                                   weight->shape[static_cast<size_t>(axis)]);
    const double s = plan.weight_scale[channel];
    const double q = std::nearbyint(static_cast<double>(weight->f32[i]) / s);
    if (q < static_cast<double>(wq.min_int()) || q > static_cast<double>(wq.max_int()) ||
        static_cast<float>(q * s) != weight->f32[i]) {
      std::ostringstream msg;
      msg << node.describe() << ": weight '" << weight_info.name << "' value " << weight->f32[i] << " at flat index "
          << i << " is not on its " << wq.finn_name() << " grid with scale " << s;
      throw Error(msg.str());
    }
    plan.weight_codes[i] = static_cast<int64_t>(q);
  }
  return plan;
}

void Session::Impl::mark_batch_reshape(CompiledNode& compiled) const {
  const ir::Node& node = graph.nodes[compiled.index];
  if (!node.domain.empty() || node.op_type != "Reshape" || static_batch < 1 || node.inputs.size() != 2 ||
      node.inputs[0] < 0 || node.inputs[1] < 0) {
    return;
  }
  const auto& target = constants[static_cast<size_t>(node.inputs[1])];
  if (!target || target->is_float() || target->i64.empty() || target->i64[0] != static_batch) return;
  const auto& t = target->i64;
  const Shape& in_shape = graph.tensor(node.inputs[0]).shape;
  const bool known = !in_shape.empty() && std::all_of(in_shape.begin(), in_shape.end(), [](int64_t d) { return d >= 0; });
  if (!known) {
    compiled.batch_reshape = true;  // decided at run time from the input's leading extent
    return;
  }
  // With a static input shape: the first extent is the batch in and out, and the rest keeps the
  // per-sample element count (or contains a -1 that adapts to it, as in [1, -1]).
  if (in_shape[0] != static_batch) return;
  int64_t rest = 1;
  bool inferred = false;
  for (size_t i = 1; i < t.size(); ++i) {
    inferred = inferred || t[i] == -1;
    rest *= t[i] == 0 && i < in_shape.size() ? in_shape[i] : t[i];
  }
  compiled.batch_reshape = inferred || rest * static_batch == shape_numel(in_shape);
}

void Session::Impl::plan_releases() {
  std::vector<int> last_reader(graph.tensors.size(), -1);
  for (size_t k = 0; k < nodes.size(); ++k) {
    for (int id : graph.nodes[nodes[k].index].inputs) {
      if (id >= 0) last_reader[static_cast<size_t>(id)] = static_cast<int>(k);
    }
  }
  for (int id : graph.outputs) last_reader[static_cast<size_t>(id)] = -1;  // kept until the end
  for (size_t id = 0; id < last_reader.size(); ++id) {
    if (last_reader[id] >= 0 && !constants[id]) {
      nodes[static_cast<size_t>(last_reader[id])].release.push_back(static_cast<int>(id));
    }
  }
}

void Session::Impl::check_feed(const std::vector<Tensor>& inputs) const {
  if (inputs.size() != graph.inputs.size()) {
    std::string names;
    for (int id : graph.inputs) names += (names.empty() ? "'" : ", '") + graph.tensor(id).name + "'";
    throw Error("graph '" + graph.name + "' takes " + std::to_string(graph.inputs.size()) + " inputs (" + names +
                "), got " + std::to_string(inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& info = graph.tensor(graph.inputs[i]);
    const Tensor& t = inputs[i];
    const std::string what = "graph '" + graph.name + "' input '" + info.name + "'";
    check(t.type == info.type,
          what + " expects " + elem_type_name(info.type) + " values, got " + elem_type_name(t.type));
    const std::string problem = storage_size_problem(t);
    check(problem.empty(), what + ": the given tensor " + problem);
    if (info.shape.empty()) continue;  // shape not known statically
    bool ok = t.shape.size() == info.shape.size() && t.shape[0] >= 1;
    for (size_t d = 1; ok && d < t.shape.size(); ++d) ok = info.shape[d] < 0 || info.shape[d] == t.shape[d];
    check(ok, what + " expects shape " + shape_to_string(info.shape) + " (any batch >= 1 in dimension 0), got " +
                  shape_to_string(t.shape));
  }
}

Session::Session(ir::Graph graph, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->graph = std::move(graph);
  impl_->options = options;
  impl_->compile();
  if (options.fast) {
    const int64_t opset = impl_->graph.opset;
    const kernels::NodeEvaluator evaluate = [opset](const ir::Node& node, const std::vector<const Tensor*>& in) {
      return run_node(node, in, opset);
    };
    try {
      impl_->fast_plan = std::make_unique<kernels::FastPlan>(
          kernels::compile_fast_plan(impl_->graph, evaluate, kernels::CompileOptions{options.threads}));
    } catch (const Error&) {
      // The reference path has validated the graph; what the fast compiler rejects still runs there.
      impl_->fast_plan.reset();
    }
  }
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

const ir::Graph& Session::graph() const { return impl_->graph; }

bool Session::fast() const { return impl_->fast_plan != nullptr; }

std::vector<Tensor> Session::run(const std::vector<Tensor>& inputs) const {
  const Impl& s = *impl_;
  const ir::Graph& g = s.graph;
  s.check_feed(inputs);
  if (s.fast_plan) return s.fast_plan->run(inputs);
  std::vector<std::optional<Tensor>> values(g.tensors.size());
  for (size_t i = 0; i < inputs.size(); ++i) values[static_cast<size_t>(g.inputs[i])] = inputs[i];
  auto value_of = [&](int id) -> const Tensor* {
    if (id < 0) return nullptr;
    const auto& c = s.constants[static_cast<size_t>(id)];
    if (c) return &*c;
    const auto& v = values[static_cast<size_t>(id)];
    return v ? &*v : nullptr;
  };
  // The batch of this run, when the graph has a static batch it differs from.
  const int64_t run_batch = s.static_batch >= 1 && !inputs.empty() && !inputs[0].shape.empty() ? inputs[0].shape[0] : -1;
  for (const CompiledNode& compiled : s.nodes) {
    const ir::Node& node = g.nodes[compiled.index];
    std::vector<const Tensor*> args;
    for (int id : node.inputs) args.push_back(value_of(id));
    Tensor batch_target;
    if (compiled.batch_reshape && run_batch != s.static_batch && args[0] != nullptr && !args[0]->shape.empty() &&
        args[0]->shape[0] == run_batch) {
      batch_target = *args[1];
      batch_target.i64[0] = args[0]->shape[0];
      args[1] = &batch_target;
    }
    auto outputs = execute_node(*compiled.spec, node, args, g.opset, &g, compiled.exact ? &*compiled.exact : nullptr);
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      if (node.outputs[k] >= 0) values[static_cast<size_t>(node.outputs[k])] = std::move(outputs[k]);
    }
    for (int id : compiled.release) values[static_cast<size_t>(id)].reset();
  }
  std::vector<Tensor> results;
  for (int id : g.outputs) results.push_back(*value_of(id));
  return results;
}

}  // namespace dnnsplit::engine
