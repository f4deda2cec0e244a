// compile_fast_plan: walks the graph in order and gives every node the fastest step that keeps
// the reference's results: lookup tables for preprocessing chains on integer graph inputs,
// qgemm / depthwise / float-path kernels for linear nodes with their streamlined chains,
// max-pool and flatten on codes, and the reference evaluator for everything else, with layout
// conversions where the representations meet.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>
#include <set>
#include <spdlog/spdlog.h>

#include "dnnsplit/error.h"
#include "compiler.h"

namespace dnnsplit::kernels {

Compiler::Compiler(const ir::Graph& graph, const NodeEvaluator& evaluate, const CompileOptions& options)
    : graph_(graph), evaluate_(evaluate), options_(options) {
  const size_t n = graph.tensors.size();
  folded_.resize(n);
  values_.resize(n);
  tensor_slot_.assign(n, -1);
  codes_cache_.assign(n, -1);
  floats_cache_.assign(n, -1);
  consumed_.assign(graph.nodes.size(), false);
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    auto& v = values_[static_cast<size_t>(graph.inputs[i])];
    v.kind = ValueRef::kInput;
    v.slot = static_cast<int>(i);
  }
}

const Tensor* Compiler::constant(int id) const {
  if (id < 0) return nullptr;
  const auto& info = graph_.tensor(id);
  if (info.constant) return &*info.constant;
  const auto& f = folded_[static_cast<size_t>(id)];
  return f ? &*f : nullptr;
}

std::function<const Tensor*(int)> Compiler::constant_fn() const {
  return [this](int id) { return constant(id); };
}

int Compiler::new_codes_slot(int64_t elements) {
  layout_.codes.push_back(static_cast<size_t>(elements));
  return static_cast<int>(layout_.codes.size()) - 1;
}
int Compiler::new_floats_slot(int64_t elements) {
  layout_.floats.push_back(static_cast<size_t>(elements));
  return static_cast<int>(layout_.floats.size()) - 1;
}
int Compiler::new_tensor_slot() { return static_cast<int>(layout_.tensors++); }

void Compiler::add_step(std::unique_ptr<Step> step) { steps_.push_back(std::move(step)); }

std::optional<ActShape> Compiler::act_shape(int id) const {
  const Shape& shape = graph_.tensor(id).shape;
  if (shape.size() != 2 && shape.size() != 4) return std::nullopt;
  for (size_t d = 1; d < shape.size(); ++d) {
    if (shape[d] <= 0) return std::nullopt;
  }
  ActShape s;
  s.logical = shape;
  s.logical[0] = 1;
  s.c = shape[1];
  if (shape.size() == 4) {
    s.h = shape[2];
    s.w = shape[3];
  }
  return s;
}

int Compiler::as_tensor(int id) {
  auto& slot = tensor_slot_[static_cast<size_t>(id)];
  if (slot >= 0) return slot;
  const ValueRef& v = values_[static_cast<size_t>(id)];
  const std::string& name = graph_.tensor(id).name;
  switch (v.kind) {
    case ValueRef::kInput:
      slot = new_tensor_slot();
      add_step(make_input_step({name, "input", "", 0}, v.slot, slot));
      break;
    case ValueRef::kCodes:
      slot = new_tensor_slot();
      add_step(make_codes_to_tensor_step({name, "decode", "", 0}, v.shape, v.values, v.map.levels, v.slot, slot));
      break;
    case ValueRef::kFloats:
      slot = new_tensor_slot();
      add_step(make_floats_to_tensor_step({name, "to-nchw", "", 0}, v.shape, v.slot, slot));
      break;
    case ValueRef::kTensor:
      slot = v.slot;
      break;
    case ValueRef::kNone:
      throw Error("tensor '" + name + "' is used before any node produces it");
  }
  return slot;
}

