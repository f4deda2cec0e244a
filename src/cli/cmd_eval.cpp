// dnnsplit eval MODEL --dataset fashion-mnist: top-1 accuracy of a classifier on the test split.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "dnnsplit/dataset.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/npy.h"

namespace dnnsplit::cli {

namespace {

struct EvalOptions {
  std::string model;
  std::string dataset;
  std::string data_dir = kFashionMnistDir;
  int64_t limit = 0;  // 0: the whole split
  int64_t batch = 64;
  bool json = false;
  int threads = 1;
  bool reference = false;  // the reference engine instead of the fast kernels
  std::string save_predictions;     // .npy of the predicted classes
  std::string compare_predictions;  // .npy of another engine's predicted classes
};

enum class Layout { kCnv, kImage, kFlat };

// How the 28x28 grey images are fed, chosen from the model's input shape.
Layout input_layout(const ir::Graph& graph, const std::string& model) {
  check(graph.inputs.size() == 1,
        model + ": eval needs a model with one input, this one has " + std::to_string(graph.inputs.size()));
  const ir::TensorInfo& input = graph.tensor(graph.inputs[0]);
  const Shape& s = input.shape;
  if (s.size() == 4 && s[1] == 3 && s[2] == 32 && s[3] == 32) return Layout::kCnv;
  if (s.size() == 4 && s[1] == 1 && s[2] == 28 && s[3] == 28) return Layout::kImage;
  if (s.size() == 2 && s[1] == 784) return Layout::kFlat;
  throw Error(model + ": model input '" + input.name + "' has shape " + shape_to_string(s) +
              "; fashion-mnist is fed as [N, 3, 32, 32] (CNV-style, padded and replicated), [N, 1, 28, 28] or "
              "[N, 784]");
}

Tensor batch_input(const Dataset& data, Layout layout, int64_t begin, int64_t count) {
  if (layout == Layout::kCnv) return cnv_input(data, begin, count);
  Tensor t = mnist_input(data, begin, count);
  if (layout == Layout::kFlat) t.shape = {count, data.rows * data.cols};
  return t;
}

void run_eval(const EvalOptions& options) {
  ir::Graph graph = import_model(options.model);
  const Layout layout = input_layout(graph, options.model);
  const bool topk_output = output_is_topk_indices(graph, 0);
  const std::string output_name = graph.outputs.empty() ? "" : graph.tensor(graph.outputs[0]).name;
  const Dataset data = load_fashion_mnist("test", options.limit > 0 ? options.limit : -1, options.data_dir);
  const engine::Session session(std::move(graph), engine::Options{options.threads, !options.reference});
  std::vector<int64_t> compared;
  if (!options.compare_predictions.empty()) {
    const Tensor t = read_npy(options.compare_predictions);
    check(!t.is_float() && t.shape.size() == 1,
          options.compare_predictions + ": expected a 1-D integer array of predicted classes, got " +
              elem_type_name(t.type) + " " + shape_to_string(t.shape));
    check(t.numel() >= data.count, options.compare_predictions + ": has " + std::to_string(t.numel()) +
                                       " predictions, fewer than the " + std::to_string(data.count) +
                                       " images evaluated");
    compared = t.as_ints();
  }
  std::vector<int64_t> predictions;
  predictions.reserve(static_cast<size_t>(data.count));

  const bool progress = ::isatty(STDERR_FILENO) != 0;
  std::vector<int64_t> total(kFashionMnistClasses, 0);
  std::vector<int64_t> correct(kFashionMnistClasses, 0);
  for (int64_t begin = 0; begin < data.count; begin += options.batch) {
    const int64_t count = std::min(options.batch, data.count - begin);
    const Tensor input =
        prepare_model_input(session.graph(), 0, batch_input(data, layout, begin, count), "fashion-mnist batch");
    const std::vector<Tensor> outputs = session.run({input});
    check(!outputs.empty(), options.model + ": the model produced no output");
    const Tensor& scores = outputs[0];
    check(!scores.shape.empty() && scores.shape[0] == count, options.model + ": output '" + output_name +
                                                                 "' has shape " + shape_to_string(scores.shape) +
                                                                 " for a batch of " + std::to_string(count));
    if (!topk_output) {
      check(scores.numel() / count == kFashionMnistClasses,
            options.model + ": output '" + output_name + "' has shape " + shape_to_string(scores.shape) + ", i.e. " +
                std::to_string(scores.numel() / count) + " scores per image; fashion-mnist has 10 classes");
    }
    const auto best = top_classes(scores, 1, topk_output);
    for (int64_t n = 0; n < count; ++n) {
      const int label = data.labels[static_cast<size_t>(begin + n)];
      predictions.push_back(best[static_cast<size_t>(n)][0]);
      ++total[static_cast<size_t>(label)];
      if (best[static_cast<size_t>(n)][0] == label) ++correct[static_cast<size_t>(label)];
    }
    if (progress) {
      const long long done = begin + count;
      std::fprintf(stderr, "\reval: %lld / %lld images", done, static_cast<long long>(data.count));
    }
  }
  if (progress) std::fprintf(stderr, "\n");

  int64_t all_correct = 0;
  for (int64_t c : correct) all_correct += c;
  const double accuracy = static_cast<double>(all_correct) / static_cast<double>(data.count);
  if (!options.save_predictions.empty()) {
    write_npy(options.save_predictions, Tensor::from_ints(ElemType::kInt64, {data.count}, predictions));
  }
  int64_t disagreements = 0;
  int64_t first_disagreement = -1;
  for (size_t n = 0; n < compared.size() && n < predictions.size(); ++n) {
    if (compared[n] == predictions[n]) continue;
    if (first_disagreement < 0) first_disagreement = static_cast<int64_t>(n);
    ++disagreements;
  }
  if (options.json) {
    nlohmann::json per_class = nlohmann::json::array();
    for (int c = 0; c < kFashionMnistClasses; ++c) {
      per_class.push_back(
          {{"class", c}, {"name", kFashionMnistClassNames[c]}, {"total", total[c]}, {"correct", correct[c]}});
    }
    const nlohmann::json report{{"model", options.model},
                                {"dataset", "fashion-mnist"},
                                {"split", "test"},
                                {"accuracy", accuracy},
                                {"accuracy_percent", 100.0 * accuracy},
                                {"correct", all_correct},
                                {"total", data.count},
                                {"per_class", per_class}};
    nlohmann::json out = report;
    if (!compared.empty()) {
      out["compared_with"] = options.compare_predictions;
      out["disagreements"] = disagreements;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("accuracy: %.2f%% (%lld of %lld fashion-mnist test images)\n", 100.0 * accuracy,
              static_cast<long long>(all_correct), static_cast<long long>(data.count));
  if (!compared.empty()) {
    std::printf("disagreements with %s: %lld of %lld images", options.compare_predictions.c_str(),
                static_cast<long long>(disagreements), static_cast<long long>(data.count));
    if (first_disagreement >= 0) std::printf(" (first: image %lld)", static_cast<long long>(first_disagreement));
    std::printf("\n");
  }
  for (int c = 0; c < kFashionMnistClasses; ++c) {
    if (total[c] == 0) continue;
    std::printf("  class %d %-12s %5lld / %5lld\n", c, kFashionMnistClassNames[c], static_cast<long long>(correct[c]),
                static_cast<long long>(total[c]));
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto options = std::make_shared<EvalOptions>();
  app.footer(
      "Feeds the fashion-mnist test split (Debian package dataset-fashion-mnist) as 0..255 values: models with "
      "input [N, 3, 32, 32] get each image padded by 2 and replicated to 3 channels (CNV), [N, 1, 28, 28] and "
      "[N, 784] get it as is. The class is the argmax of the first output (or its value, when that output is "
      "TopK's indices).");
  app.add_option("model", options->model, "ONNX / QONNX / FINN-ONNX classifier")->required();
  app.add_option("--dataset", options->dataset, "dataset to evaluate on")
      ->required()
      ->check(CLI::IsMember({"fashion-mnist"}));
  app.add_option("--limit", options->limit, "evaluate the first N images only")->check(CLI::Range(1, 1000000));
  app.add_option("--batch", options->batch, "images per engine run")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--data-dir", options->data_dir, "directory holding the dataset files")->capture_default_str();
  app.add_flag("--json", options->json, "print a JSON report on stdout instead of text");
  app.add_option("--threads", options->threads, "engine threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_flag("--reference", options->reference, "run on the reference engine instead of the fast kernels");
  app.add_option("--save-predictions", options->save_predictions,
                 "write the predicted class of every image as an int64 .npy");
  app.add_option("--compare-predictions", options->compare_predictions,
                 "count the images whose predicted class differs from this .npy (e.g. another engine's)");
  app.callback([options] { run_eval(*options); });
}

}  // namespace dnnsplit::cli
