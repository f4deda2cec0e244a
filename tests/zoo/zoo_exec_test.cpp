// Every zoo model runs on the engine, and every activation quantizer sees a spread of codes:
// the synthetic BatchNorm statistics and scales are not degenerate (all zero / all saturated).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "dnnsplit/engine.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit {
namespace {

struct CodeHistogram {
  std::map<int64_t, int64_t> counts;
  int64_t total = 0;
  double fraction(int64_t code) const { return counts.count(code) ? double(counts.at(code)) / double(total) : 0.0; }
  double largest_fraction() const {
    int64_t best = 0;
    for (const auto& [code, n] : counts) best = std::max(best, n);
    return double(best) / double(total);
  }
  int codes_above(double fraction) const {
    int n = 0;
    for (const auto& [code, count] : counts) n += double(count) >= fraction * double(total) ? 1 : 0;
    return n;
  }
};

CodeHistogram histogram(const Tensor& values, const ir::QuantType& q) {
  CodeHistogram h;
  const int axis = q.channel_axis;
  int64_t inner = 1;
  if (axis >= 0) {
    for (size_t d = static_cast<size_t>(axis) + 1; d < values.shape.size(); ++d) inner *= values.shape[d];
  }
  for (int64_t i = 0; i < values.numel(); ++i) {
    const size_t c = q.scale.size() == 1 ? 0 : static_cast<size_t>((i / inner) % static_cast<int64_t>(q.scale.size()));
    const double code = values.at(i) / q.scale[c] + q.zero_point[q.zero_point.size() == 1 ? 0 : c];
    EXPECT_NEAR(code, std::nearbyint(code), 1e-3) << "value " << values.at(i) << " is off its grid";
    ++h.counts[static_cast<int64_t>(std::nearbyint(code))];
    ++h.total;
  }
  return h;
}

Tensor random_pixels(Shape shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> values(static_cast<size_t>(shape_numel(shape)));
  for (auto& v : values) v = static_cast<float>(rng() % 256);
  return Tensor::from_floats(std::move(shape), std::move(values));
}

void check_model_runs_with_spread_codes(const std::string& name, int64_t batch) {
  ir::Graph graph = import_model_from_bytes(zoo_build(name, 1), name + ".onnx");
  // Expose every activation quantizer's output as an extra graph output.
  std::vector<std::pair<std::string, int>> watched;
  for (const auto& node : graph.nodes) {
    const bool quantizer = ir::is_quant_op(node) || ir::is_bipolar_quant_op(node) || ir::is_trunc_op(node);
    if (!quantizer || graph.tensor(node.inputs.at(0)).is_constant()) continue;
    ASSERT_TRUE(graph.tensor(node.outputs.at(0)).quant.has_value()) << node.name;
    watched.emplace_back(node.name, node.outputs.at(0));
    graph.outputs.push_back(node.outputs.at(0));
  }
  ASSERT_GE(watched.size(), 4U);
  std::vector<ir::QuantType> types;
  for (const auto& [node_name, id] : watched) types.push_back(*graph.tensor(id).quant);
  Shape shape = graph.tensor(graph.inputs.at(0)).shape;
  shape[0] = batch;
  const engine::Session session(std::move(graph));
  const auto outputs = session.run({random_pixels(shape, 42)});
  ASSERT_EQ(outputs.size(), watched.size() + 1);

  // Logits: finite and not constant.
  const Tensor& logits = outputs[0];
  double lo = logits.at(0), hi = logits.at(0);
  for (int64_t i = 0; i < logits.numel(); ++i) {
    ASSERT_TRUE(std::isfinite(logits.at(i)));
    lo = std::min(lo, logits.at(i));
    hi = std::max(hi, logits.at(i));
  }
  EXPECT_GT(hi - lo, 1e-3) << name << ": constant logits";

  for (size_t k = 0; k < watched.size(); ++k) {
    const auto& q = types[k];
    const CodeHistogram h = histogram(outputs[k + 1], q);
    const int64_t levels = q.max_int() - q.min_int() + 1 - (q.bipolar ? 1 : 0);
    // A code "in use" holds at least a quarter of its share under a uniform spread.
    const int in_use = h.codes_above(0.25 / static_cast<double>(levels));
    std::printf("%-18s %-16s %-7s codes in use: %3d of %3lld  largest: %.3f  zero: %.3f\n", name.c_str(),
                watched[k].first.c_str(), q.finn_name().c_str(), in_use, static_cast<long long>(levels),
                h.largest_fraction(), h.fraction(0));
    EXPECT_GE(in_use, std::min<int64_t>(levels, 3)) << name << " " << watched[k].first;
    // The codes fit the grid the importer inferred (what the wire packs them into).
    EXPECT_GE(h.counts.begin()->first, q.min_int()) << name << " " << watched[k].first << " " << q.finn_name();
    EXPECT_LE(h.counts.rbegin()->first, q.max_int()) << name << " " << watched[k].first << " " << q.finn_name();
    EXPECT_LE(h.largest_fraction(), 0.8) << name << " " << watched[k].first;
  }
}

TEST(ZooExec, CnvW1A1) { check_model_runs_with_spread_codes("cnv-w1a1", 4); }
TEST(ZooExec, CnvW2A2) { check_model_runs_with_spread_codes("cnv-w2a2", 4); }
TEST(ZooExec, TfcW1A1) { check_model_runs_with_spread_codes("tfc-w1a1", 16); }
TEST(ZooExec, TfcW2A2) { check_model_runs_with_spread_codes("tfc-w2a2", 16); }
TEST(ZooExec, ResNet8) { check_model_runs_with_spread_codes("resnet8-w4a4", 4); }
TEST(ZooExec, MobileNetV1) { check_model_runs_with_spread_codes("mobilenetv1-w4a4", 1); }

}  // namespace
}  // namespace dnnsplit
