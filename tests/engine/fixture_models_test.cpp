// Real exported models (../shared/fixtures) through a Session, with a batch of 4 real MNIST
// images on graphs exported with batch 1: the predicted labels must be the published ones.
#include <gtest/gtest.h>

#include <filesystem>

#include "dnnsplit/engine.h"
#include "dnnsplit/npy.h"
#include "engine/onnx_model_util.h"

namespace dnnsplit::engine {
namespace {

const std::filesystem::path kFixtures = std::filesystem::path(DNNSPLIT_SHARED_DIR) / "fixtures";

// finn/tfc_w1a1_expected_output.npy: the labels FINN publishes for these four images.
const std::vector<int64_t> kExpectedLabels = {7, 2, 1, 0};

std::vector<int64_t> argmax_rows(const Tensor& scores) {
  std::vector<int64_t> labels;
  const int64_t classes = scores.shape.back();
  for (int64_t r = 0; r < scores.numel() / classes; ++r) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (scores.at(r * classes + c) > scores.at(r * classes + best)) best = c;
    }
    labels.push_back(best);
  }
  return labels;
}

class FixtureModels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kFixtures / "finn")) GTEST_SKIP() << "fixtures not found at " << kFixtures;
    images_ = read_npy((kFixtures / "finn" / "tfc_w1a1_input.npy").string());
    const Tensor expected = read_npy((kFixtures / "finn" / "tfc_w1a1_expected_output.npy").string());
    ASSERT_EQ(expected.as_ints(), kExpectedLabels);
  }
  Session load(const std::string& file) {
    return Session(test_util::graph_from_model(test_util::read_model_proto((kFixtures / file).string())));
  }
  Tensor images_;
};

TEST_F(FixtureModels, FinnTfcW1A1PredictsPublishedLabelsForBatchOfFour) {
  // MultiThreshold, BatchNorm, TopK, Squeeze/Unsqueeze and a constant [1, 784] Reshape.
  const Session session = load("finn/tfc_w1a1_finn.onnx");
  ASSERT_EQ(images_.shape, (Shape{4, 1, 28, 28}));
  const auto out = session.run({images_});
  ASSERT_EQ(out.size(), 1U);
  ASSERT_EQ(out[0].numel(), 4);  // TopK k=1 indices
  EXPECT_EQ(out[0].as_ints(), kExpectedLabels);
}

TEST_F(FixtureModels, QonnxZooTfcModelsPredictTheSameLabels) {
  // Brevitas exports expect pixels in [0, 1]; they have a dynamic Shape/Gather/Concat flatten.
  Tensor scaled = images_;
  for (auto& v : scaled.f32) v /= 255.0F;
  for (const char* file : {"qonnx-zoo/TFC_2W2A.onnx", "qonnx-zoo/TFC_1W1A.onnx"}) {
    const Session session = load(file);
    const auto out = session.run({scaled});
    ASSERT_EQ(out.size(), 1U) << file;
    EXPECT_EQ(argmax_rows(out[0]), kExpectedLabels) << file;
  }
}

}  // namespace
}  // namespace dnnsplit::engine
