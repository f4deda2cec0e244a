// Standard ops where ONNX changed the semantics between opsets (ONNX's node tests cover only
// the newest version of each op), plus integer corner cases; hand-computed expectations.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/engine_test_util.h"

namespace dnnsplit::engine {
namespace {

using namespace test_util;

void expect_near(const Tensor& got, const std::vector<double>& want) {
  ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.at(static_cast<int64_t>(i)), want[i], 1e-6) << i;
}

TEST(OpVersions, SoftmaxCoercesTo2dBeforeOpset13) {
  const Tensor x = floats({1, 2, 2}, {1, 2, 3, 4});
  ir::Node n = make_node("Softmax", 1);
  n.attributes["axis"] = int64_t{1};
  // Opset 11: softmax over all four values (e^k / sum).
  expect_near(run1(n, {x}, 11), {0.0320586, 0.0871443, 0.2368828, 0.6439143});
  // Opset 13: along axis 1 only, pairs (1, 3) and (2, 4): 1 / (1 + e^2) = 0.1192029.
  expect_near(run1(n, {x}, 13), {0.1192029, 0.1192029, 0.8807971, 0.8807971});
  // Default axis: 1 before 13 (whole row here), -1 from 13 on (pairs (1, 2) and (3, 4)).
  const ir::Node plain = make_node("LogSoftmax", 1);
  expect_near(run1(plain, {x}, 11), {std::log(0.0320586), std::log(0.0871443), std::log(0.2368828),
                                     std::log(0.6439143)});
  expect_near(run1(plain, {x}, 13), {std::log(0.2689414), std::log(0.7310586), std::log(0.2689414),
                                     std::log(0.7310586)});
}

TEST(OpVersions, TopKAttributeBeforeOpset10AndSmallest) {
  const Tensor x = floats({5}, {3, 1, 4, 1, 5});
  ir::Node old = make_node("TopK", 1, 2);
  old.attributes["k"] = int64_t{2};
  std::vector<const Tensor*> args{&x};
  auto out = run_node(old, args, 1);
  expect_values(out[0], {2}, {5, 4});
  EXPECT_EQ(out[1].i64, (std::vector<int64_t>{4, 2}));
  ir::Node smallest = make_node("TopK", 2, 2);
  smallest.attributes["largest"] = int64_t{0};
  const Tensor k = ints({1}, {3});
  args = {&x, &k};
  out = run_node(smallest, args, 11);
  expect_values(out[0], {3}, {1, 1, 3});
  EXPECT_EQ(out[1].i64, (std::vector<int64_t>{1, 3, 0}));  // equal values keep index order
}

TEST(OpVersions, SplitSizesAttributeThenInput) {
  const Tensor x = floats({3}, {1, 2, 3});
  ir::Node old = make_node("Split", 1, 2);
  old.attributes["split"] = std::vector<int64_t>{1, 2};
  std::vector<const Tensor*> args{&x};
  auto out = run_node(old, args, 11);
  expect_values(out[0], {1}, {1});
  expect_values(out[1], {2}, {2, 3});
  const Tensor sizes = ints({2}, {2, 1});
  args = {&x, &sizes};
  out = run_node(make_node("Split", 2, 2), args, 13);
  expect_values(out[0], {2}, {1, 2});
  expect_values(out[1], {1}, {3});
  args = {&x};
  out = run_node(make_node("Split", 1, 3), args, 13);  // equal parts
  expect_values(out[2], {1}, {3});
}

TEST(OpVersions, SqueezeUnsqueezeAxesAttributeThenInput) {
  const Tensor x = floats({1, 3, 1}, {1, 2, 3});
  ir::Node old = make_node("Squeeze", 1);
  old.attributes["axes"] = std::vector<int64_t>{-1};
  EXPECT_EQ(run1(old, {x}, 11).shape, (Shape{1, 3}));
  EXPECT_EQ(run1(make_node("Squeeze", 2), {x, ints({1}, {0})}, 13).shape, (Shape{3, 1}));
  EXPECT_EQ(run1(make_node("Squeeze", 1), {x}, 13).shape, (Shape{3}));  // no axes: every 1
  ir::Node un = make_node("Unsqueeze", 1);
  un.attributes["axes"] = std::vector<int64_t>{0, 3};
  const Tensor y = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(run1(un, {y}, 11).shape, (Shape{1, 2, 3, 1}));
  EXPECT_EQ(run1(make_node("Unsqueeze", 2), {y, ints({2}, {-1, 1})}, 13).shape, (Shape{2, 1, 3, 1}));
}

TEST(OpVersions, ReduceAxesAttributeOrInput) {
  const Tensor x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  ir::Node old = make_node("ReduceSum", 1);
  old.attributes["axes"] = std::vector<int64_t>{1};
  old.attributes["keepdims"] = int64_t{0};
  expect_values(run1(old, {x}, 11), {2}, {6, 15});
  expect_values(run1(make_node("ReduceSum", 2), {x, ints({1}, {0})}, 13), {1, 3}, {5, 7, 9});
  ir::Node noop = make_node("ReduceSum", 1);
  noop.attributes["noop_with_empty_axes"] = int64_t{1};
  expect_values(run1(noop, {x}, 13), {2, 3}, {1, 2, 3, 4, 5, 6});
  expect_values(run1(make_node("ReduceMean", 1), {x}, 13), {1, 1}, {3.5F});
  // ReduceMean keeps its axes attribute until opset 18.
  const std::string msg = error_of([&] { run1(make_node("ReduceMean", 2), {x, ints({1}, {0})}, 13); });
  EXPECT_NE(msg.find("node 'ReduceMean_0' (ReduceMean)"), std::string::npos) << msg;
}

TEST(OpVersions, ClipBoundsAttributeThenInputs) {
  const Tensor x = floats({3}, {-1.0F, 0.5F, 3.0F});
  ir::Node old = make_node("Clip", 1);
  old.attributes["min"] = 0.0F;
  old.attributes["max"] = 2.0F;
  expect_values(run1(old, {x}, 9), {3}, {0.0F, 0.5F, 2.0F});
  const Tensor hi = scalar(1.0F);
  std::vector<const Tensor*> args{&x, nullptr, &hi};  // min omitted
  expect_values(run_node(make_node("Clip", 3), args, 13)[0], {3}, {-1.0F, 0.5F, 1.0F});
}

TEST(OpVersions, PadModesAndVersions) {
  const Tensor x = floats({1, 3}, {1, 2, 3});
  ir::Node old = make_node("Pad", 1);
  old.attributes["pads"] = std::vector<int64_t>{0, 2, 0, 1};
  old.attributes["mode"] = std::string("reflect");
  expect_values(run1(old, {x}, 9), {1, 6}, {3, 2, 1, 2, 3, 2});
  ir::Node edge = make_node("Pad", 2);
  edge.attributes["mode"] = std::string("edge");
  const Tensor pads = ints({4}, {0, 2, 0, 1});
  expect_values(run1(edge, {x, pads}, 13), {1, 6}, {1, 1, 1, 2, 3, 3});
  expect_values(run1(make_node("Pad", 3), {x, pads, scalar(9)}, 13), {1, 6}, {9, 9, 1, 2, 3, 9});
  expect_values(run1(make_node("Pad", 2), {x, ints({4}, {0, -1, 0, 0})}, 13), {1, 2}, {2, 3});  // crop
}

TEST(OpVersions, MaxPoolIndicesInBothStorageOrders) {
  const Tensor x = floats({1, 1, 2, 2}, {1, 4, 3, 2});
  ir::Node n = make_node("MaxPool", 1, 2);
  n.attributes["kernel_shape"] = std::vector<int64_t>{2, 2};
  std::vector<const Tensor*> args{&x};
  EXPECT_EQ(run_node(n, args, 12)[1].i64, (std::vector<int64_t>{1}));  // (h 0, w 1) row-major
  n.attributes["storage_order"] = int64_t{1};
  EXPECT_EQ(run_node(n, args, 12)[1].i64, (std::vector<int64_t>{2}));  // w * H + h
}

TEST(OpVersions, BatchNormalizationInference) {
  // y = (x - mean) / sqrt(var + eps) * scale + bias with var + eps = 4.
  const Tensor x = floats({1, 2, 1, 2}, {1, 3, 10, 20});
  ir::Node n = make_node("BatchNormalization", 5);
  n.attributes["epsilon"] = 0.0F;
  const Tensor y = run1(n,
                        {x, floats({2}, {2, 1}), floats({2}, {0, 1}), floats({2}, {1, 10}), floats({2}, {4, 4})}, 9);
  expect_near(y, {0.0, 2.0, 1.0, 6.0});
}

TEST(OpVersions, LegacyBroadcastWithAxisBeforeOpset7) {
  ir::Node n = make_node("Add", 2);
  n.attributes["broadcast"] = int64_t{1};
  n.attributes["axis"] = int64_t{1};
  const Tensor a = floats({2, 3, 1}, {0, 0, 0, 0, 0, 0});
  // B of shape (3) aligns with axis 1 of A: each channel gets its value.
  expect_values(run1(n, {a, floats({3}, {1, 2, 3})}, 6), {2, 3, 1}, {1, 2, 3, 1, 2, 3});
}

TEST(IntegerOps, WrapTruncateAndModulo) {
  const auto u8 = [](std::vector<int64_t> v) { return Tensor::from_ints(ElemType::kUint8, {2}, std::move(v)); };
  EXPECT_EQ(run1(make_node("Add", 2), {u8({250, 1}), u8({10, 2})}).i64, (std::vector<int64_t>{4, 3}));
  EXPECT_EQ(run1(make_node("Sub", 2), {u8({1, 5}), u8({2, 2})}).i64, (std::vector<int64_t>{255, 3}));
  const auto i32 = [](std::vector<int64_t> v) { return Tensor::from_ints(ElemType::kInt32, {2}, std::move(v)); };
  EXPECT_EQ(run1(make_node("Div", 2), {i32({-7, 7}), i32({2, 2})}).i64, (std::vector<int64_t>{-3, 3}));
  EXPECT_EQ(run1(make_node("Mod", 2), {i32({-7, 7}), i32({3, -3})}).i64, (std::vector<int64_t>{2, -2}));
  ir::Node fmod = make_node("Mod", 2);
  fmod.attributes["fmod"] = int64_t{1};
  EXPECT_EQ(run1(fmod, {i32({-7, 7}), i32({3, -3})}).i64, (std::vector<int64_t>{-1, 1}));
  const std::string msg = error_of([&] { run1(make_node("Div", 2), {i32({1, 1}), i32({1, 0})}); });
  EXPECT_NE(msg.find("node 'Div_0' (Div): integer division by zero"), std::string::npos) << msg;
}

TEST(IntegerOps, CastTruncatesTowardZero) {
  ir::Node n = make_node("Cast", 1);
  n.attributes["to"] = int64_t{6};  // INT32
  const Tensor x = floats({3}, {-1.7F, 2.9F, 0.0F});
  const Tensor y = run1(n, {x});
  EXPECT_EQ(y.type, ElemType::kInt32);
  EXPECT_EQ(y.i64, (std::vector<int64_t>{-1, 2, 0}));
  n.attributes["to"] = int64_t{9};  // BOOL
  EXPECT_EQ(run1(n, {x}).i64, (std::vector<int64_t>{1, 1, 0}));
  n.attributes["to"] = int64_t{10};  // FLOAT16: not representable
  EXPECT_NE(error_of([&] { run1(n, {x}); }).find("node 'Cast_0' (Cast): attribute 'to'"), std::string::npos);
}

TEST(ShapeErrors, MessagesNameNodeAndShapes) {
  const Tensor x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  std::string msg = error_of([&] { run1(make_node("Reshape", 2), {x, ints({2}, {4, 2})}); });
  EXPECT_NE(msg.find("node 'Reshape_0' (Reshape): cannot reshape input 0 float32[2, 3] to [4, 2]"),
            std::string::npos)
      << msg;
  msg = error_of([&] { run1(make_node("MatMul", 2), {x, x}); });
  EXPECT_NE(msg.find("node 'MatMul_0' (MatMul): inner dimensions"), std::string::npos) << msg;
  ir::Node conv = make_node("Conv", 2);
  msg = error_of([&] { run1(conv, {floats({1, 2, 3, 3}, std::vector<float>(18, 0)), floats({1, 3, 1, 1}, {1, 1, 1})}); });
  EXPECT_NE(msg.find("node 'Conv_0' (Conv): weight input 1 float32[1, 3, 1, 1] does not match"), std::string::npos)
      << msg;
  ir::Node concat = make_node("Concat", 2);
  concat.attributes["axis"] = int64_t{0};
  msg = error_of([&] { run1(concat, {x, floats({1, 2}, {1, 2})}); });
  EXPECT_NE(msg.find("input 1 float32[1, 2] does not match input 0 float32[2, 3]"), std::string::npos) << msg;
}

}  // namespace
}  // namespace dnnsplit::engine
