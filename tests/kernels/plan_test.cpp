// The compiled fast plan against the reference engine (engine::Session), bit for bit, on small
// models: the TFC networks and a synthetic model with odd sizes and the chains the zoo does not
// build (negative and zero BatchNorm gammas, per-channel quantizers before a depthwise conv,
// padding, stride 2, max-pool, flatten into a MatMul). Each runs with the SIMD kernels and the
// generic ones, single- and multi-threaded, with odd batches and image groups. Whole large
// models: plan_zoo_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <cmath>
#include <random>
#include <set>

#include "dnnsplit/error.h"
#include "model_io/test_models.h"
#include "plan_test_util.h"

namespace dnnsplit::kernels {
namespace {

using namespace dnnsplit::kernels::testing;

TEST(FastPlan, TfcModelsMatchReference) {
  for (const std::string name : {"tfc-w1a1", "tfc-w2a2"}) {
    const auto graph = zoo_graph(name);
    const double share = compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 7, 3)}, name);
    EXPECT_GT(share, 0.999) << name;
  }
}


// ---- a synthetic model with odd sizes and the chains the zoo does not build ----

using namespace dnnsplit::testing;

std::vector<float> grid_weights(size_t n, int levels, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> w(n);
  for (auto& v : w) v = static_cast<float>(static_cast<int>(rng() % levels) - levels / 2) * scale * 1.01F;
  return w;
}

void add_bn(onnx::ModelProto& m, const std::string& name, const std::string& x, const std::string& y, int64_t c,
            uint32_t seed, bool signs) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.5F, 1.5F);
  std::vector<float> gamma(static_cast<size_t>(c)), beta(gamma.size()), mean(gamma.size()), var(gamma.size());
  for (size_t i = 0; i < gamma.size(); ++i) {
    gamma[i] = u(rng) * (signs && i % 3 == 1 ? -1.0F : 1.0F);
    if (signs && i % 7 == 5) gamma[i] = 0.0F;  // a constant channel
    beta[i] = u(rng) - 1.0F;
    mean[i] = (u(rng) - 1.0F) * 3.0F;
    var[i] = u(rng) * 4.0F;
  }
  add_float_init(m, name + "_g", {c}, gamma);
  add_float_init(m, name + "_b", {c}, beta);
  add_float_init(m, name + "_m", {c}, mean);
  add_float_init(m, name + "_v", {c}, var);
  add_node(m, "BatchNormalization", name, {x, name + "_g", name + "_b", name + "_m", name + "_v"}, {y});
}

void add_conv(onnx::ModelProto& m, const std::string& name, const std::string& x, const std::string& y, int64_t cin,
              int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t group, int bits, bool per_channel, uint32_t seed) {
  const int64_t n = cout * (cin / group) * k * k;
  const int levels = (1 << (bits - 1)) * 2 - 1;
  add_float_init(m, name + "_w", {cout, cin / group, k, k}, grid_weights(static_cast<size_t>(n), levels, 0.05F, seed));
  std::vector<float> scale{0.05F};
  std::vector<int64_t> scale_shape{};
  if (per_channel) {
    scale.clear();
    for (int64_t i = 0; i < cout; ++i) scale.push_back(0.05F * (1.0F + 0.37F * static_cast<float>(i % 5)));
    scale_shape = {cout, 1, 1, 1};
  }
  add_quant(m, name + "_wq", name + "_w", name + "_wquant", scale_shape, scale, static_cast<float>(bits), true, true);
  auto* node = add_node(m, "Conv", name, {x, name + "_wquant"}, {y});
  set_ints_attr(node, "kernel_shape", {k, k});
  set_ints_attr(node, "strides", {stride, stride});
  set_ints_attr(node, "pads", {pad, pad, pad, pad});
  set_int_attr(node, "group", group);
}

std::vector<float> per_channel_scales(int64_t c, float base) {
  std::vector<float> s;
  for (int64_t i = 0; i < c; ++i) s.push_back(base * (0.8F + 0.13F * static_cast<float>(i % 4)));
  return s;
}

// UINT8 input "in" of the given shape, /255, 8-bit signed quantizer: tensor "a0".
onnx::ModelProto uint8_input_model(const std::vector<int64_t>& shape) {
  auto m = empty_model();
  auto* op = m.add_opset_import();
  op->set_domain("qonnx.custom_op.general");
  op->set_version(1);
  add_input(m, "in", shape);
  annotate_input(m, "in", "UINT8");
  add_float_init(m, "k255", {}, {255.0F});
  add_node(m, "Div", "prep", {"in", "k255"}, {"x0"});
  add_quant(m, "q0", "x0", "a0", {}, {1.0F / 128.0F}, 8, true, false);
  return m;
}

