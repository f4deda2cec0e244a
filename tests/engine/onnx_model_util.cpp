#include "engine/onnx_model_util.h"

#include <fstream>

#include "dnnsplit/error.h"
#include "dnnsplit/onnx_convert.h"

namespace dnnsplit::engine::test_util {

onnx::ModelProto read_model_proto(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path + ": cannot open");
  onnx::ModelProto model;
  check(model.ParseFromIstream(&in), path + ": not an ONNX model");
  return model;
}

int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  }
  return 1;
}

std::optional<std::string> unrepresentable_types(const onnx::ModelProto& model) {
  auto problem = [](const onnx::ValueInfoProto& v) -> std::optional<std::string> {
    if (!v.type().has_tensor_type()) return "'" + v.name() + "' is not a tensor (sequence/optional/map)";
    try {
      elem_type_from_onnx(v.type().tensor_type().elem_type());
    } catch (const Error& e) {
      return "'" + v.name() + "': " + e.what();
    }
    return std::nullopt;
  };
  for (const auto& v : model.graph().input()) {
    if (auto p = problem(v)) return p;
  }
  for (const auto& v : model.graph().output()) {
    if (auto p = problem(v)) return p;
  }
  return std::nullopt;
}

namespace {

ir::TensorInfo info_from_value(const onnx::ValueInfoProto& v) {
  ir::TensorInfo info;
  info.name = v.name();
  const auto& tt = v.type().tensor_type();
  info.type = elem_type_from_onnx(tt.elem_type());
  for (const auto& d : tt.shape().dim()) info.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return info;
}

}  // namespace

ir::Graph graph_from_model(const onnx::ModelProto& model) {
  ir::Graph g;
  g.name = model.graph().name();
  g.opset = default_opset(model);
  for (const auto& init : model.graph().initializer()) {
    ir::TensorInfo info;
    info.name = init.name();
    info.constant = tensor_from_onnx(init, "initializer '" + init.name() + "'");
    info.type = info.constant->type;
    info.shape = info.constant->shape;
    g.add_tensor(std::move(info));
  }
  for (const auto& v : model.graph().input()) {
    if (g.find_tensor(v.name()) >= 0) continue;  // an initializer listed as input
    g.inputs.push_back(g.add_tensor(info_from_value(v)));
  }
  for (const auto& node : model.graph().node()) g.nodes.push_back(node_from_onnx(node, g));
  for (const auto& v : model.graph().output()) {
    int id = g.find_tensor(v.name());
    if (id < 0) id = g.add_tensor(info_from_value(v));
    g.outputs.push_back(id);
  }
  return g;
}

}  // namespace dnnsplit::engine::test_util
