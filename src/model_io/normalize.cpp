// Normalisation steps of import: constant folding (incl. weight quantizers and dynamic flatten
// chains), shape inference and quantized-type inference.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "model_io_internal.h"
#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"

namespace dnnsplit::model_io {

namespace {

// Ops that, with constant inputs, may be evaluated once at import time.
bool foldable(const ir::Node& node) {
  static const std::set<std::string> standard{
      "Shape",  "Gather", "Unsqueeze", "Squeeze", "Concat",   "Cast",  "Reshape", "Identity", "Transpose",
      "Flatten", "Add", "Sub", "Mul", "Div", "Neg", "Slice", "Floor", "Ceil", "Sqrt", "Pow"};
  if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node)) return true;
  return node.domain.empty() && standard.count(node.op_type) != 0;
}

// Ops whose output values lie on the grid of their (first) input.
bool preserves_grid(const ir::Node& node) {
  static const std::set<std::string> ops{"MaxPool", "Relu",   "Reshape", "Flatten", "Transpose", "Squeeze",
                                         "Unsqueeze", "Identity", "Pad", "Concat", "Gather", "Slice"};
  return node.domain.empty() && ops.count(node.op_type) != 0;
}

// Which per-channel axis survives the op (or -1 when it cannot be tracked).
int channel_axis_after(const ir::Node& node, int axis, size_t in_rank, size_t out_rank) {
  if (axis < 0) return -1;
  const std::string& op = node.op_type;
  if (op == "MaxPool" || op == "Relu" || op == "Identity" || op == "Pad") return axis;
  if (op == "Transpose") {
    std::vector<int64_t> perm = node.attr_ints_or("perm", {});
    if (perm.empty()) return static_cast<int>(in_rank) - 1 - axis;
    for (size_t i = 0; i < perm.size(); ++i) {
      if (perm[i] == axis) return static_cast<int>(i);
    }
    return -1;
  }
  if (in_rank == out_rank && (op == "Reshape" || op == "Flatten")) return axis;
  return -1;
}

// Output QuantType of a Quant / IntQuant node whose scale, zero point and bit width are constant.
std::optional<ir::QuantType> quant_node_type(const ir::Graph& graph, const ir::Node& node) {
  auto constant = [&](size_t k) -> const Tensor* {
    if (node.inputs.size() <= k || node.inputs[k] < 0) return nullptr;
    const auto& info = graph.tensor(node.inputs[k]);
    return info.is_constant() ? &*info.constant : nullptr;
  };
  ir::QuantType q;
  if (ir::is_bipolar_quant_op(node)) {
    const Tensor* scale = constant(1);
    if (!scale) return std::nullopt;
    q.bits = 1;
    q.bipolar = true;
    auto s = scale->as_doubles();
    q.scale.assign(s.begin(), s.end());
  } else {
    const Tensor* scale = constant(1);
    const Tensor* zero = constant(2);
    const Tensor* bits = constant(3);
    if (!scale || !zero || !bits || bits->numel() != 1) return std::nullopt;
    const double b = bits->at(0);
    check(b >= 1 && b <= 32 && std::floor(b) == b, node.describe() + ": bitwidth " + std::to_string(b) +
                                                        " is not an integer in [1, 32]");
    q.bits = static_cast<int>(b);
    q.is_signed = node.attr_int_or("signed", 1) != 0;
    q.narrow = node.attr_int_or("narrow", 0) != 0;
    q.bipolar = q.bits == 1 && q.is_signed;
    auto s = scale->as_doubles();
    auto z = zero->as_doubles();
    q.scale.assign(s.begin(), s.end());
    q.zero_point.assign(z.begin(), z.end());
    // The per-channel axis: the one dimension of the scale tensor with extent > 1, right-aligned
    // against the data's rank (numpy broadcasting).
    const Tensor& per = scale->numel() > 1 ? *scale : *zero;
    if (per.numel() > 1) {
      const auto& data_shape = graph.tensor(node.inputs[0]).shape;
      const size_t offset = data_shape.size() >= per.shape.size() ? data_shape.size() - per.shape.size() : 0;
      for (size_t d = 0; d < per.shape.size(); ++d) {
        if (per.shape[d] > 1) q.channel_axis = static_cast<int>(d + offset);
      }
    }
  }
  return q;
}