const ValueRef* Compiler::codes_of(int id) {
  const ValueRef& v = values_[static_cast<size_t>(id)];
  if (v.kind == ValueRef::kCodes) return &v;
  if (codes_cache_[static_cast<size_t>(id)] >= 0) return &encoded_[static_cast<size_t>(codes_cache_[static_cast<size_t>(id)])];
  const auto& info = graph_.tensor(id);
  const auto shape = act_shape(id);
  if (!info.quant || !shape || info.type != ElemType::kFloat || v.kind == ValueRef::kNone) return nullptr;
  const auto map = code_map_of(*info.quant, shape->c, shape->logical.size());
  if (!map) return nullptr;
  ValueRef enc;
  enc.kind = ValueRef::kCodes;
  enc.shape = *shape;
  enc.map = *map;
  enc.slot = new_codes_slot(shape->numel());
  enc.values.resize(static_cast<size_t>(shape->c * map->levels));
  for (int64_t c = 0; c < shape->c; ++c) {
    for (int u = 0; u < map->levels; ++u) {
      enc.values[static_cast<size_t>(c * map->levels + u)] =
          static_cast<float>(static_cast<double>(map->a * u + map->b) * map->scale[static_cast<size_t>(c)]);
    }
  }
  enc.bound = max_abs(enc.values);
  const int tensor = as_tensor(id);
  add_step(make_encode_step({info.name, "encode", "", 0}, {enc.shape, enc.map, info.name, info.quant->finn_name()},
                            tensor, enc.slot));
  encoded_.push_back(std::move(enc));
  codes_cache_[static_cast<size_t>(id)] = static_cast<int>(encoded_.size()) - 1;
  return &encoded_.back();
}

std::optional<std::pair<int, double>> Compiler::floats_of(int id) {
  const ValueRef& v = values_[static_cast<size_t>(id)];
  if (v.kind == ValueRef::kFloats && !v.shape.flat) return std::make_pair(v.slot, v.bound);
  auto& cached = floats_cache_[static_cast<size_t>(id)];
  const auto& info = graph_.tensor(id);
  if (v.kind == ValueRef::kCodes) {
    if (v.shape.flat) return std::nullopt;
    if (cached < 0) {
      cached = new_floats_slot(v.shape.numel());
      add_step(make_codes_to_floats_step({info.name, "decode", "", 0}, v.shape, v.values, v.map, options_.simd, v.slot,
                                         cached));
    }
    return std::make_pair(cached, v.bound);
  }
  const auto shape = act_shape(id);
  if (!shape || shape->logical.size() != 4 || info.type != ElemType::kFloat || v.kind == ValueRef::kNone) {
    return std::nullopt;
  }
  if (cached < 0) {
    const int tensor = as_tensor(id);
    cached = new_floats_slot(shape->numel());
    add_step(make_tensor_to_floats_step({info.name, "to-nhwc", "", 0}, *shape, tensor, cached));
  }
  return std::make_pair(cached, std::numeric_limits<double>::infinity());
}

double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v) m = std::max(m, std::fabs(static_cast<double>(x)));
  return m;
}

// ---- nodes ----------------------------------------------------------------------------------------

bool Compiler::fold(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  std::vector<const Tensor*> args;
  for (int id : node.inputs) {
    if (id < 0) {
      args.push_back(nullptr);
      continue;
    }
    const Tensor* c = constant(id);
    if (c == nullptr) return false;
    args.push_back(c);
  }
  auto outputs = evaluate_(node, args);
  for (size_t k = 0; k < node.outputs.size() && k < outputs.size(); ++k) {
    if (node.outputs[k] >= 0) folded_[static_cast<size_t>(node.outputs[k])] = std::move(outputs[k]);
  }
  return true;
}

