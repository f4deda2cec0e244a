// Small helpers for the engine's hand-computed tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"

namespace dnnsplit::engine::test_util {

inline ir::Node make_node(const std::string& op, int inputs, int outputs = 1, const std::string& domain = "") {
  ir::Node node;
  node.name = op + "_0";
  node.op_type = op;
  node.domain = domain;
  for (int i = 0; i < inputs; ++i) node.inputs.push_back(i);
  for (int i = 0; i < outputs; ++i) node.outputs.push_back(inputs + i);
  return node;
}

inline ir::Node qonnx_node(const std::string& op, int inputs) {
  return make_node(op, inputs, 1, "qonnx.custom_op.general");
}

inline Tensor floats(Shape shape, std::vector<float> v) { return Tensor::from_floats(std::move(shape), std::move(v)); }
inline Tensor scalar(float v) { return Tensor::from_floats({}, {v}); }
inline Tensor ints(Shape shape, std::vector<int64_t> v) {
  return Tensor::from_ints(ElemType::kInt64, std::move(shape), std::move(v));
}

// Runs a node on the given tensors and returns its first output.
inline Tensor run1(const ir::Node& node, const std::vector<Tensor>& inputs, int64_t opset = 13) {
  std::vector<const Tensor*> args;
  for (const auto& t : inputs) args.push_back(&t);
  return run_node(node, args, opset).at(0);
}

// Exact float comparison, element by element (the values are hand-computed).
inline void expect_values(const Tensor& got, const Shape& shape, const std::vector<float>& want) {
  ASSERT_EQ(shape_to_string(got.shape), shape_to_string(shape));
  ASSERT_EQ(got.type, ElemType::kFloat);
  ASSERT_EQ(got.f32.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got.f32[i], want[i]) << "element " << i;
}

// The Error thrown by fn; fails the test when fn does not throw one.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a dnnsplit::Error";
  return {};
}

}  // namespace dnnsplit::engine::test_util