// Elements of a folded integer tensor that stand for the batch size (from Shape of an activation).
using BatchMarks = std::map<int, std::vector<bool>>;

std::vector<bool> marks_after(const ir::Node& node, const ir::Graph& graph, const BatchMarks& marks,
                              const Tensor& result) {
  auto marks_of = [&](int id) -> std::vector<bool> {
    auto it = marks.find(id);
    if (it != marks.end()) return it->second;
    return std::vector<bool>(static_cast<size_t>(std::max<int64_t>(graph.tensor(id).constant->numel(), 0)), false);
  };
  const std::string& op = node.op_type;
  std::vector<bool> out(static_cast<size_t>(result.numel()), false);
  if (op == "Unsqueeze" || op == "Squeeze" || op == "Cast" || op == "Identity" || op == "Reshape" ||
      op == "Flatten") {
    if (marks.count(node.inputs[0])) out = marks_of(node.inputs[0]);
  } else if (op == "Concat") {
    out.clear();
    for (int in : node.inputs) {
      auto m = marks_of(in);
      out.insert(out.end(), m.begin(), m.end());
    }
  } else if (op == "Gather") {
    const auto& data = *graph.tensor(node.inputs[0]).constant;
    const auto& indices = *graph.tensor(node.inputs[1]).constant;
    if (marks.count(node.inputs[0]) && data.shape.size() == 1) {
      auto m = marks_of(node.inputs[0]);
      auto idx = indices.as_ints();
      for (size_t i = 0; i < idx.size() && i < out.size(); ++i) {
        int64_t k = idx[i] < 0 ? idx[i] + static_cast<int64_t>(m.size()) : idx[i];
        if (k >= 0 && k < static_cast<int64_t>(m.size())) out[i] = m[static_cast<size_t>(k)];
      }
    }
  }
  if (out.size() != static_cast<size_t>(result.numel())) out.assign(static_cast<size_t>(result.numel()), false);
  return out;
}

bool is_graph_output(const ir::Graph& graph, int id) {
  return std::find(graph.outputs.begin(), graph.outputs.end(), id) != graph.outputs.end();
}

// A Reshape whose target copies the batch from a folded Shape, or states the import-time batch
// of 1 explicitly, is rewritten to copy dim 0 (value 0), so the graph runs for any batch size.
void make_reshapes_batch_agnostic(ir::Graph& graph, const BatchMarks& marks) {
  for (auto& node : graph.nodes) {
    if (!node.domain.empty() || node.op_type != "Reshape" || node.inputs.size() < 2) continue;
    const int shape_id = node.inputs[1];
    auto& shape_info = graph.tensor(shape_id);
    if (!shape_info.is_constant()) continue;
    auto target = shape_info.constant->as_ints();
    if (target.empty() || node.attr_int_or("allowzero", 0) != 0) continue;
    auto it = marks.find(shape_id);
    const bool marked = it != marks.end() && !it->second.empty() && it->second[0];
    const auto& data_shape = graph.tensor(node.inputs[0]).shape;
    const bool explicit_batch_one = target[0] == 1 && !data_shape.empty() && data_shape[0] == 1 &&
                                    !graph.tensor(node.inputs[0]).is_constant();
    if (!marked && !explicit_batch_one) continue;
    for (size_t i = 1; i < target.size(); ++i) {
      if (it != marks.end() && i < it->second.size() && it->second[i]) return;  // batch elsewhere: leave it
    }
    target[0] = 0;
    ir::TensorInfo fixed;
    fixed.name = node.name + "_batch_agnostic_shape";
    fixed.type = ElemType::kInt64;
    fixed.shape = {static_cast<int64_t>(target.size())};
    fixed.constant = Tensor::from_ints(ElemType::kInt64, fixed.shape, target);
    const int existing = graph.find_tensor(fixed.name);
    node.inputs[1] = existing >= 0 ? existing : graph.add_tensor(std::move(fixed));
  }
}