void Compiler::reference(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  // The evaluator runs single nodes on the float path; the Session's integer path is not a
  // node property it could know about, so such nodes get its integer sums (plan_exact_fallback).
  if (session_exact(node)) {
    check(exact_reference(index), node.describe() + ": the reference engine runs this node on its exact integer path, "
                                                    "which the fast plan cannot reproduce (shape " +
                                      shape_to_string(graph_.tensor(node.inputs[0]).shape) +
                                      "); run the model with the reference engine");
    return;
  }
  ReferenceSpec spec;
  spec.node = &node;
  spec.evaluate = &evaluate_;
  for (int id : node.inputs) {
    const Tensor* c = id < 0 ? nullptr : constant(id);
    spec.input_slots.push_back(id < 0 || c != nullptr ? -1 : as_tensor(id));
    spec.constants.push_back(c);
  }
  for (int id : node.outputs) {
    if (id < 0) {
      spec.output_slots.push_back(-1);
      continue;
    }
    const int slot = new_tensor_slot();
    spec.output_slots.push_back(slot);
    values_[static_cast<size_t>(id)].kind = ValueRef::kTensor;
    values_[static_cast<size_t>(id)].slot = slot;
    tensor_slot_[static_cast<size_t>(id)] = slot;
  }
  const int64_t macs = reference_macs(node);
  slow_macs_ += macs;
  add_step(make_reference_step({node.name, "reference", "", macs}, std::move(spec)));
}

bool Compiler::session_exact(const ir::Node& node) const {
  const std::string& op = node.op_type;
  if (!node.domain.empty() || (op != "Conv" && op != "MatMul" && op != "Gemm")) return false;
  if (node.inputs.size() < 2 || node.inputs[0] < 0 || node.inputs[1] < 0) return false;
  const auto& data = graph_.tensor(node.inputs[0]);
  const auto& winfo = graph_.tensor(node.inputs[1]);
  const Tensor* w = constant(node.inputs[1]);
  if (!data.quant || !winfo.quant || w == nullptr || data.type != ElemType::kFloat || w->type != ElemType::kFloat) return false;
  auto usable = [](float s) { return std::isfinite(s) && s > 0.0F; };
  auto zero = [](const ir::QuantType& q) {
    return std::all_of(q.zero_point.begin(), q.zero_point.end(), [](float z) { return z == 0.0F; });
  };
  const auto& dq = *data.quant;
  const auto& wq = *winfo.quant;
  if (dq.scale.size() != 1 || !usable(dq.scale[0]) || !zero(dq) || !zero(wq)) return false;
  int64_t axis = -1;
  if (op == "Conv") axis = 0;
  if (op == "MatMul") axis = w->shape.size() >= 2 ? static_cast<int64_t>(w->shape.size()) - 1 : -1;
  if (op == "Gemm") axis = node.attr_int_or("transB", 0) != 0 ? 0 : 1;
  if (wq.scale.size() > 1 &&
      (wq.channel_axis != axis || axis < 0 || static_cast<int64_t>(wq.scale.size()) != w->shape[static_cast<size_t>(axis)])) {
    return false;
  }
  return std::all_of(wq.scale.begin(), wq.scale.end(), usable);
}

int64_t Compiler::reference_macs(const ir::Node& node) const {
  if (!node.domain.empty() || node.inputs.size() < 2 || node.inputs[1] < 0 || node.outputs.empty()) return 0;
  const Shape& w = graph_.tensor(node.inputs[1]).shape;
  Shape out = graph_.tensor(node.outputs[0]).shape;
  if (!out.empty()) out[0] = 1;
  const int64_t out_n = shape_numel(out);
  if (out_n <= 0 || shape_numel(w) <= 0) return 0;
  if (node.op_type == "Conv" && w.size() >= 2) return out_n * shape_numel(w) / w[0];
  if ((node.op_type == "MatMul" || node.op_type == "Gemm") && w.size() == 2) {
    const bool trans_b = node.op_type == "Gemm" && node.attr_int_or("transB", 0) != 0;
    return out_n * (trans_b ? w[1] : w[0]);
  }
  return 0;
}