ir::Graph synthetic_model() {
  auto m = uint8_input_model({1, 3, 11, 9});
  // 3 -> 5, 3x3 pad 1, ternary weights, signs and a zero in the BN, ternary activations.
  add_conv(m, "c1", "a0", "y1", 3, 5, 3, 1, 1, 1, 2, false, 11);
  add_bn(m, "bn1", "y1", "z1", 5, 12, true);
  add_quant(m, "q1", "z1", "a1", {}, {1.0F}, 2, true, true);
  // 5 -> 17, 3x3 stride 2, 4-bit per-channel weights, Relu, 4-bit per-channel activations.
  add_conv(m, "c2", "a1", "y2", 5, 17, 3, 2, 0, 1, 4, true, 21);
  add_bn(m, "bn2", "y2", "z2", 17, 22, true);
  add_node(m, "Relu", "r2", {"z2"}, {"p2"});
  add_quant(m, "q2", "p2", "a2", {1, 17, 1, 1}, per_channel_scales(17, 0.3F), 4, false, false);
  // Depthwise on per-channel input: the reference's float path.
  add_conv(m, "c3", "a2", "y3", 17, 17, 3, 1, 1, 17, 4, true, 31);
  add_bn(m, "bn3", "y3", "z3", 17, 32, false);
  add_node(m, "Relu", "r3", {"z3"}, {"p3"});
  add_quant(m, "q3", "p3", "a3", {}, {0.25F}, 3, false, false);
  // Depthwise on per-tensor input: integer path, stride 2, with a negative-gamma chain.
  add_conv(m, "c4", "a3", "y4", 17, 17, 3, 2, 1, 17, 4, true, 41);
  add_bn(m, "bn4", "y4", "z4", 17, 42, true);
  add_quant(m, "q4", "z4", "a4", {}, {0.5F}, 4, true, true);
  // Pointwise 17 -> 33 on the 3x2 map, max-pool 2x2 stride 1, flatten (NCHW order), MatMul, bias.
  add_conv(m, "c5", "a4", "y5", 17, 33, 1, 1, 0, 1, 3, false, 51);
  add_bn(m, "bn5", "y5", "z5", 33, 52, true);
  add_quant(m, "q5", "z5", "a5", {}, {0.7F}, 5, true, false);
  auto* pool = add_node(m, "MaxPool", "pool", {"a5"}, {"m5"});
  set_ints_attr(pool, "kernel_shape", {2, 2});
  set_ints_attr(pool, "strides", {1, 1});
  add_node(m, "Flatten", "flat", {"m5"}, {"f5"});
  add_float_init(m, "fc_w", {33 * 2, 10}, grid_weights(33 * 2 * 10, 3, 0.1F, 61));
  add_quant(m, "fc_wq", "fc_w", "fc_wquant", {}, {0.1F}, 2, true, true);
  add_node(m, "MatMul", "fc", {"f5", "fc_wquant"}, {"g"});
  add_float_init(m, "fc_b", {10}, grid_weights(10, 9, 0.3F, 62));
  add_node(m, "Add", "fc_bias", {"g", "fc_b"}, {"out"});
  add_output(m, "out", {1, 10});
  return import_model_from_bytes(serialize(m), "synthetic");
}

TEST(FastPlan, SyntheticOddModelMatchesReference) {
  const auto graph = synthetic_model();
  const double share = compare_with_reference(graph, {random_images({1, 3, 11, 9}, 9, 7)}, "synthetic",
                                              {{true, 1, 1}, {false, 1, 1}, {true, 2, 2}, {false, 3, 4}, {true, 1, 5}});
  EXPECT_GT(share, 0.999);
}

// A depthwise conv on the reference's float path (per-channel input scales) whose sums sit
// on a quantizer's rounding boundary on channel 0 (0.1 * 0.05 * 1 = half of 0.01, up to float
// rounding): there the integer thresholds cannot be proven, so the plan recomputes that channel
// the reference's way (every pixel, so a wrong recomputation shows) and keeps the integer kernel
// for the others. A pointwise conv on per-channel input after it runs the dense float-path kernel.
ir::Graph float_depthwise_model() {
  auto m = uint8_input_model({1, 3, 13, 11});
  add_conv(m, "c1", "a0", "y1", 3, 8, 1, 1, 0, 1, 2, false, 81);
  add_bn(m, "bn1", "y1", "z1", 8, 82, false);
  add_quant(m, "q1", "z1", "a1", {1, 8, 1, 1}, {0.1F, 0.2F, 0.4F, 0.6F, 0.8F, 1.2F, 0.2F, 0.4F}, 3, false, false);
  add_conv(m, "c2", "a1", "y2", 8, 8, 3, 1, 1, 8, 2, false, 83);
  add_quant(m, "q2", "y2", "a2", {1, 8, 1, 1}, std::vector<float>(8, 0.01F), 6, true, false);
  add_conv(m, "c3", "a2", "y3", 8, 5, 1, 1, 0, 1, 3, false, 84);
  add_bn(m, "bn3", "y3", "z3", 5, 85, true);
  add_quant(m, "q3", "z3", "out", {}, {0.5F}, 4, true, false);
  add_output(m, "out", {1, 5, 13, 11});
  return import_model_from_bytes(serialize(m), "float-depthwise");
}

