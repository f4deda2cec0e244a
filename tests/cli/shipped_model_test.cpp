// The shipped trained model (models/cnv-w2a2-fashion.onnx) against what PyTorch computed for it:
// the predictions the training script recorded, and those of the independent torch interpreter
// (tools/qonnx_torch_eval.py) for every test image.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "dnnsplit/dataset.h"
#include "dnnsplit/npy.h"

namespace dnnsplit {
namespace {

const std::string kModels = std::string(DNNSPLIT_SOURCE_DIR) + "/models";

void expect_pytorch_predictions(const std::vector<std::string>& engine_flags, int64_t images) {
  const test::TempDir tmp;
  const std::string saved = tmp.path() + "/pred.npy";
  std::vector<std::string> args{"eval", kModels + "/cnv-w2a2-fashion.onnx", "--dataset", "fashion-mnist",
                                "--limit", std::to_string(images), "--json", "--save-predictions", saved,
                                "--compare-predictions", kModels + "/cnv-w2a2-fashion.predictions.npy"};
  args.insert(args.end(), engine_flags.begin(), engine_flags.end());
  const auto r = test::run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["disagreements"], 0);

  std::ifstream file(kModels + "/cnv-w2a2-fashion.expected.json");
  const auto expected = nlohmann::json::parse(file);
  if (images == expected["images"].get<int64_t>()) {
    EXPECT_EQ(report["correct"], expected["correct"]);
  }
  const auto from_training = expected["first_predictions"].get<std::vector<int64_t>>();
  const std::vector<int64_t> ours = read_npy(saved).as_ints();
  ASSERT_EQ(ours.size(), static_cast<size_t>(images));
  const size_t n = std::min(ours.size(), from_training.size());
  EXPECT_EQ(std::vector<int64_t>(ours.begin(), ours.begin() + static_cast<std::ptrdiff_t>(n)),
            std::vector<int64_t>(from_training.begin(), from_training.begin() + static_cast<std::ptrdiff_t>(n)));
}

bool dataset_installed() {
  return std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz");
}

TEST(ShippedModel, ReferenceEngineReproducesPyTorchToTheImage) {
  if (!dataset_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)";
  expect_pytorch_predictions({"--reference"}, 64);
}

// The fast kernels on every test image: the whole accuracy claim, image by image.
TEST(ShippedModel, FastEngineReproducesPyTorchOnAllTestImages) {
  if (!dataset_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)";
  expect_pytorch_predictions({"--threads", "2"}, 10000);
}

}  // namespace
}  // namespace dnnsplit