bool Compiler::try_view(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  if (!node.domain.empty() || node.inputs.empty() || node.inputs[0] < 0 || node.outputs.size() != 1) return false;
  const ValueRef& v = values_[static_cast<size_t>(node.inputs[0])];
  if (v.kind != ValueRef::kCodes) return false;
  const int out = node.outputs[0];
  const auto out_shape = act_shape(out);
  if (!out_shape) return false;
  bool ok = false;
  if (node.op_type == "Identity") {
    ok = true;
  } else if (node.op_type == "Flatten" || node.op_type == "Reshape") {
    if (node.op_type == "Flatten" && node.attr_int_or("axis", 1) != 1) return false;
    if (node.op_type == "Reshape" && (node.inputs.size() != 2 || constant(node.inputs[1]) == nullptr)) return false;
    // Only "keep the batch, flatten the rest"; the graph's inferred shape says what it did.
    ok = out_shape->logical.size() == 2 && out_shape->c == v.shape.numel();
  }
  if (!ok) return false;
  ValueRef view = v;
  view.shape.logical = out_shape->logical;
  // Physical NHWC order stays; the graph's tensor is now the NCHW flattening of it.
  if (node.op_type != "Identity") view.shape.flat = v.shape.flat || v.shape.logical.size() == 4;
  values_[static_cast<size_t>(out)] = std::move(view);  // no step: the buffer is read as it is
  return true;
}

bool Compiler::try_maxpool(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  if (!node.domain.empty() || node.op_type != "MaxPool" || node.inputs.empty() || node.inputs[0] < 0) return false;
  for (size_t k = 1; k < node.outputs.size(); ++k) {
    if (node.outputs[k] >= 0 && !graph_.consumers(node.outputs[k]).empty()) return false;
  }
  const ValueRef& v = values_[static_cast<size_t>(node.inputs[0])];
  if (v.kind != ValueRef::kCodes || v.shape.flat || v.shape.logical.size() != 4) return false;
  if (node.attr_string_or("auto_pad", "NOTSET") != "NOTSET" || node.attr_int_or("ceil_mode", 0) != 0) return false;
  const auto kernel = node.attr_ints_or("kernel_shape", {});
  const auto strides = node.attr_ints_or("strides", {1, 1});
  const auto pads = node.attr_ints_or("pads", {0, 0, 0, 0});
  const auto dilations = node.attr_ints_or("dilations", {1, 1});
  if (kernel.size() != 2 || strides.size() != 2 || pads.size() != 4 || dilations.size() != 2) return false;
  ConvGeometry g;
  g.in_h = v.shape.h;
  g.in_w = v.shape.w;
  g.in_c = g.out_c = v.shape.c;
  g.kernel_h = kernel[0];
  g.kernel_w = kernel[1];
  g.stride_h = strides[0];
  g.stride_w = strides[1];
  g.dilation_h = dilations[0];
  g.dilation_w = dilations[1];
  g.pad_top = pads[0];
  g.pad_left = pads[1];
  g.out_h = (g.in_h + pads[0] + pads[2] - ((g.kernel_h - 1) * g.dilation_h + 1)) / g.stride_h + 1;
  g.out_w = (g.in_w + pads[1] + pads[3] - ((g.kernel_w - 1) * g.dilation_w + 1)) / g.stride_w + 1;
  const auto out_shape = act_shape(node.outputs[0]);
  if (!out_shape || out_shape->h != g.out_h || out_shape->w != g.out_w || out_shape->c != g.out_c) return false;
  ValueRef out = v;
  out.shape = *out_shape;
  out.slot = new_codes_slot(out.shape.numel());
  values_[static_cast<size_t>(node.outputs[0])] = out;
  const MaxPoolKernel& pool = maxpool_best(options_.simd);
  add_step(make_maxpool_step({node.name, "maxpool", pool.name, 0}, pool, g, v.slot, out.slot));
  return true;
}

// ---- whole graph --------------------------------------------------------------------------------

void Compiler::compile() {
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (consumed_[i]) continue;
    if (fold(i)) continue;
    if (try_lut(i) || try_linear(i) || try_maxpool(i) || try_view(i)) continue;
    reference(i);
  }
  for (size_t k = 0; k < graph_.outputs.size(); ++k) {
    const int id = graph_.outputs[k];
    check(constant(id) == nullptr, "graph output '" + graph_.tensor(id).name + "' is a constant; run it with the reference engine");
    add_step(make_output_step({graph_.tensor(id).name, "output", "", 0}, static_cast<int>(k), as_tensor(id)));
  }
}

}  // namespace dnnsplit::kernels