// Trunc v1 has no sign attribute: like FINN, take the sign of the nearest quantized tensor
// upstream (through pools, scalings and other single-data-input ops). Signed when none is found.
bool upstream_is_signed(const ir::Graph& graph, int tensor_id) {
  for (int hops = 0; hops < 64 && tensor_id >= 0; ++hops) {
    const auto& info = graph.tensor(tensor_id);
    if (info.quant) return info.quant->is_signed;
    const int producer = graph.producer(tensor_id);
    if (producer < 0) break;
    const auto& node = graph.nodes[static_cast<size_t>(producer)];
    if (node.op_type == "Relu") return false;
    int next = -1;
    for (int in : node.inputs) {
      if (in < 0 || graph.tensor(in).is_constant()) continue;
      if (next >= 0) return true;  // a join: give up
      next = in;
    }
    tensor_id = next;
  }
  return true;
}

}  // namespace

void fold_constants(ir::Graph& graph) {
  BatchMarks marks;
  std::vector<ir::Node> kept;
  for (auto& node : graph.nodes) {
    bool all_constant = foldable(node);
    for (int in : node.inputs) {
      if (in >= 0 && !graph.tensor(in).is_constant()) all_constant = false;
    }
    const bool output_is_graph_output =
        std::any_of(node.outputs.begin(), node.outputs.end(), [&](int t) { return is_graph_output(graph, t); });
    // Shape of an activation whose shape is static except for the batch folds to constants.
    if (!node.domain.empty() || node.op_type != "Shape" || node.inputs.empty()) {
      // handled below
    } else if (!output_is_graph_output && !graph.tensor(node.inputs[0]).is_constant()) {
      const auto& shape = graph.tensor(node.inputs[0]).shape;
      const bool static_shape =
          !shape.empty() && std::all_of(shape.begin() + 1, shape.end(), [](int64_t d) { return d > 0; });
      if (static_shape && !node.has_attr("start") && !node.has_attr("end")) {
        std::vector<int64_t> dims(shape.begin(), shape.end());
        dims[0] = std::max<int64_t>(dims[0], 1);
        auto& out = graph.tensor(node.outputs[0]);
        out.constant = Tensor::from_ints(ElemType::kInt64, {static_cast<int64_t>(dims.size())}, dims);
        out.type = ElemType::kInt64;
        out.shape = out.constant->shape;
        std::vector<bool> m(dims.size(), false);
        m[0] = true;
        marks[node.outputs[0]] = m;
        continue;
      }
    }
    if (!all_constant || output_is_graph_output) {
      kept.push_back(std::move(node));
      continue;
    }
    std::optional<ir::QuantType> quant;
    std::vector<const Tensor*> inputs;
    for (int in : node.inputs) inputs.push_back(in >= 0 ? &*graph.tensor(in).constant : nullptr);
    std::vector<Tensor> results;
    try {
      if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node)) quant = quant_node_type(graph, node);
      results = engine::run_node(node, inputs, graph.opset);
    } catch (const Error& e) {
      throw Error(graph.source_path + ": " + e.what());
    }
    if (!quant && preserves_grid(node) && graph.tensor(node.inputs[0]).quant) {
      quant = graph.tensor(node.inputs[0]).quant;
      const size_t in_rank = graph.tensor(node.inputs[0]).shape.size();
      quant->channel_axis = channel_axis_after(node, quant->channel_axis, in_rank, results[0].shape.size());
      if (quant->per_channel() && quant->channel_axis < 0) quant.reset();
    }
    for (size_t k = 0; k < node.outputs.size() && k < results.size(); ++k) {
      auto& out = graph.tensor(node.outputs[k]);
      out.type = results[k].type;
      out.shape = results[k].shape;
      const auto m = marks_after(node, graph, marks, results[k]);
      if (std::find(m.begin(), m.end(), true) != m.end()) marks[node.outputs[k]] = m;
      out.constant = std::move(results[k]);
      if (k == 0) out.quant = quant;
    }
  }
  graph.nodes = std::move(kept);
  make_reshapes_batch_agnostic(graph, marks);
  graph.remove_dead_code();
}

