// ir::Graph -> QONNX ModelProto / file.
#include <cstdio>
#include <set>
#include <sstream>

#include "dnnsplit/error.h"
#include "dnnsplit/file_util.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/onnx_convert.h"
#include "model_io_internal.h"

namespace dnnsplit {

namespace model_io {

namespace {

constexpr const char* kQonnxDomain = "qonnx.custom_op.general";

void set_value_info(onnx::ValueInfoProto& vi, const ir::TensorInfo& info) {
  vi.set_name(info.name);
  auto* tensor_type = vi.mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(elem_type_to_onnx(info.type));
  if (info.shape.empty() && !info.is_constant()) return;
  auto* shape = tensor_type->mutable_shape();
  for (int64_t d : info.shape) {
    auto* dim = shape->add_dim();
    if (d >= 0) dim->set_dim_value(d);
  }
}

std::string join_floats(const std::vector<float>& values) {
  std::ostringstream out;
  out.precision(9);
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

// Scale / zero-point tensor shaped to broadcast against a tensor of the given rank.
Tensor broadcast_param(const std::vector<float>& values, int channel_axis, size_t rank) {
  if (values.size() <= 1 || channel_axis < 0) return Tensor::from_floats({}, {values.empty() ? 0.0F : values[0]});
  Shape shape(rank, 1);
  shape[static_cast<size_t>(channel_axis)] = static_cast<int64_t>(values.size());
  return Tensor::from_floats(shape, values);
}

// A quantized constant is written as its float initializer followed by the quantizer that
// produced it, so FINN sees weight bits and scales exactly as Brevitas would export them.
void emit_quantized_constant(onnx::GraphProto& proto, const ir::TensorInfo& info) {
  const auto& q = *info.quant;
  const std::string base = info.name + "__dnnsplit";
  *proto.add_initializer() = tensor_to_onnx(*info.constant, base + "_value");
  auto* node = proto.add_node();
  node->set_name(base + "_quant");
  node->set_domain(kQonnxDomain);
  node->add_input(base + "_value");
  const size_t rank = info.shape.size();
  *proto.add_initializer() = tensor_to_onnx(broadcast_param(q.scale, q.channel_axis, rank), base + "_scale");
  node->add_input(base + "_scale");
  if (q.bipolar) {
    node->set_op_type("BipolarQuant");
  } else {
    node->set_op_type("Quant");
    *proto.add_initializer() = tensor_to_onnx(broadcast_param(q.zero_point, q.channel_axis, rank), base + "_zeropt");
    *proto.add_initializer() = tensor_to_onnx(Tensor::from_floats({}, {static_cast<float>(q.bits)}), base + "_bitwidth");
    node->add_input(base + "_zeropt");
    node->add_input(base + "_bitwidth");
    auto add_int = [&](const char* key, int64_t v) {
      auto* a = node->add_attribute();
      a->set_name(key);
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(v);
    };
    add_int("signed", q.is_signed ? 1 : 0);
    add_int("narrow", q.narrow ? 1 : 0);
    auto* rounding = node->add_attribute();
    rounding->set_name("rounding_mode");
    rounding->set_type(onnx::AttributeProto::STRING);
    rounding->set_s("ROUND");
  }
  node->add_output(info.name);
}

void annotate(onnx::GraphProto& proto, const ir::TensorInfo& info) {
  const auto& q = *info.quant;
  auto* annotation = proto.add_quantization_annotation();
  annotation->set_tensor_name(info.name);
  auto add = [&](const char* key, const std::string& value) {
    auto* kv = annotation->add_quant_parameter_tensor_names();
    kv->set_key(key);
    kv->set_value(value);
  };
  add(kAnnotationDatatype, q.finn_name());
  add(kAnnotationScale, join_floats(q.scale));
  add(kAnnotationZeroPoint, join_floats(q.zero_point));
  add(kAnnotationChannelAxis, std::to_string(q.channel_axis));
  add(kAnnotationNarrow, q.narrow ? "1" : "0");
}

}  // namespace

onnx::ModelProto graph_to_proto(const ir::Graph& graph) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("dnnsplit");
  model.set_producer_version("0.1.0");
  auto* default_opset = model.add_opset_import();
  default_opset->set_domain("");
  default_opset->set_version(graph.opset);
  std::set<std::string> domains{kQonnxDomain};
  for (const auto& node : graph.nodes) {
    if (!node.domain.empty()) domains.insert(node.domain);
  }
  for (const auto& domain : domains) {
    auto* opset = model.add_opset_import();
    opset->set_domain(domain);
    opset->set_version(1);
  }
  auto& proto = *model.mutable_graph();
  proto.set_name(graph.name.empty() ? "dnnsplit_graph" : graph.name);

  std::set<int> used;
  for (const auto& node : graph.nodes) {
    for (int in : node.inputs) {
      if (in >= 0) used.insert(in);
    }
  }
  for (int out : graph.outputs) used.insert(out);
  for (int id : used) {
    const auto& info = graph.tensor(id);
    if (!info.is_constant()) continue;
    if (info.quant) {
      emit_quantized_constant(proto, info);
    } else {
      *proto.add_initializer() = tensor_to_onnx(*info.constant, info.name);
    }
  }
  for (int id : graph.inputs) {
    set_value_info(*proto.add_input(), graph.tensor(id));
    if (graph.tensor(id).quant) annotate(proto, graph.tensor(id));
  }
  for (int id : graph.outputs) set_value_info(*proto.add_output(), graph.tensor(id));
  for (const auto& node : graph.nodes) *proto.add_node() = node_to_onnx(node, graph);
  std::set<int> io(graph.inputs.begin(), graph.inputs.end());
  io.insert(graph.outputs.begin(), graph.outputs.end());
  for (const auto& node : graph.nodes) {
    for (int out : node.outputs) {
      const auto& info = graph.tensor(out);
      if (!io.count(out) && !info.shape.empty()) set_value_info(*proto.add_value_info(), info);
    }
  }
  return model;
}

}  // namespace model_io

std::string export_model_to_bytes(const ir::Graph& graph) {
  const auto model = model_io::graph_to_proto(graph);
  std::string bytes;
  check(model.SerializeToString(&bytes), "cannot serialize model '" + graph.name + "'");
  check_model_bytes(bytes, "exported model '" + graph.name + "'");
  return bytes;
}

void export_model(const ir::Graph& graph, const std::string& path) {
  const std::string bytes = export_model_to_bytes(graph);
  write_file_atomic(path, bytes, "model file");
}

}  // namespace dnnsplit
