// Small ONNX models for the CLI tests, with outputs easy to compute by hand.
#pragma once

#include <string>
#include <vector>

#include "io/io_test_util.h"
#include "model_io/test_models.h"

namespace dnnsplit::test {

// y = Relu(x + [1, 2, 3, 4]), x float [1, 4].
inline onnx::ModelProto add_relu_model() {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, 4});
  testing::add_float_init(m, "b", {4}, {1.0F, 2.0F, 3.0F, 4.0F});
  testing::add_node(m, "Add", "add", {"x", "b"}, {"s"});
  testing::add_node(m, "Relu", "relu", {"s"}, {"y"});
  testing::add_output(m, "y", {1, 4});
  return m;
}

// Two outputs: relu = Relu(x), neg = Neg(x), x float [1, 3].
inline onnx::ModelProto two_output_model() {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, 3});
  testing::add_node(m, "Relu", "relu", {"x"}, {"relu"});
  testing::add_node(m, "Neg", "neg", {"x"}, {"neg"});
  testing::add_output(m, "relu", {1, 3});
  testing::add_output(m, "neg", {1, 3});
  return m;
}

// A "classifier" whose score for class c is one input value: Flatten, then MatMul with a 0/1
// matrix that picks flat element first_pick + c for class c.
inline onnx::ModelProto picker_model(const std::vector<int64_t>& input_shape, int64_t first_pick) {
  int64_t features = 1;
  for (size_t i = 1; i < input_shape.size(); ++i) features *= input_shape[i];
  auto m = testing::empty_model();
  testing::add_input(m, "image", input_shape);
  std::vector<float> w(static_cast<size_t>(features * 10), 0.0F);
  for (int64_t c = 0; c < 10; ++c) w[static_cast<size_t>((first_pick + c) * 10 + c)] = 1.0F;
  testing::add_float_init(m, "w", {features, 10}, w);
  auto* flatten = testing::add_node(m, "Flatten", "flatten", {"image"}, {"flat"});
  testing::set_int_attr(flatten, "axis", 1);
  testing::add_node(m, "MatMul", "classify", {"flat", "w"}, {"scores"});
  testing::add_output(m, "scores", {1, 10});
  return m;
}

inline std::string write_model(const std::string& path, const onnx::ModelProto& model) {
  write_bytes(path, testing::serialize(model));
  return path;
}

}  // namespace dnnsplit::test
