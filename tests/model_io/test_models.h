// Small ONNX models built in code, for import tests.
#pragma once

#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace dnnsplit::testing {

inline onnx::ModelProto empty_model(int opset = 13) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  model.mutable_graph()->set_name("test");
  return model;
}

inline void add_value_info(onnx::ValueInfoProto* vi, const std::string& name, std::vector<int64_t> shape,
                           int type = onnx::TensorProto::FLOAT) {
  vi->set_name(name);
  auto* t = vi->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  auto* s = t->mutable_shape();
  for (auto d : shape) {
    if (d < 0) {
      s->add_dim()->set_dim_param("N");
    } else {
      s->add_dim()->set_dim_value(d);
    }
  }
}

inline void add_input(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> shape) {
  add_value_info(m.mutable_graph()->add_input(), name, std::move(shape));
}
inline void add_output(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> shape) {
  add_value_info(m.mutable_graph()->add_output(), name, std::move(shape));
}

inline void add_float_init(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> shape,
                           const std::vector<float>& values) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (auto d : shape) t->add_dims(d);
  for (float v : values) t->add_float_data(v);
}

inline void add_int64_init(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> shape,
                           const std::vector<int64_t>& values) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (auto d : shape) t->add_dims(d);
  for (auto v : values) t->add_int64_data(v);
}

inline onnx::NodeProto* add_node(onnx::ModelProto& m, const std::string& op, const std::string& name,
                                 std::vector<std::string> inputs, std::vector<std::string> outputs,
                                 const std::string& domain = "") {
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name);
  n->set_domain(domain);
  for (auto& i : inputs) n->add_input(i);
  for (auto& o : outputs) n->add_output(o);
  return n;
}

inline void set_int_attr(onnx::NodeProto* n, const std::string& key, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void set_ints_attr(onnx::NodeProto* n, const std::string& key, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(key);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

inline void annotate_input(onnx::ModelProto& m, const std::string& tensor, const std::string& finn_type) {
  auto* ann = m.mutable_graph()->add_quantization_annotation();
  ann->set_tensor_name(tensor);
  auto* kv = ann->add_quant_parameter_tensor_names();
  kv->set_key("finn_datatype");
  kv->set_value(finn_type);
}

inline std::string serialize(const onnx::ModelProto& m) {
  std::string bytes;
  m.SerializeToString(&bytes);
  return bytes;
}

// A Quant node on `x` with scalar/per-channel scale initializers named after the node.
inline void add_quant(onnx::ModelProto& m, const std::string& name, const std::string& x, const std::string& y,
                      std::vector<int64_t> scale_shape, const std::vector<float>& scale, float bits, bool is_signed,
                      bool narrow, const std::string& domain = "qonnx.custom_op.general") {
  add_float_init(m, name + "_scale", scale_shape, scale);
  add_float_init(m, name + "_zeropt", {}, {0.0F});
  add_float_init(m, name + "_bits", {}, {bits});
  auto* n = add_node(m, "Quant", name, {x, name + "_scale", name + "_zeropt", name + "_bits"}, {y}, domain);
  set_int_attr(n, "signed", is_signed ? 1 : 0);
  set_int_attr(n, "narrow", narrow ? 1 : 0);
  auto* a = n->add_attribute();
  a->set_name("rounding_mode");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("ROUND");
}

// in (N,2,3,3) UINT8-annotated -> Quant 8 bit (scale 2) -> Conv 2->4 k=3 with weight
// Quant 2 bit per-output-channel scale -> Relu -> Quant 4 bit unsigned -> Flatten -> out (N,4).
inline onnx::ModelProto small_conv_model() {
  auto m = empty_model();
  auto* op = m.add_opset_import();
  op->set_domain("qonnx.custom_op.general");
  op->set_version(1);
  add_input(m, "in", {1, 2, 3, 3});
  annotate_input(m, "in", "UINT8");
  add_quant(m, "in_q", "in", "in_quant", {}, {2.0F}, 8, true, false);
  std::vector<float> w(4 * 2 * 3 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 3) - 1) * 0.7F;
  add_float_init(m, "w", {4, 2, 3, 3}, w);
  add_quant(m, "w_q", "w", "w_quant", {4, 1, 1, 1}, {0.5F, 0.25F, 1.0F, 0.125F}, 2, true, true);
  add_node(m, "Conv", "conv", {"in_quant", "w_quant"}, {"conv_out"});
  add_node(m, "Relu", "relu", {"conv_out"}, {"relu_out"});
  add_quant(m, "act_q", "relu_out", "act_out", {}, {0.5F}, 4, false, false);
  add_node(m, "Flatten", "flatten", {"act_out"}, {"out"});
  add_output(m, "out", {1, 4});
  return m;
}

}  // namespace dnnsplit::testing
