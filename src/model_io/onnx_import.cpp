// QONNX / FINN-ONNX file -> normalised ir::Graph.
#include <fstream>
#include <set>
#include <sstream>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/onnx_convert.h"
#include "model_io_internal.h"
#include "onnx/checker.h"
#include "onnx/shape_inference/implementation.h"

namespace dnnsplit {

namespace model_io {

std::string one_line(const std::string& message) {
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool parse_finn_datatype(const std::string& name, ir::QuantType& out) {
  out = ir::QuantType{};
  if (name == "BIPOLAR") {
    out.bits = 1;
    out.bipolar = true;
    return true;
  }
  if (name == "BINARY") {
    out.bits = 1;
    out.is_signed = false;
    return true;
  }
  if (name == "TERNARY") {
    out.bits = 2;
    out.narrow = true;
    return true;
  }
  std::string digits;
  if (name.rfind("UINT", 0) == 0) {
    out.is_signed = false;
    digits = name.substr(4);
  } else if (name.rfind("INT", 0) == 0) {
    digits = name.substr(3);
  } else {
    return false;
  }
  if (digits.empty() || digits.size() > 2 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  out.bits = std::stoi(digits);
  return out.bits >= 1 && out.bits <= 32;
}

}  // namespace model_io

namespace {

using model_io::one_line;

// Older exporters use custom domains without declaring them in opset_import; the checker needs them.
void declare_custom_domains(onnx::ModelProto& model) {
  std::set<std::string> declared;
  for (const auto& opset : model.opset_import()) declared.insert(opset.domain());
  for (const auto& node : model.graph().node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx" && !declared.count(node.domain())) {
      auto* opset = model.add_opset_import();
      opset->set_domain(node.domain());
      opset->set_version(1);
      declared.insert(node.domain());
    }
  }
}

Shape shape_from_type(const onnx::TypeProto& type) {
  Shape shape;
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return shape;
  for (const auto& dim : type.tensor_type().shape().dim()) shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
  return shape;
}

std::vector<float> parse_floats(const std::string& text) {
  std::vector<float> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) values.push_back(std::stof(item));
  return values;
}

void read_annotations(const onnx::GraphProto& proto, ir::Graph& graph, const std::string& file) {
  for (const auto& annotation : proto.quantization_annotation()) {
    const int id = graph.find_tensor(annotation.tensor_name());
    if (id < 0) continue;
    ir::QuantType quant;
    bool has_type = false;
    for (const auto& kv : annotation.quant_parameter_tensor_names()) {
      if (kv.key() == model_io::kAnnotationDatatype) has_type = model_io::parse_finn_datatype(kv.value(), quant);
    }
    if (!has_type) continue;
    try {
      for (const auto& kv : annotation.quant_parameter_tensor_names()) {
        if (kv.key() == model_io::kAnnotationScale) quant.scale = parse_floats(kv.value());
        if (kv.key() == model_io::kAnnotationZeroPoint) quant.zero_point = parse_floats(kv.value());
        if (kv.key() == model_io::kAnnotationChannelAxis) quant.channel_axis = std::stoi(kv.value());
        if (kv.key() == model_io::kAnnotationNarrow) quant.narrow = kv.value() == "1";
      }
    } catch (const std::exception&) {
      throw Error(file + ": quantization_annotation of tensor '" + annotation.tensor_name() + "' is malformed");
    }
    graph.tensor(id).quant = quant;
  }
}

void add_constant_node_value(const onnx::NodeProto& node, ir::Graph& graph, const std::string& file) {
  const std::string what = file + ": Constant node '" + node.name() + "'";
  check(node.output_size() == 1, what + " must have one output");
  Tensor value;
  bool found = false;
  for (const auto& attr : node.attribute()) {
    if (attr.name() == "value") {
      value = tensor_from_onnx(attr.t(), what);
    } else if (attr.name() == "value_float") {
      value = Tensor::from_floats({}, {attr.f()});
    } else if (attr.name() == "value_floats") {
      value = Tensor::from_floats({attr.floats_size()}, {attr.floats().begin(), attr.floats().end()});
    } else if (attr.name() == "value_int") {
      value = Tensor::from_ints(ElemType::kInt64, {}, {attr.i()});
    } else if (attr.name() == "value_ints") {
      value = Tensor::from_ints(ElemType::kInt64, {attr.ints_size()}, {attr.ints().begin(), attr.ints().end()});
    } else {
      throw Error(what + ": attribute '" + attr.name() + "' is not supported");
    }
    found = true;
  }
  check(found, what + " has no value");
  ir::TensorInfo info;
  info.name = node.output(0);
  info.type = value.type;
  info.shape = value.shape;
  info.constant = std::move(value);
  const int existing = graph.find_tensor(info.name);
  check(existing < 0 || !graph.tensor(existing).is_constant(), what + ": output '" + info.name + "' defined twice");
  if (existing >= 0) {
    graph.tensor(existing) = std::move(info);
  } else {
    graph.add_tensor(std::move(info));
  }
}

ir::Graph proto_to_graph(const onnx::ModelProto& model, const std::string& file) {
  const auto& proto = model.graph();
  ir::Graph graph;
  graph.name = proto.name();
  graph.source_path = file;
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") graph.opset = opset.version();
  }
  for (const auto& init : proto.initializer()) {
    ir::TensorInfo info;
    info.name = init.name();
    info.constant = tensor_from_onnx(init, file + ": initializer '" + init.name() + "'");
    info.type = info.constant->type;
    info.shape = info.constant->shape;
    graph.add_tensor(std::move(info));
  }
  for (const auto& input : proto.input()) {
    if (graph.find_tensor(input.name()) >= 0) continue;  // initializers listed as inputs (IR < 4)
    ir::TensorInfo info;
    info.name = input.name();
    check(input.type().has_tensor_type(), file + ": graph input '" + input.name() + "' is not a tensor");
    try {
      info.type = elem_type_from_onnx(input.type().tensor_type().elem_type());
    } catch (const Error& e) {
      throw Error(file + ": graph input '" + input.name() + "': " + e.what());
    }
    info.shape = shape_from_type(input.type());
    for (size_t d = 1; d < info.shape.size(); ++d) {
      check(info.shape[d] > 0, file + ": graph input '" + input.name() + "' has a dynamic dimension " +
                                   std::to_string(d) + "; only the batch dimension (0) may be dynamic");
    }
    if (!info.shape.empty() && info.shape[0] < 0) info.shape[0] = 1;  // analyses use batch 1
    graph.inputs.push_back(graph.add_tensor(std::move(info)));
  }
  for (const auto& node : proto.node()) {
    if (node.op_type() == "Constant" && (node.domain().empty() || node.domain() == "ai.onnx")) {
      add_constant_node_value(node, graph, file);
      continue;
    }
    graph.nodes.push_back(node_from_onnx(node, graph));
    if (graph.nodes.back().name.empty()) graph.nodes.back().name = node.op_type() + "_" + std::to_string(graph.nodes.size() - 1);
  }
  for (const auto& output : proto.output()) {
    const int id = graph.find_tensor(output.name());
    check(id >= 0, file + ": graph output '" + output.name() + "' is not produced by any node");
    graph.outputs.push_back(id);
  }
  for (const auto& vi : proto.value_info()) {
    const int id = graph.find_tensor(vi.name());
    if (id >= 0 && graph.tensor(id).shape.empty()) graph.tensor(id).shape = shape_from_type(vi.type());
  }
  read_annotations(proto, graph, file);
  return graph;
}

}  // namespace

