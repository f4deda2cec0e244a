#include <algorithm>
#include <string>

#include "dnnsplit/error.h"
#include "layer_counts.h"

namespace dnnsplit {

namespace {

// Constants and tensors computed from constants only (a weight behind an unfolded quantizer).
bool is_weight(const ir::Graph& graph, int id) {
  if (id < 0) return false;
  if (graph.tensor(id).is_constant()) return true;
  const int producer = graph.producer(id);
  if (producer < 0) return false;
  const auto& inputs = graph.nodes[static_cast<size_t>(producer)].inputs;
  return std::all_of(inputs.begin(), inputs.end(), [&](int in) { return in < 0 || is_weight(graph, in); });
}

const Shape& static_shape(const ir::Graph& graph, const ir::Node& node, int id) {
  const auto& info = graph.tensor(id);
  const bool known = std::all_of(info.shape.begin(), info.shape.end(), [](int64_t d) { return d >= 0; });
  check(known, node.describe() + ": tensor '" + info.name + "' has no static shape (" + shape_to_string(info.shape) +
                   "); cannot count the layer's weights and MACs");
  return info.shape;
}

int64_t elements_per_image(const ir::Graph& graph, const ir::Node& node, int id) {
  const Shape& shape = static_shape(graph, node, id);
  int64_t n = 1;
  for (size_t d = 1; d < shape.size(); ++d) n *= shape[d];
  return n;
}

std::string join(const std::vector<int64_t>& values, const char* separator) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? separator : "") + std::to_string(values[i]);
  return text;
}

// "3x3 s2 p1 g32": kernel, then stride, padding and groups where they differ from the default.
std::string window_detail(const ir::Node& node, const std::vector<int64_t>& kernel) {
  std::string text = join(kernel, "x");
  const auto strides = node.attr_ints_or("strides", {});
  if (std::any_of(strides.begin(), strides.end(), [](int64_t s) { return s != 1; })) {
    const bool same = std::all_of(strides.begin(), strides.end(), [&](int64_t s) { return s == strides[0]; });
    text += " s" + (same ? std::to_string(strides[0]) : join(strides, ","));
  }
  const auto pads = node.attr_ints_or("pads", {});
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; })) {
    const bool same = std::all_of(pads.begin(), pads.end(), [&](int64_t p) { return p == pads[0]; });
    text += " p" + (same ? std::to_string(pads[0]) : join(pads, ","));
  }
  const std::string auto_pad = node.attr_string_or("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET") text += " " + auto_pad;
  const int64_t group = node.attr_int_or("group", 1);
  if (group != 1) text += " g" + std::to_string(group);
  return text;
}

void set_weight(const ir::Graph& graph, const ir::Node& node, int id, LayerRow& row) {
  const auto& info = graph.tensor(id);
  row.params += shape_numel(static_shape(graph, node, id));
  row.weight_bits = tensor_bits(info);
  row.weight_type = tensor_type_name(info);
}

void count_conv(const ir::Graph& graph, const ir::Node& node, LayerRow& row) {
  check(node.inputs.size() >= 2 && node.inputs[1] >= 0, node.describe() + ": has no weight input");
  const int weight = node.inputs[1];
  const Shape& w = static_shape(graph, node, weight);
  check(w.size() >= 3 && w[0] > 0, node.describe() + ": weight '" + graph.tensor(weight).name + "' has shape " +
                                        shape_to_string(w) + ", expected (M, C/group, k...)");
  if (is_weight(graph, weight)) set_weight(graph, node, weight, row);
  const int64_t per_first_axis = shape_numel(w) / w[0];
  // Conv: every output element sums C/group * k... products. ConvTranspose: every input
  // element is multiplied into (M/group) * k... outputs.
  const int counted = node.op_type == "Conv" ? node.outputs.at(0) : node.inputs.at(0);
  row.macs = elements_per_image(graph, node, counted) * per_first_axis;
  row.detail = window_detail(node, std::vector<int64_t>(w.begin() + 2, w.end()));
}

void count_matmul(const ir::Graph& graph, const ir::Node& node, LayerRow& row) {
  check(node.inputs.size() >= 2 && node.inputs[0] >= 0 && node.inputs[1] >= 0,
        node.describe() + ": needs two inputs");
  const Shape& a = static_shape(graph, node, node.inputs[0]);
  check(!a.empty(), node.describe() + ": first input is a scalar");
  int64_t k = a.back();
  if (node.op_type == "Gemm" && node.attr_int_or("transA", 0) != 0) k = a.front();
  for (int i = 0; i < 2; ++i) {
    if (is_weight(graph, node.inputs[static_cast<size_t>(i)])) set_weight(graph, node, node.inputs[static_cast<size_t>(i)], row);
  }
  const Shape& out = static_shape(graph, node, node.outputs.at(0));
  row.macs = elements_per_image(graph, node, node.outputs.at(0)) * k;
  row.detail = std::to_string(k) + "x" + std::to_string(out.empty() ? 1 : out.back());
}

}  // namespace

int layer_output(const ir::Graph& graph, const ir::Node& node) {
  for (int out : node.outputs) {
    if (std::find(graph.outputs.begin(), graph.outputs.end(), out) != graph.outputs.end()) return out;
  }
  for (int out : node.outputs) {
    if (out >= 0 && !graph.consumers(out).empty()) return out;
  }
  return node.outputs.at(0);
}

void fill_layer_counts(const ir::Graph& graph, const ir::Node& node, LayerRow& row) {
  const std::string& op = node.op_type;
  if (node.domain.empty() && (op == "Conv" || op == "ConvTranspose")) {
    count_conv(graph, node, row);
  } else if (node.domain.empty() && (op == "MatMul" || op == "Gemm" || op == "MatMulInteger")) {
    count_matmul(graph, node, row);
  } else if (node.domain.empty() && (op == "MaxPool" || op == "AveragePool" || op == "LpPool")) {
    row.detail = window_detail(node, node.attr_ints_or("kernel_shape", {}));
  } else if (op.rfind("Global", 0) == 0) {
    row.detail = "global";
  }
  const auto& out = graph.tensor(row.output_tensor);
  row.output_shape = out.shape;
  row.act_bits = tensor_bits(out);
  row.act_type = tensor_type_name(out);
  row.output_bytes = packed_bytes_per_image(graph, row.output_tensor);
}

}  // namespace dnnsplit