TEST(FastPlan, FloatPathDepthwiseOnIntegersMatchesReference) {
  const auto graph = float_depthwise_model();
  const FastPlan plan = compile_fast_plan(graph, evaluator_for(graph));
  bool redone = false;
  for (const auto& s : plan.steps()) redone = redone || (s.kind == "dwconv" && s.kernel.find("+1f64") != std::string::npos);
  EXPECT_TRUE(redone) << "channel 0 should be recomputed on the float path";
  compare_with_reference(graph, {random_images({1, 3, 13, 11}, 6, 21)}, "float-depthwise",
                         {{true, 1, 1}, {false, 1, 0}, {true, 2, 3}});
}

// A grouped (not depthwise) conv on the reference's exact integer path has no fast kernel: it
// must run the reference's integer formula, not the evaluator's float path, and the plan must
// still compile.
TEST(FastPlan, GroupedConvOnIntegerPathMatchesReference) {
  auto m = uint8_input_model({1, 4, 7, 6});
  add_conv(m, "g1", "a0", "y1", 4, 6, 3, 1, 1, 2, 4, true, 91);
  add_bn(m, "bn1", "y1", "z1", 6, 92, true);
  add_quant(m, "q1", "z1", "a1", {}, {0.5F}, 3, true, false);
  add_conv(m, "c2", "a1", "y2", 6, 5, 1, 1, 0, 1, 2, false, 93);
  add_quant(m, "q2", "y2", "out", {}, {0.25F}, 4, true, false);
  add_output(m, "out", {1, 5, 7, 6});
  const auto graph = import_model_from_bytes(serialize(m), "grouped");
  const FastPlan plan = compile_fast_plan(graph, evaluator_for(graph));
  bool grouped_reference = false;
  for (const auto& s : plan.steps()) grouped_reference = grouped_reference || (s.name == "g1" && s.kind == "reference");
  EXPECT_TRUE(grouped_reference);
  compare_with_reference(graph, {random_images({1, 4, 7, 6}, 5, 31)}, "grouped", {{true, 1, 0}, {true, 2, 2}});
}

// A stage that ends at a quantizer (as split sub-models do): the reference's Quant can give -0,
// which codes cannot hold, so the output must come from the reference nodes.
TEST(FastPlan, QuantizedGraphOutputKeepsSignedZeros) {
  auto m = uint8_input_model({1, 3, 6, 5});
  add_conv(m, "c1", "a0", "y1", 3, 7, 3, 1, 1, 1, 2, false, 71);
  add_bn(m, "bn1", "y1", "z1", 7, 72, true);
  add_quant(m, "q1", "z1", "out", {}, {4.0F}, 3, true, true);  // coarse: small negatives give -0
  add_output(m, "out", {1, 7, 6, 5});
  const auto graph = import_model_from_bytes(serialize(m), "quantized-output");
  const Tensor images = random_images({1, 3, 6, 5}, 4, 11);
  const auto expect = engine::Session(graph).run({images});
  size_t negative_zeros = 0;
  for (float v : expect[0].f32) negative_zeros += v == 0.0F && std::signbit(v) ? 1 : 0;
  EXPECT_GT(negative_zeros, 0u) << "the test model should make the reference produce -0";
  compare_with_reference(graph, {images}, "quantized-output");
}

TEST(FastPlan, StepsNameTheirKernels) {
  std::set<std::string> kinds;
  for (const auto& graph : {synthetic_model(), float_depthwise_model()}) {
    const FastPlan plan = compile_fast_plan(graph, evaluator_for(graph));
    for (const auto& s : plan.steps()) {
      kinds.insert(s.kind);
      std::printf("  %-10s %-34s %s\n", s.kind.c_str(), s.kernel.c_str(), s.name.c_str());
      if (s.kind == "qgemm" || s.kind == "dwconv" || s.kind == "fconv") {
        EXPECT_FALSE(s.kernel.empty()) << s.name;
      }
    }
  }
  for (const char* kind : {"lut", "qgemm", "dwconv", "fconv", "maxpool", "reference"}) {
    EXPECT_TRUE(kinds.count(kind)) << "no " << kind << " step";
  }
}

TEST(FastPlan, OffGridInputIsAnError) {
  const auto graph = zoo_graph("tfc-w2a2");
  const FastPlan plan = compile_fast_plan(graph, evaluator_for(graph));
  Tensor images = random_images(graph.tensor(graph.inputs[0]).shape, 1, 9);
  images.f32[17] = 0.5F;
  EXPECT_THROW(plan.run({images}), Error);
}

}  // namespace
}  // namespace dnnsplit::kernels
