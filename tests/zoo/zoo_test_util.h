// Reading zoo models back as ModelProto for structural checks.
#pragma once

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "dnnsplit/onnx_convert.h"
#include "dnnsplit/zoo.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit::test {

inline onnx::ModelProto parse_model(const std::string& bytes) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(bytes));
  return model;
}

inline std::map<std::string, int> op_counts(const onnx::ModelProto& model) {
  std::map<std::string, int> counts;
  for (const auto& node : model.graph().node()) ++counts[node.op_type()];
  return counts;
}

inline const onnx::TensorProto* find_initializer(const onnx::ModelProto& model, const std::string& name) {
  for (const auto& init : model.graph().initializer()) {
    if (init.name() == name) return &init;
  }
  return nullptr;
}

inline const onnx::NodeProto* find_node(const onnx::ModelProto& model, const std::string& name) {
  for (const auto& node : model.graph().node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

inline const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

// Value of a scalar (or one-element) float initializer; NaN when absent.
inline float scalar_value(const onnx::ModelProto& model, const std::string& name) {
  const auto* init = find_initializer(model, name);
  if (!init) return std::numeric_limits<float>::quiet_NaN();
  const Tensor t = tensor_from_onnx(*init, name);
  return t.numel() == 1 ? static_cast<float>(t.at(0)) : std::numeric_limits<float>::quiet_NaN();
}

// Elements of every initializer that a Conv / MatMul reads through a weight quantizer.
inline int64_t weight_elements(const onnx::ModelProto& model) {
  std::map<std::string, const onnx::NodeProto*> producer;
  for (const auto& node : model.graph().node()) {
    for (const auto& out : node.output()) producer[out] = &node;
  }
  int64_t total = 0;
  for (const auto& node : model.graph().node()) {
    if (node.op_type() != "Conv" && node.op_type() != "MatMul") continue;
    const auto it = producer.find(node.input(1));
    if (it == producer.end()) continue;
    const auto* init = find_initializer(model, it->second->input(0));
    if (!init) continue;
    int64_t n = 1;
    for (auto d : init->dims()) n *= d;
    total += n;
  }
  return total;
}

inline std::vector<std::string> zoo_names() {
  std::vector<std::string> names;
  for (const auto& e : zoo_list()) names.push_back(e.name);
  return names;
}

}  // namespace dnnsplit::test
