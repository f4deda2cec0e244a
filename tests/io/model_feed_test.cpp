// Exact element-type conversion, model input checks, and class rankings from model outputs.
#include <gtest/gtest.h>

#include <cmath>

#include "dnnsplit/dataset.h"
#include "dnnsplit/npy.h"
#include "io_test_util.h"

namespace dnnsplit {
namespace {

using test::expect_error;

TEST(CastExact, ConvertsRepresentableValues) {
  const Tensor u8 = Tensor::from_ints(ElemType::kUint8, {3}, {0, 128, 255});
  EXPECT_EQ(cast_tensor_exact(u8, ElemType::kFloat, "x").f32, (std::vector<float>{0.0F, 128.0F, 255.0F}));
  const Tensor f = Tensor::from_floats({3}, {3.0F, -0.0F, 255.0F});
  const Tensor back = cast_tensor_exact(f, ElemType::kUint8, "x");
  EXPECT_EQ(back.type, ElemType::kUint8);
  EXPECT_EQ(back.i64, (std::vector<int64_t>{3, 0, 255}));
  EXPECT_EQ(cast_tensor_exact(Tensor::from_ints(ElemType::kInt8, {1}, {-128}), ElemType::kFloat, "x").f32[0], -128.0F);
  // 2^24 + 2 has 23 significant bits: exact in float. 2^63 (int64 min) is a power of two.
  EXPECT_EQ(cast_tensor_exact(Tensor::from_ints(ElemType::kInt64, {1}, {16777218}), ElemType::kFloat, "x").f32[0],
            16777218.0F);
  EXPECT_EQ(cast_tensor_exact(Tensor::from_ints(ElemType::kInt64, {1}, {INT64_MIN}), ElemType::kDouble, "x").f64[0],
            -9223372036854775808.0);
  // uint64 2^63 is stored as the bit pattern of INT64_MIN and must come out positive.
  EXPECT_EQ(cast_tensor_exact(Tensor::from_ints(ElemType::kUint64, {1}, {INT64_MIN}), ElemType::kDouble, "x").f64[0],
            9223372036854775808.0);
  EXPECT_EQ(cast_tensor_exact(Tensor::from_floats({1}, {1.8e19F}), ElemType::kUint64, "x").i64[0],
            static_cast<int64_t>(static_cast<uint64_t>(1.8e19F)));
  const Tensor nan = cast_tensor_exact(Tensor::from_floats({1}, {std::nanf("")}), ElemType::kDouble, "x");
  EXPECT_TRUE(std::isnan(nan.f64[0]));
  EXPECT_EQ(cast_tensor_exact(Tensor::from_ints(ElemType::kBool, {2}, {1, 0}), ElemType::kInt32, "x").i64,
            (std::vector<int64_t>{1, 0}));
}

TEST(CastExact, RejectsValuesThatWouldChange) {
  expect_error(
      [] {
        cast_tensor_exact(Tensor::from_floats({2}, {1.0F, 3.5F}), ElemType::kUint8, "in.npy");
      },
      {"in.npy", "value 3.5 at index 1", "uint8", "float32"});
  expect_error([] { cast_tensor_exact(Tensor::from_floats({1}, {256.0F}), ElemType::kUint8, "x"); }, {"value 256"});
  expect_error([] { cast_tensor_exact(Tensor::from_floats({1}, {-1.0F}), ElemType::kUint8, "x"); }, {"value -1"});
  expect_error([] { cast_tensor_exact(Tensor::from_floats({1}, {NAN}), ElemType::kInt8, "x"); }, {"nan"});
  expect_error([] { cast_tensor_exact(Tensor::from_ints(ElemType::kInt16, {1}, {-129}), ElemType::kInt8, "x"); },
               {"value -129"});
  expect_error([] { cast_tensor_exact(Tensor::from_ints(ElemType::kInt64, {1}, {16777217}), ElemType::kFloat, "x"); },
               {"value 16777217", "float32"});
  expect_error([] { cast_tensor_exact(Tensor::from_ints(ElemType::kUint64, {1}, {-1}), ElemType::kInt64, "x"); },
               {"value 18446744073709551615"});
  expect_error([] { cast_tensor_exact(Tensor::from_ints(ElemType::kInt8, {1}, {2}), ElemType::kBool, "x"); },
               {"value 2", "bool"});
  Tensor d;
  d.type = ElemType::kDouble;
  d.shape = {1};
  d.f64 = {0.1};
  expect_error([&] { cast_tensor_exact(d, ElemType::kFloat, "x"); }, {"value 0.1"});
}

TEST(TopClasses, RanksScoresPerImage) {
  const Tensor scores = Tensor::from_floats({3, 3}, {0.1F, 0.9F, 0.5F, 3.0F, 3.0F, 1.0F, -1.0F, -3.0F, -2.0F});
  const auto top2 = top_classes(scores, 2, false);
  EXPECT_EQ(top2, (std::vector<std::vector<int64_t>>{{1, 2}, {0, 1}, {0, 2}}));  // tie: lower index first
  const Tensor nchw = Tensor::from_ints(ElemType::kInt32, {1, 4, 1, 1}, {2, 9, -5, 9});
  EXPECT_EQ(top_classes(nchw, 1, false), std::vector<std::vector<int64_t>>{{1}});
  const Tensor indices = Tensor::from_ints(ElemType::kInt64, {4, 1}, {7, 2, 1, 0});
  EXPECT_EQ(top_classes(indices, 1, true), (std::vector<std::vector<int64_t>>{{7}, {2}, {1}, {0}}));
  expect_error([&] { top_classes(scores, 4, false); }, {"3 values per image", "4 requested"});
  expect_error([&] { top_classes(indices, 2, true); }, {"1 values per image"});
  expect_error([&] { top_classes(scores, 0, false); }, {"k >= 1"});
  expect_error([&] { top_classes(Tensor::from_floats({}, {1.0F}), 1, false); }, {"no batch dimension"});
}

// x (float [1, 3, 4]) -> TopK -> (values, indices); y = Relu(x).
ir::Graph classifier_graph() {
  ir::Graph g;
  g.name = "g";
  const int x = g.add_tensor({"x", ElemType::kFloat, {1, 3, 4}, std::nullopt, std::nullopt});
  const int k = g.add_tensor({"k", ElemType::kInt64, {1}, std::nullopt, Tensor::from_ints(ElemType::kInt64, {1}, {1})});
  const int values = g.add_tensor({"values", ElemType::kFloat, {1, 3, 1}, std::nullopt, std::nullopt});
  const int indices = g.add_tensor({"indices", ElemType::kInt64, {1, 3, 1}, std::nullopt, std::nullopt});
  const int y = g.add_tensor({"y", ElemType::kFloat, {1, 3, 4}, std::nullopt, std::nullopt});
  g.nodes.push_back({"topk", "TopK", "", {x, k}, {values, indices}, {}});
  g.nodes.push_back({"relu", "Relu", "", {x}, {y}, {}});
  g.inputs = {x};
  g.outputs = {indices, values, y, x};
  return g;
}

TEST(ModelFeed, RecognisesTopKIndicesOutputs) {
  const ir::Graph g = classifier_graph();
  EXPECT_TRUE(output_is_topk_indices(g, 0));
  EXPECT_FALSE(output_is_topk_indices(g, 1));  // TopK values
  EXPECT_FALSE(output_is_topk_indices(g, 2));  // Relu
  EXPECT_FALSE(output_is_topk_indices(g, 3));  // a graph input
  EXPECT_FALSE(output_is_topk_indices(g, 4));  // no such output
}

TEST(ModelFeed, ChecksShapeAnyBatchAndConvertsType) {
  const ir::Graph g = classifier_graph();
  const Tensor given = Tensor::from_ints(ElemType::kUint8, {2, 3, 4}, std::vector<int64_t>(24, 200));
  const Tensor fed = prepare_model_input(g, 0, given, "in.npy");
  EXPECT_EQ(fed.type, ElemType::kFloat);
  EXPECT_EQ(fed.shape, (Shape{2, 3, 4}));
  EXPECT_EQ(fed.f32, std::vector<float>(24, 200.0F));
  expect_error(
      [&] {
        prepare_model_input(g, 0, Tensor::zeros(ElemType::kFloat, {2, 3, 5}), "in.npy");
      },
      {"in.npy has shape [2, 3, 5] but model input 'x' expects [N, 3, 4]"});
  expect_error([&] { prepare_model_input(g, 0, Tensor::zeros(ElemType::kFloat, {12}), "in.npy"); },
               {"[12]", "[N, 3, 4]"});
  expect_error([&] { prepare_model_input(g, 0, Tensor::zeros(ElemType::kFloat, {0, 3, 4}), "in.npy"); }, {"[0, 3, 4]"});
  expect_error([&] { prepare_model_input(g, 1, given, "in.npy"); }, {"1 inputs", "number 2"});

  ir::Graph dynamic = g;
  dynamic.tensor(0).shape = {-1, 3, -1};
  dynamic.tensor(0).type = ElemType::kUint8;
  EXPECT_EQ(prepare_model_input(dynamic, 0, Tensor::zeros(ElemType::kFloat, {5, 3, 7}), "in.npy").shape,
            (Shape{5, 3, 7}));
  expect_error(
      [&] {
        prepare_model_input(dynamic, 0, Tensor::from_floats({1, 3, 1}, {0.0F, 1.5F, 2.0F}), "in.npy");
      },
      {"in.npy", "'x'", "value 1.5 at index 1", "uint8"});
}

}  // namespace
}  // namespace dnnsplit