void check_model_bytes(const std::string& bytes, const std::string& name_for_messages) {
  register_qonnx_schemas();
  onnx::ModelProto model;
  check(model.ParseFromString(bytes), name_for_messages + ": not a valid ONNX model (protobuf parse failed)");
  try {
    onnx::checker::check_model(model);
    onnx::ShapeInferenceOptions options{true, 1, false};
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw Error(name_for_messages + ": " + one_line(e.what()));
  }
}

ir::Graph import_model_from_bytes(const std::string& bytes, const std::string& name_for_messages) {
  const std::string& file = name_for_messages;
  register_qonnx_schemas();
  onnx::ModelProto model;
  check(!bytes.empty(), file + ": file is empty");
  check(model.ParseFromString(bytes), file + ": not a valid ONNX model (protobuf parse failed: truncated or not an .onnx file)");
  check(model.has_graph() && model.graph().node_size() > 0, file + ": model has no graph nodes");
  declare_custom_domains(model);
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(file + ": invalid model: " + one_line(e.what()));
  }
  // First shape inference on the model as given, so Shape nodes of static tensors can be folded.
  try {
    onnx::ShapeInferenceOptions options{false, 0, false};
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    throw Error(file + ": shape inference failed: " + one_line(e.what()));
  }
  ir::Graph graph = proto_to_graph(model, file);
  graph.sort_topologically();
  for (const auto& node : graph.nodes) {
    check(engine::supports(node), file + ": " + node.describe() + ": op '" + node.op_type + "'" +
                                      (node.domain.empty() ? "" : " in domain '" + node.domain + "'") +
                                      " is not supported by dnnsplit's engine");
  }
  model_io::fold_constants(graph);
  model_io::infer_shapes(graph);
  model_io::infer_quant_types(graph);
  return graph;
}

ir::Graph import_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path + ": cannot open file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  check(!in.bad(), path + ": read error");
  return import_model_from_bytes(buffer.str(), path);
}

}  // namespace dnnsplit
