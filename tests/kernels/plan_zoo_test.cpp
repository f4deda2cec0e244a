// The compiled plan against the reference engine on whole models: every zoo network and the
// shared fixture models (QONNX model zoo, FINN's dialect), bit for bit, with SIMD and generic
// kernels, one and two threads, odd batches and image groups.
#include <cstdio>
#include <filesystem>
#include <optional>

#include "dnnsplit/error.h"
#include "dnnsplit/npy.h"
#include "plan_test_util.h"

namespace dnnsplit::kernels {
namespace {

using namespace dnnsplit::kernels::testing;

TEST(FastPlan, CnvW2A2MatchesReference) {
  const auto graph = zoo_graph("cnv-w2a2");
  const double share = compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 5, 1)}, "cnv-w2a2");
  EXPECT_GT(share, 0.999);
}

TEST(FastPlan, CnvW1A1MatchesReference) {
  const auto graph = zoo_graph("cnv-w1a1");
  const double share = compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 3, 2)}, "cnv-w1a1");
  EXPECT_GT(share, 0.999);
}

TEST(FastPlan, Resnet8MatchesReference) {
  const auto graph = zoo_graph("resnet8-w4a4");
  compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 3, 4)}, "resnet8-w4a4");
}

TEST(FastPlan, MobileNetV1MatchesReference) {
  const auto graph = zoo_graph("mobilenetv1-w4a4");
  const double share = compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 1, 5)},
                                              "mobilenetv1-w4a4", {{true, 1, 0}});
  EXPECT_GT(share, 0.999);
}

TEST(FastPlan, TfcAndCnvW1A1OddBatchMatchReference) {
  for (const std::string name : {"tfc-w1a1", "tfc-w2a2", "cnv-w1a1"}) {
    const auto graph = zoo_graph(name);
    compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 7, 8)}, name, {{true, 2, 2}});
  }
}

// The shipped trained model (Fashion-MNIST CNV-W2A2).
TEST(FastPlan, ShippedFashionModelMatchesReference) {
  const std::filesystem::path file = std::filesystem::path(DNNSPLIT_SOURCE_DIR) / "models/cnv-w2a2-fashion.onnx";
  const auto graph = import_model(file.string());
  const double share = compare_with_reference(graph, {random_images(graph.tensor(graph.inputs[0]).shape, 3, 6)}, file.string(),
                                              {{true, 1, 0}, {false, 1, 0}, {true, 2, 2}});
  EXPECT_GT(share, 0.999);
}

// FINN hardware-level fixtures: the reference engine may not run their layers; when it does, the
// plan must agree with it.
TEST(FastPlan, FinnHardwareFixturesMatchReferenceWhereItRuns) {
  const std::filesystem::path dir = std::filesystem::path(DNNSPLIT_SHARED_DIR) / "fixtures/finn";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  int ran = 0;
  for (const std::string file : {"cybsec_mlp_hw_pe_simd.onnx", "residual_block_hw.onnx"}) {
    std::optional<engine::Session> session;
    ir::Graph graph;
    try {
      graph = import_model((dir / file).string());
      session.emplace(graph);
    } catch (const Error& e) {
      std::printf("  %s: not run by the reference engine (%s)\n", file.c_str(), e.what());
      continue;
    }
    const Shape shape = graph.tensor(graph.inputs[0]).shape;
    compare_with_reference(graph, {random_images(shape, 2, 9)}, file, {{true, 1, 0}, {false, 1, 0}});
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "the reference engine runs neither FINN hardware fixture";
}

TEST(FastPlan, FixtureModelsMatchReference) {
  const std::filesystem::path dir = std::filesystem::path(DNNSPLIT_SHARED_DIR) / "fixtures";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  const Tensor images = read_npy((dir / "finn/tfc_w1a1_input.npy").string());
  for (const std::string file : {"qonnx-zoo/TFC_1W1A.onnx", "qonnx-zoo/TFC_2W2A.onnx"}) {
    const auto graph = import_model((dir / file).string());
    const double share = compare_with_reference(graph, {images}, file);
    EXPECT_GT(share, 0.999) << file;
  }
}

// FINN's dialect: MultiThreshold after MatMul, TopK output (int64 labels).
TEST(FastPlan, FinnFixtureMatchesReference) {
  const std::filesystem::path dir = std::filesystem::path(DNNSPLIT_SHARED_DIR) / "fixtures";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  ir::Graph graph;
  try {
    graph = import_model((dir / "finn/tfc_w1a1_finn.onnx").string());
  } catch (const Error& e) {
    GTEST_SKIP() << "the importer cannot read the fixture yet: " << e.what();
  }
  const double share = compare_with_reference(graph, {read_npy((dir / "finn/tfc_w1a1_input.npy").string())}, "tfc_w1a1_finn");
  EXPECT_GT(share, 0.999);
}

}  // namespace
}  // namespace dnnsplit::kernels
