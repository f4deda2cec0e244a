// dnnsplit exec MODEL --input X.npy [-o Y.npy] [--top K] [--json]: runs a whole model on the CPU.
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

struct ExecOptions {
  std::string model;
  std::vector<std::string> inputs;
  std::string output;
  int64_t top = 0;
  bool json = false;
  int threads = 1;
  bool reference = false;  // the reference engine instead of the fast kernels
};

// Output k of a model with several outputs goes to <stem>_<k>.npy (see --help).
std::string output_path(const std::string& requested, size_t index, size_t count) {
  if (count == 1) return requested;
  const size_t slash = requested.rfind('/');
  const size_t dot = requested.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  const std::string stem = has_ext ? requested.substr(0, dot) : requested;
  const std::string ext = has_ext ? requested.substr(dot) : ".npy";
  return stem + "_" + std::to_string(index) + ext;
}

void run_exec(const ExecOptions& options) {
  ir::Graph graph = import_model(options.model);
  check(options.inputs.size() == graph.inputs.size(),
        options.model + ": the model has " + std::to_string(graph.inputs.size()) + " inputs, " +
            std::to_string(options.inputs.size()) + " --input files given (one per input, in model order)");
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < options.inputs.size(); ++i) {
    inputs.push_back(prepare_model_input(graph, static_cast<int>(i), read_npy(options.inputs[i]), options.inputs[i]));
  }
  const bool topk_output = output_is_topk_indices(graph, 0);
  std::vector<std::string> output_names;
  for (int id : graph.outputs) output_names.push_back(graph.tensor(id).name);

  const engine::Session session(std::move(graph), engine::Options{options.threads, !options.reference});
  const std::vector<Tensor> outputs = session.run(inputs);
  check(outputs.size() == output_names.size(), options.model + ": the engine returned " +
                                                   std::to_string(outputs.size()) + " outputs, the model declares " +
                                                   std::to_string(output_names.size()));
  std::vector<std::vector<int64_t>> top;
  if (options.top > 0) {
    try {
      top = top_classes(outputs.at(0), options.top, topk_output);
    } catch (const Error& e) {
      throw Error(options.model + ": output '" + output_names.at(0) + "': " + e.what());
    }
  }

  nlohmann::json report{{"model", options.model}, {"outputs", nlohmann::json::array()}};
  for (size_t k = 0; k < outputs.size(); ++k) {
    nlohmann::json entry{
        {"name", output_names[k]}, {"dtype", elem_type_name(outputs[k].type)}, {"shape", outputs[k].shape}};
    if (!options.output.empty()) {
      const std::string path = output_path(options.output, k, outputs.size());
      write_npy(path, outputs[k]);
      entry["file"] = path;
    }
    report["outputs"].push_back(entry);
  }
  if (options.top > 0) report["top"] = top;

  if (options.json) {
    std::printf("%s\n", report.dump(2).c_str());
    return;
  }
  for (const auto& entry : report["outputs"]) {
    std::printf("output '%s': %s %s", entry["name"].get<std::string>().c_str(),
                entry["dtype"].get<std::string>().c_str(), shape_to_string(entry["shape"].get<Shape>()).c_str());
    if (entry.contains("file")) std::printf(" -> %s", entry["file"].get<std::string>().c_str());
    std::printf("\n");
  }
  for (size_t n = 0; n < top.size(); ++n) {
    std::printf("image %zu:", n);
    for (int64_t c : top[n]) std::printf(" %lld", static_cast<long long>(c));
    std::printf("\n");
  }
}

}  // namespace

void add_exec_command(CLI::App& app) {
  auto options = std::make_shared<ExecOptions>();
  app.footer(
      "Runs a whole model on the CPU engine. Inputs are .npy arrays (float32, uint8, int8, ...) converted exactly "
      "to the model's input type; any batch size N in dimension 0. With several model outputs, -o Y.npy writes "
      "output k to Y_k.npy; --top reads the first output.");
  app.add_option("model", options->model, "ONNX / QONNX / FINN-ONNX model file")->required();
  app.add_option("-i,--input", options->inputs, "input .npy file, one per model input in model order")->required();
  app.add_option("-o,--output", options->output, "write the output as this .npy file (several outputs: Y_k.npy)");
  app.add_option("--top", options->top, "print the K best class indices of every image, best first")
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--json", options->json, "print a JSON report on stdout instead of text");
  app.add_option("--threads", options->threads, "engine threads")->check(CLI::Range(1, 256))->capture_default_str();
  app.add_flag("--reference", options->reference, "run on the reference engine instead of the fast kernels");
  app.callback([options] { run_exec(*options); });
}

}  // namespace dnnsplit::cli
