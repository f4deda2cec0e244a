// dnnsplit exec and eval end to end: hand-computed outputs of small models, the FINN fixture's
// published labels, and eval's accuracy on a synthetic dataset whose answer is known.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "cli_models.h"
#include "cli_test_util.h"
#include "dnnsplit/dataset.h"
#include "dnnsplit/npy.h"
#include "io/idx_test_util.h"

namespace dnnsplit {
namespace {

using test::run_cli;

std::string fixtures() {
  return std::string(DNNSPLIT_SHARED_DIR) + "/fixtures";
}

void expect_success(const test::CliResult& r) {
  EXPECT_EQ(r.exit_code, 0) << "stderr: " << r.err;
  EXPECT_EQ(r.err, "");
}

TEST(Exec, AddReluOnABatchWritesAndRanks) {
  const test::TempDir dir;
  const std::string model = test::write_model(dir.path() + "/m.onnx", test::add_relu_model());
  const std::string in = dir.path() + "/in.npy";
  write_npy(in, Tensor::from_floats({2, 4}, {-3.0F, -1.0F, 0.0F, 5.0F, 0.0F, -9.0F, 0.0F, 0.0F}));
  const std::string out = dir.path() + "/out.npy";
  const auto r = run_cli({"exec", model, "--input", in, "-o", out, "--top", "2"});
  expect_success(r);
  // Relu(x + [1, 2, 3, 4]) by hand.
  EXPECT_TRUE(tensors_identical(read_npy(out), Tensor::from_floats({2, 4}, {0, 1, 3, 9, 1, 0, 3, 4})));
  EXPECT_EQ(r.out, "output 'y': float32 [2, 4] -> " + out + "\nimage 0: 3 2\nimage 1: 3 2\n");
}

TEST(Exec, ConvertsUint8InputAndReportsJson) {
  const test::TempDir dir;
  const std::string model = test::write_model(dir.path() + "/m.onnx", test::add_relu_model());
  const std::string in = dir.path() + "/in.npy";
  write_npy(in, Tensor::from_ints(ElemType::kUint8, {1, 4}, {10, 0, 255, 1}));
  const auto r = run_cli({"exec", model, "--input", in, "--top", "4", "--json"});
  expect_success(r);
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["outputs"][0]["name"], "y");
  EXPECT_EQ(report["outputs"][0]["shape"], (std::vector<int64_t>{1, 4}));
  EXPECT_FALSE(report["outputs"][0].contains("file"));
  // Scores 11, 2, 258, 5.
  EXPECT_EQ(report["top"], (std::vector<std::vector<int64_t>>{{2, 0, 3, 1}}));
}

TEST(Exec, SeveralOutputsGoToNumberedFiles) {
  const test::TempDir dir;
  const std::string model = test::write_model(dir.path() + "/m.onnx", test::two_output_model());
  const std::string in = dir.path() + "/in.npy";
  write_npy(in, Tensor::from_floats({1, 3}, {-2.0F, 0.5F, 3.0F}));
  expect_success(run_cli({"exec", model, "--input", in, "-o", dir.path() + "/res.npy"}));
  EXPECT_TRUE(tensors_identical(read_npy(dir.path() + "/res_0.npy"), Tensor::from_floats({1, 3}, {0.0F, 0.5F, 3.0F})));
  EXPECT_TRUE(
      tensors_identical(read_npy(dir.path() + "/res_1.npy"), Tensor::from_floats({1, 3}, {2.0F, -0.5F, -3.0F})));
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/res.npy"));
}

TEST(ExecFixtures, FinnTfcGivesThePublishedLabels) {
  const std::string dir = fixtures() + "/finn";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  const Tensor expected = read_npy(dir + "/tfc_w1a1_expected_output.npy");
  const test::TempDir tmp;
  const auto r = run_cli({"exec", dir + "/tfc_w1a1_finn.onnx", "--input", dir + "/tfc_w1a1_input.npy", "--top", "1",
                          "--json", "-o", tmp.path() + "/out.npy"});
  expect_success(r);
  std::vector<std::vector<int64_t>> labels;
  for (int64_t label : expected.i64) labels.push_back({label});
  EXPECT_EQ(nlohmann::json::parse(r.out)["top"], labels);
  EXPECT_EQ(read_npy(tmp.path() + "/out.npy").as_ints(), expected.i64);
}

TEST(ExecFixtures, QonnxZooTfcRunsBatchesLikeSingleImages) {
  const std::string dir = fixtures() + "/qonnx-zoo";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  const test::TempDir tmp;
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<int> pixel(0, 255);
  std::vector<float> values(3 * 784);
  for (auto& v : values) v = static_cast<float>(pixel(rng));
  const Tensor batch = Tensor::from_floats({3, 1, 28, 28}, values);
  write_npy(tmp.path() + "/batch.npy", batch);
  for (const std::string name : {"TFC_1W1A", "TFC_2W2A"}) {
    SCOPED_TRACE(name);
    const std::string model = dir + "/" + name + ".onnx";
    expect_success(run_cli({"exec", model, "--input", tmp.path() + "/batch.npy", "-o", tmp.path() + "/out.npy"}));
    const Tensor out = read_npy(tmp.path() + "/out.npy");
    ASSERT_EQ(out.shape, (Shape{3, 10}));
    for (float v : out.f32) EXPECT_TRUE(std::isfinite(v));
    // Each image alone must give its row of the batched result, bit for bit.
    for (int64_t n = 0; n < 3; ++n) {
      const auto first = values.begin() + n * 784;
      write_npy(tmp.path() + "/one.npy", Tensor::from_floats({1, 1, 28, 28}, std::vector<float>(first, first + 784)));
      expect_success(run_cli({"exec", model, "--input", tmp.path() + "/one.npy", "-o", tmp.path() + "/one_out.npy"}));
      const Tensor one = read_npy(tmp.path() + "/one_out.npy");
      EXPECT_TRUE(std::equal(one.f32.begin(), one.f32.end(), out.f32.begin() + n * 10)) << "image " << n;
    }
  }
}

// Four 28x28 images whose first row is all 1 except a 200 at column hot[n]; labels as given.
void write_synthetic_fashion(const std::string& dir, const std::vector<int>& hot, const std::string& labels) {
  std::string pixels;
  for (int h : hot) {
    std::string image(784, '\x01');
    image[static_cast<size_t>(h)] = static_cast<char>(200);
    pixels += image;
  }
  const auto n = static_cast<uint32_t>(hot.size());
  test::write_bytes(dir + "/t10k-images-idx3-ubyte.gz", test::gzip(test::idx({n, 28, 28}, pixels)));
  test::write_bytes(dir + "/t10k-labels-idx1-ubyte.gz", test::gzip(test::idx({n}, labels)));
}

TEST(Eval, AccuracyOnASyntheticDataset) {
  const test::TempDir dir;
  // The picker scores class c with image pixel (0, c): images 0, 1, 3 are right, image 2 is not.
  write_synthetic_fashion(dir.path(), {3, 5, 2, 9}, std::string{3, 5, 1, 9});
  // Raw [N, 1, 28, 28]: pixel (0, c) is flat element c. CNV [N, 3, 32, 32]: channel 2, row 2,
  // column 2 + c (only right if the image is padded by 2 and replicated to every channel).
  const std::string raw = test::write_model(dir.path() + "/raw.onnx", test::picker_model({1, 1, 28, 28}, 0));
  const std::string cnv =
      test::write_model(dir.path() + "/cnv.onnx", test::picker_model({1, 3, 32, 32}, 2 * 1024 + 2 * 32 + 2));
  for (const auto& model : {raw, cnv}) {
    SCOPED_TRACE(model);
    const auto text = run_cli({"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(), "--batch", "3"});
    expect_success(text);
    EXPECT_EQ(text.out.substr(0, text.out.find('\n')), "accuracy: 75.00% (3 of 4 fashion-mnist test images)");
    const auto json = run_cli({"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(), "--json"});
    expect_success(json);
    const auto report = nlohmann::json::parse(json.out);
    EXPECT_EQ(report["correct"], 3);
    EXPECT_EQ(report["total"], 4);
    EXPECT_DOUBLE_EQ(report["accuracy"].get<double>(), 0.75);
    std::vector<int> totals;
    std::vector<int> correct;
    for (const auto& c : report["per_class"]) {
      totals.push_back(c["total"]);
      correct.push_back(c["correct"]);
    }
    EXPECT_EQ(totals, (std::vector<int>{0, 1, 0, 1, 0, 1, 0, 0, 0, 1}));
    EXPECT_EQ(correct, (std::vector<int>{0, 0, 0, 1, 0, 1, 0, 0, 0, 1}));
    const auto limited =
        run_cli({"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(), "--limit", "2", "--json"});
    expect_success(limited);
    EXPECT_EQ(nlohmann::json::parse(limited.out)["total"], 2);
    EXPECT_EQ(nlohmann::json::parse(limited.out)["correct"], 2);
  }
}

TEST(Eval, SavesAndComparesPredictions) {
  const test::TempDir dir;
  write_synthetic_fashion(dir.path(), {3, 5, 2, 9}, std::string{3, 5, 1, 9});
  const std::string model = test::write_model(dir.path() + "/raw.onnx", test::picker_model({1, 1, 28, 28}, 0));
  const std::string saved = dir.path() + "/pred.npy";
  const auto save = run_cli(
      {"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(), "--save-predictions", saved});
  expect_success(save);
  EXPECT_TRUE(tensors_identical(read_npy(saved), Tensor::from_ints(ElemType::kInt64, {4}, {3, 5, 2, 9})));

  // Another engine's answers, differing on images 1 and 3.
  const std::string other = dir.path() + "/other.npy";
  write_npy(other, Tensor::from_ints(ElemType::kInt64, {5}, {3, 4, 2, 0, 7}));
  const auto text = run_cli(
      {"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(), "--compare-predictions", other});
  expect_success(text);
  EXPECT_NE(text.out.find("disagreements with " + other + ": 2 of 4 images (first: image 1)\n"), std::string::npos)
      << text.out;
  const auto json = run_cli({"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(),
                             "--compare-predictions", saved, "--json"});
  expect_success(json);
  EXPECT_EQ(nlohmann::json::parse(json.out)["disagreements"], 0);
}

TEST(Eval, RejectsPredictionFilesThatDoNotFit) {
  const test::TempDir dir;
  write_synthetic_fashion(dir.path(), {3, 5, 2, 9}, std::string{3, 5, 1, 9});
  const std::string model = test::write_model(dir.path() + "/raw.onnx", test::picker_model({1, 1, 28, 28}, 0));
  const std::string floats = dir.path() + "/floats.npy";
  write_npy(floats, Tensor::from_floats({4}, {3, 5, 1, 9}));
  const std::string short_file = dir.path() + "/short.npy";
  write_npy(short_file, Tensor::from_ints(ElemType::kInt64, {3}, {3, 5, 1}));
  for (const auto& [file, message] :
       {std::pair{floats, "expected a 1-D integer array"}, std::pair{short_file, "has 3 predictions, fewer than the 4 images"}}) {
    const auto r = run_cli(
        {"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir.path(), "--compare-predictions", file});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(file + ": " + message), std::string::npos) << r.err;
  }
}

TEST(EvalReal, AgreesWithExecOnTheSameImages) {
  const std::string model = fixtures() + "/qonnx-zoo/TFC_2W2A.onnx";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "fixtures not found at " << fixtures();
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  constexpr int64_t kImages = 100;
  const auto r = run_cli({"eval", model, "--dataset", "fashion-mnist", "--limit", std::to_string(kImages), "--json"});
  expect_success(r);
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["total"], kImages);
  // exec on the same images, ranked by the test, must count the same correct answers.
  const Dataset data = load_fashion_mnist("test", kImages);
  const test::TempDir tmp;
  write_npy(tmp.path() + "/images.npy", mnist_input(data, 0, kImages));
  const auto e = run_cli({"exec", model, "--input", tmp.path() + "/images.npy", "--top", "1", "--json"});
  expect_success(e);
  const auto top = nlohmann::json::parse(e.out)["top"];
  int64_t correct = 0;
  for (int64_t n = 0; n < kImages; ++n)
    correct += top[static_cast<size_t>(n)][0] == data.labels[static_cast<size_t>(n)];
  EXPECT_EQ(report["correct"], correct);
}

}  // namespace
}  // namespace dnnsplit
