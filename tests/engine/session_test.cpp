// Session: the exact integer path, batch sizes other than the graph's, constant folding,
// reentrancy and the errors bad graphs and bad feeds produce.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

#include "engine/engine_test_util.h"

namespace dnnsplit::engine {
namespace {

using namespace test_util;

ir::QuantType quant_type(int bits, std::vector<float> scale, int channel_axis = -1) {
  ir::QuantType q;
  q.bits = bits;
  q.scale = std::move(scale);
  q.channel_axis = channel_axis;
  return q;
}

int add(ir::Graph& g, const std::string& name, Shape shape, std::optional<Tensor> constant = std::nullopt,
        std::optional<ir::QuantType> quant = std::nullopt) {
  ir::TensorInfo info;
  info.name = name;
  info.shape = std::move(shape);
  info.constant = std::move(constant);
  info.quant = std::move(quant);
  return g.add_tensor(std::move(info));
}

ir::Node node(const std::string& name, const std::string& op, std::vector<int> inputs, std::vector<int> outputs) {
  ir::Node n;
  n.name = name;
  n.op_type = op;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

// Activation codes of the 3x3 test image (INT4, scale 0.5) and the two 2x2 kernels (INT3,
// per-output-channel scales 0.25 and 1).
const std::vector<int64_t> kImage = {1, 2, 3, -1, 0, 2, 4, -2, 1};
const std::vector<int64_t> kKernels = {1, 0, -1, 2, /* oc1 */ 2, 1, 0, -3};
const std::vector<float> kWeightScale = {0.25F, 1.0F};
const std::vector<float> kBias = {0.1F, -1.0F};
// Integer sums by hand, per output channel, output positions (0,0) (0,1) (1,0) (1,1):
// oc0: 1*1 + 2*0 + (-1)*(-1) + 0*2 = 2;  2 + 0 + 0 + 2*2 = 6;  -1 + 0 - 4 - 4 = -9;  0 + 0 + 2 + 2 = 4
// oc1: 2*1 + 1*2 + 0 - 3*0 = 4;  2*2 + 3 - 3*2 = 1;  -2 + 0 + 6 = 4;  0 + 2 - 3 = -1
const std::vector<int64_t> kSums = {2, 6, -9, 4, 4, 1, 4, -1};

Tensor image_batch(const std::vector<int> signs) {
  std::vector<float> v;
  for (int s : signs) {
    for (int64_t q : kImage) v.push_back(static_cast<float>(s * q) * 0.5F);
  }
  return floats({static_cast<int64_t>(signs.size()), 1, 3, 3}, v);
}

Tensor kernels_tensor() {
  std::vector<float> v;
  for (size_t i = 0; i < kKernels.size(); ++i) v.push_back(static_cast<float>(kKernels[i]) * kWeightScale[i / 4]);
  return floats({2, 1, 2, 2}, v);
}

// The exact path's formula, y = float32(S * (s_act * s_w[oc]) + bias[oc]), for one image
// whose codes are sign * kImage.
std::vector<float> expected_conv(int sign) {
  std::vector<float> y;
  for (size_t i = 0; i < kSums.size(); ++i) {
    const size_t oc = i / 4;
    const double scale = static_cast<double>(0.5F) * static_cast<double>(kWeightScale[oc]);
    y.push_back(static_cast<float>(static_cast<double>(sign * kSums[i]) * scale + static_cast<double>(kBias[oc])));
  }
  return y;
}

// x [1,1,3,3] INT4/0.5 -> Conv(w INT3 per channel, bias) -> y [1,2,2,2] [-> Reshape [1,-1] -> z].
ir::Graph conv_graph(bool with_reshape) {
  ir::Graph g;
  g.name = "conv_test";
  const int x = add(g, "x", {1, 1, 3, 3}, std::nullopt, quant_type(4, {0.5F}));
  const int w = add(g, "w", {2, 1, 2, 2}, kernels_tensor(), quant_type(3, kWeightScale, 0));
  const int b = add(g, "b", {2}, floats({2}, kBias));
  const int y = add(g, "y", {1, 2, 2, 2});
  g.nodes.push_back(node("conv0", "Conv", {x, w, b}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  if (with_reshape) {
    const int shape = add(g, "shape", {2}, ints({2}, {1, -1}));
    const int z = add(g, "z", {1, 8});
    g.nodes.push_back(node("flat0", "Reshape", {y, shape}, {z}));
    g.outputs = {z};
  }
  return g;
}

TEST(SessionExactPath, ConvWithPerChannelWeightsMatchesHandComputedSums) {
  const Session session(conv_graph(false));
  const auto y = session.run({image_batch({1})});
  ASSERT_EQ(y.size(), 1U);
  expect_values(y[0], {1, 2, 2, 2}, expected_conv(1));
}

TEST(SessionExactPath, BatchOfThreeOnGraphWithStaticBatchOne) {
  const Session session(conv_graph(true));
  const auto z = session.run({image_batch({1, -1, 0})});
  std::vector<float> want = expected_conv(1);
  for (int sign : {-1, 0}) {
    const auto more = expected_conv(sign);
    want.insert(want.end(), more.begin(), more.end());
  }
  expect_values(z[0], {3, 8}, want);
  // Batch 1 still works after a batch-3 run (the session keeps no per-run state).
  expect_values(session.run({image_batch({-1})})[0], {1, 8}, expected_conv(-1));
}

TEST(SessionExactPath, WeightQuantNodeIsFoldedOntoTheGrid) {
  // The float weights sit slightly off the grid; a Quant node (folded at compile time) puts
  // them on it, and its output carries the weight's quantized type.
  ir::Graph g = conv_graph(false);
  Tensor raw = kernels_tensor();
  for (auto& v : raw.f32) v += 0.01F;
  const int w_raw = add(g, "w_raw", {2, 1, 2, 2}, raw);
  const int scale = add(g, "w_scale", {2, 1, 1, 1}, floats({2, 1, 1, 1}, kWeightScale));
  const int zero = add(g, "zero", {}, scalar(0));
  const int bits = add(g, "bits", {}, scalar(3));
  const int w = g.find_tensor("w");
  g.tensor(w).constant.reset();
  ir::Node q = node("wquant", "Quant", {w_raw, scale, zero, bits}, {w});
  q.domain = "qonnx.custom_op.general";
  q.attributes["narrow"] = int64_t{0};
  g.nodes.insert(g.nodes.begin(), q);
  const Session session(std::move(g));
  expect_values(session.run({image_batch({1})})[0], {1, 2, 2, 2}, expected_conv(1));
}

// A 64-term MatMul with scales that are not powers of two, over 200 pseudo-random rows in one
// batch: the Session must equal the exact formula bit for bit, and the float path (run_node)
// must differ somewhere, or this test could not tell the two paths apart.
TEST(SessionExactPath, MatMulEqualsIntegerFormulaWhereFloatPathDiffers) {
  constexpr int64_t kRows = 200, kDepth = 64;
  const float s_act = 0.1F, s_w = 0.3F;
  uint64_t state = 12345;
  auto next_code = [&state] {  // LCG; codes in [-100, 100]
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((state >> 33) % 201) - 100;
  };
  std::vector<int64_t> xq(kRows * kDepth), wq(kDepth);
  for (auto& q : wq) q = next_code();
  for (auto& q : xq) q = next_code();
  std::vector<float> xv, wv;
  for (auto q : xq) xv.push_back(static_cast<float>(static_cast<double>(q) * s_act));
  for (auto q : wq) wv.push_back(static_cast<float>(static_cast<double>(q) * s_w));
  ir::Graph g;
  g.name = "matmul_test";
  const int x = add(g, "x", {1, kDepth}, std::nullopt, quant_type(8, {s_act}));
  const int w = add(g, "w", {kDepth, 1}, floats({kDepth, 1}, wv), quant_type(8, {s_w}));
  const int y = add(g, "y", {1, 1});
  g.nodes.push_back(node("mm", "MatMul", {x, w}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  const Session session(g);
  const Tensor input = floats({kRows, kDepth}, xv);
  const Tensor exact = session.run({input})[0];
  const Tensor weights = floats({kDepth, 1}, wv);
  const Tensor float_path = run1(g.nodes[0], {input, weights});
  int differ = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    int64_t sum = 0;
    for (int64_t k = 0; k < kDepth; ++k) sum += xq[static_cast<size_t>(r * kDepth + k)] * wq[static_cast<size_t>(k)];
    const auto want = static_cast<float>(static_cast<double>(sum) * (static_cast<double>(s_act) * s_w));
    EXPECT_EQ(exact.f32[static_cast<size_t>(r)], want) << "row " << r;
    differ += float_path.f32[static_cast<size_t>(r)] != want ? 1 : 0;
  }
  EXPECT_GT(differ, 0);
}

TEST(SessionExactPath, GemmTransposedPerChannelWeights) {
  // A codes [[1, -2, 3]] (INT4, scale 0.5); B^T codes [[1, 1, 1], [2, 0, -1]] with per-row
  // scales 0.5 and 2: sums 2 and -1; y = S * 0.5 * s_w + C, C = [0.25, 0].
  ir::Graph g;
  g.name = "gemm_test";
  const int a = add(g, "a", {1, 3}, std::nullopt, quant_type(4, {0.5F}));
  const int b = add(g, "b", {2, 3}, floats({2, 3}, {0.5F, 0.5F, 0.5F, 4.0F, 0.0F, -2.0F}), quant_type(3, {0.5F, 2.0F}, 0));
  const int c = add(g, "c", {2}, floats({2}, {0.25F, 0.0F}));
  const int y = add(g, "y", {1, 2});
  ir::Node gemm = node("fc", "Gemm", {a, b, c}, {y});
  gemm.attributes["transB"] = int64_t{1};
  g.nodes.push_back(gemm);
  g.inputs = {a};
  g.outputs = {y};
  const Session session(std::move(g));
  expect_values(session.run({floats({1, 3}, {0.5F, -1.0F, 1.5F})})[0], {1, 2}, {0.75F, -1.0F});
}

TEST(Session, IsReentrant) {
  const Session session(conv_graph(true));
  const Tensor input = image_batch({1, -1});
  const Tensor reference = session.run({input})[0];
  auto work = [&] {
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(tensors_identical(session.run({input})[0], reference));
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
}

TEST(SessionErrors, UnknownOpNamesTheNode) {
  ir::Graph g;
  const int x = add(g, "x", {1, 2});
  const int y = add(g, "y", {1, 2});
  g.nodes.push_back(node("odd0", "Frobnicate", {x}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  const std::string msg = error_of([&] { Session s(g); });
  EXPECT_NE(msg.find("node 'odd0' (Frobnicate)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
  const Tensor t = floats({1, 2}, {1, 2});
  EXPECT_NE(error_of([&] { run_node(g.nodes[0], {&t}, 13); }).find("node 'odd0' (Frobnicate)"), std::string::npos);
}

TEST(SessionErrors, MissingInitializerNamesNodeAndTensor) {
  ir::Graph g = conv_graph(false);
  g.tensor(g.find_tensor("w")).constant.reset();
  const std::string msg = error_of([&] { Session s(g); });
  EXPECT_NE(msg.find("node 'conv0' (Conv)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
}

TEST(SessionErrors, WrongInputCountNamesTheNode) {
  ir::Graph g = conv_graph(false);
  g.nodes[0].inputs.resize(1);
  const std::string msg = error_of([&] { Session s(g); });
  EXPECT_NE(msg.find("node 'conv0' (Conv): takes 2 to 3 inputs, got 1"), std::string::npos) << msg;
}

TEST(SessionErrors, FeedMustMatchStaticShapeExceptBatch) {
  const Session session(conv_graph(false));
  std::string msg = error_of([&] { session.run({floats({1, 1, 4, 3}, std::vector<float>(12, 0.0F))}); });
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 1, 3, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 1, 4, 3]"), std::string::npos) << msg;
  msg = error_of([&] { session.run({}); });
  EXPECT_NE(msg.find("takes 1 inputs ('x'), got 0"), std::string::npos) << msg;
  msg = error_of([&] { session.run({ints({1, 1, 3, 3}, std::vector<int64_t>(9, 0))}); });
  EXPECT_NE(msg.find("expects float32 values, got int64"), std::string::npos) << msg;
  Tensor broken = image_batch({1});
  broken.f32.pop_back();
  msg = error_of([&] { session.run({broken}); });
  EXPECT_NE(msg.find("holds 8 values for shape [1, 1, 3, 3]"), std::string::npos) << msg;
}

TEST(SessionErrors, ActivationOffItsGridNamesNodeAndTensor) {
  const Session session(conv_graph(false));
  Tensor x = image_batch({1});
  x.f32[4] = 0.3F;  // not a multiple of 0.5
  const std::string msg = error_of([&] { session.run({x}); });
  EXPECT_NE(msg.find("node 'conv0' (Conv)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("INT4"), std::string::npos) << msg;
  x.f32[4] = 4.0F;  // on the 0.5 grid, but code 8 is outside INT4
  EXPECT_NE(error_of([&] { session.run({x}); }).find("not on its INT4 grid"), std::string::npos);
}

TEST(SessionErrors, WeightOffItsGridNamesNodeAndWeight) {
  ir::Graph g = conv_graph(false);
  g.tensor(g.find_tensor("w")).constant->f32[1] = 0.1F;  // channel 0 grid is 0.25
  const std::string msg = error_of([&] { Session s(g); });
  EXPECT_NE(msg.find("node 'conv0' (Conv): weight 'w' value 0.1 at flat index 1"), std::string::npos) << msg;
}

TEST(SessionErrors, IncompatibleShapesAtRunTimeNameNodeAndShapes) {
  ir::Graph g;
  const int a = add(g, "a", {1, 3});
  const int b = add(g, "b", {4}, floats({4}, {1, 2, 3, 4}));
  const int y = add(g, "y", {1, 3});
  g.nodes.push_back(node("add0", "Add", {a, b}, {y}));
  g.inputs = {a};
  g.outputs = {y};
  const Session session(std::move(g));
  const std::string msg = error_of([&] { session.run({floats({1, 3}, {1, 2, 3})}); });
  EXPECT_NE(msg.find("node 'add0' (Add)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[1, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
}

}  // namespace
}  // namespace dnnsplit::engine