void infer_shapes(ir::Graph& graph) {
  onnx::ModelProto model = graph_to_proto(graph);
  // Clear stale intermediate and output types so inference recomputes them from the normalised
  // graph (some exporters declare a TopK index output as FLOAT, for instance).
  model.mutable_graph()->clear_value_info();
  for (auto& output : *model.mutable_graph()->mutable_output()) output.clear_type();
  try {
    onnx::ShapeInferenceOptions options{true, 1, false};
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw Error(graph.source_path + ": shape inference failed: " + one_line(e.what()));
  }
  auto apply = [&](const onnx::ValueInfoProto& vi) {
    const int id = graph.find_tensor(vi.name());
    if (id < 0 || graph.tensor(id).is_constant() || !vi.type().has_tensor_type()) return;
    auto& info = graph.tensor(id);
    info.type = elem_type_from_onnx(vi.type().tensor_type().elem_type());
    if (!vi.type().tensor_type().has_shape()) return;
    Shape shape;
    for (const auto& dim : vi.type().tensor_type().shape().dim()) shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
    info.shape = shape;
  };
  for (const auto& vi : model.graph().value_info()) apply(vi);
  for (const auto& vi : model.graph().output()) apply(vi);
}

void infer_quant_types(ir::Graph& graph) {
  for (const auto& node : graph.nodes) {
    if (node.outputs.empty()) continue;
    auto& out = graph.tensor(node.outputs[0]);
    if (out.is_constant()) continue;
    if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node)) {
      out.quant = quant_node_type(graph, node);
    } else if (ir::is_multithreshold_op(node)) {
      ir::QuantType q;
      const std::string dtype = node.attr_string_or("out_dtype", "");
      if (!parse_finn_datatype(dtype, q)) continue;
      const float scale = node.attr_float_or("out_scale", 1.0F);
      const float bias = node.attr_float_or("out_bias", 0.0F);
      q.scale = {scale};
      // values = scale * count + bias = (q - zp) * scale with q = count + bias/scale rounded.
      const double shift = static_cast<double>(bias) / static_cast<double>(scale);
      if (std::nearbyint(shift) != shift) continue;
      q.zero_point = {0.0F};
      if (q.bipolar) q.scale = {scale / 2.0F};
      out.quant = q;
    } else if (ir::is_trunc_op(node)) {
      const bool v2 = node.inputs.size() >= 6;
      auto constant = [&](size_t k) -> const Tensor* {
        if (node.inputs.size() <= k || node.inputs[k] < 0) return nullptr;
        const auto& info = graph.tensor(node.inputs[k]);
        return info.is_constant() ? &*info.constant : nullptr;
      };
      const Tensor* scale = constant(v2 ? 4 : 1);
      const Tensor* bits = constant(v2 ? 5 : 4);
      if (!scale || !bits || scale->numel() != 1 || bits->numel() != 1) continue;
      ir::QuantType q;
      q.bits = static_cast<int>(bits->at(0));
      q.is_signed = v2 ? node.attr_int_or("signed", 1) != 0 : upstream_is_signed(graph, node.inputs[0]);
      q.narrow = v2 && node.attr_int_or("narrow", 0) != 0;
      q.scale = {static_cast<float>(scale->at(0))};
      out.quant = q;
    } else if (preserves_grid(node) && !node.inputs.empty() && node.inputs[0] >= 0) {
      const auto& in = graph.tensor(node.inputs[0]);
      if (!in.quant) continue;
      if (node.op_type == "Concat") {
        const bool same = std::all_of(node.inputs.begin(), node.inputs.end(),
                                      [&](int id) { return graph.tensor(id).quant == in.quant; });
        if (!same || in.quant->per_channel()) continue;
      }
      if (node.op_type == "Pad") {
        const std::string mode = node.attr_string_or("mode", "constant");
        const bool zero_pad_value = node.inputs.size() < 3 || node.inputs[2] < 0 ||
                                    (graph.tensor(node.inputs[2]).is_constant() &&
                                     graph.tensor(node.inputs[2]).constant->at(0) == 0.0);
        if (mode == "constant" && (!zero_pad_value || in.quant->zero_point != std::vector<float>{0.0F})) continue;
      }
      auto q = *in.quant;
      q.channel_axis = channel_axis_after(node, q.channel_axis, in.shape.size(), out.shape.size());
      if (q.per_channel() && q.channel_axis < 0) continue;
      out.quant = q;
    }
  }
}

}  // namespace dnnsplit::model_io
