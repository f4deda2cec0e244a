// Helpers of the plan tests: the reference engine's node evaluator, UINT8 test images, and the
// comparison of a plan (several variants) with engine::Session, bit for bit.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "dnnsplit/engine.h"
#include "dnnsplit/kernels.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit::kernels::testing {

inline NodeEvaluator evaluator_for(const ir::Graph& graph) {
  const int64_t opset = graph.opset;
  return [opset](const ir::Node& node, const std::vector<const Tensor*>& inputs) {
    return engine::run_node(node, inputs, opset);
  };
}

// Uniform integers 0..255 as float32, the UINT8 inputs every model here declares.
inline Tensor random_images(const Shape& input_shape, int64_t batch, uint32_t seed) {
  Shape shape = input_shape;
  shape[0] = batch;
  std::mt19937 rng(seed);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& x : v) x = static_cast<float>(rng() % 256);
  return Tensor::from_floats(shape, v);
}

inline void expect_identical(const std::vector<Tensor>& expect, const std::vector<Tensor>& got, const std::string& what) {
  ASSERT_EQ(expect.size(), got.size()) << what;
  for (size_t k = 0; k < expect.size(); ++k) {
    ASSERT_EQ(expect[k].shape, got[k].shape) << what << " output " << k;
    ASSERT_EQ(expect[k].type, got[k].type) << what << " output " << k;
    size_t differ = 0;
    for (int64_t i = 0; i < expect[k].numel(); ++i) {
      const double a = expect[k].at(i);
      const double b = got[k].at(i);
      differ += a != b || std::signbit(a) != std::signbit(b) ? 1 : 0;  // -0 and +0 differ too
    }
    EXPECT_TRUE(tensors_identical(expect[k], got[k])) << what << " output " << k << ": " << differ << " of "
                                                      << expect[k].numel() << " values differ";
  }
}

struct Variant {
  bool simd;
  int threads;
  int group = 0;  // images run layer by layer together; 0: the plan's choice
};

// Runs the reference once and every plan variant on the same batch; returns the SIMD plan's
// share of MACs on fast kernels.
inline double compare_with_reference(const ir::Graph& graph, const std::vector<Tensor>& inputs, const std::string& what,
                              const std::vector<Variant>& variants = {{true, 1, 1}, {false, 1, 0}, {true, 2, 3}, {true, 1, 0}}) {
  const engine::Session session(graph);
  const auto expect = session.run(inputs);
  double share = 0.0;
  for (const auto& v : variants) {
    const FastPlan plan = compile_fast_plan(graph, evaluator_for(graph), {v.threads, v.simd, v.group});
    if (v.simd) share = plan.fast_mac_share();
    expect_identical(expect, plan.run(inputs),
                     what + (v.simd ? " simd" : " generic") + " threads=" + std::to_string(v.threads) +
                         " group=" + std::to_string(v.group));
  }
  return share;
}

inline ir::Graph zoo_graph(const std::string& name) {
  return import_model_from_bytes(zoo_build(name, 1), name);
}

}  // namespace dnnsplit::kernels::testing
