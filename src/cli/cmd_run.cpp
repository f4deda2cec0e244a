// dnnsplit run DIR --nodes HOST:PORT,... --input X.npy -o Y.npy [--batch B] [--mode ...]
// [--replicate] [--trace T.json] [--json]: runs a plan on a cluster of nodes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.h"
#include "dnnsplit/dataset.h"
#include "dnnsplit/error.h"
#include "dnnsplit/node.h"
#include "dnnsplit/npy.h"
#include "dnnsplit/orchestrator.h"

namespace dnnsplit::cli {

namespace {

struct RunCommandOptions {
  std::string plan;
  std::vector<std::string> nodes;
  int local = 0;
  std::string board;
  std::string backend = "emulated";
  bool pace = false;
  std::vector<std::string> inputs;
  int64_t fashion_mnist = -1;  // images of the test split; 0 = all
  std::string output;
  std::string mode = "auto";
  bool replicate = false;
  std::string trace;
  bool json = false;
  int predict_nodes = 0;
  int64_t predict_images = 4096;
  orchestrator::RunOptions run;
};

// --predict: the schedule model alone, no nodes contacted.
void predict_command(const RunCommandOptions& o, const orchestrator::Plan& plan) {
  const auto schedule =
      orchestrator::make_schedule(plan, o.predict_nodes, orchestrator::parse_mode(o.mode), o.replicate);
  std::vector<int64_t> batches{1, 8, 64, 256};
  if (std::find(batches.begin(), batches.end(), o.run.batch) == batches.end()) batches.push_back(o.run.batch);
  orchestrator::ModelOptions m;
  m.rounds_in_flight = o.run.rounds_in_flight;
  m.in_flight = o.run.in_flight;
  m.chunk = o.run.chunk;
  std::printf("modelled (emulated boards): %zu stages on %d nodes, %s, %lld images\n", plan.stages.size(),
              o.predict_nodes, orchestrator::mode_name(schedule.mode).c_str(), static_cast<long long>(o.predict_images));
  std::printf("  batch   images/s    seconds   compute-only bound images/s\n");
  for (int64_t b : batches) {
    const auto r = orchestrator::model_run(plan, schedule, b, o.predict_images, m);
    std::printf("  %5lld %10.2f %10.3f   %10.1f\n", static_cast<long long>(b), r.images_per_s, r.seconds,
                r.compute_bound_images_per_s);
  }
}

std::string output_path(const std::string& requested, size_t index, size_t count) {
  if (count == 1) return requested;
  const size_t slash = requested.rfind('/');
  const size_t dot = requested.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (has_ext ? requested.substr(0, dot) : requested) + "_" + std::to_string(index) +
         (has_ext ? requested.substr(dot) : ".npy");
}

std::string self_binary() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  check(n > 0, "run: cannot find the dnnsplit binary (/proc/self/exe)");
  return std::string(path, static_cast<size_t>(n));
}

// A progress bar on stderr, redrawn at most every percent.
std::function<void(int64_t, int64_t)> progress_bar() {
  auto last = std::make_shared<int>(-1);
  return [last](int64_t done, int64_t total) {
    const int percent = total > 0 ? static_cast<int>(100 * done / total) : 100;
    if (percent == *last) return;
    *last = percent;
    const int width = 40;
    const int filled = width * percent / 100;
    std::fprintf(stderr, "\r[%s%s] %3d%% %lld/%lld images", std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), ' ').c_str(), percent, static_cast<long long>(done),
                 static_cast<long long>(total));
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

void run_command(RunCommandOptions& o) {
  const orchestrator::Plan plan = orchestrator::read_plan(o.plan);
  if (o.predict_nodes > 0) {
    predict_command(o, plan);
    return;
  }
  check(o.nodes.empty() != (o.local == 0), "run: give either --nodes HOST:PORT,... or --local N");
  check(o.inputs.empty() != (o.fashion_mnist < 0), "run: give either --input X.npy or --fashion-mnist N");

  std::vector<Tensor> inputs;
  std::optional<Dataset> data;
  if (o.fashion_mnist >= 0) {
    check(plan.model_inputs.size() == 1, "run: --fashion-mnist needs a model with one input");
    data = load_fashion_mnist("test", o.fashion_mnist > 0 ? o.fashion_mnist : -1);
    const Shape& s = plan.model_inputs[0].shape;
    if (s.size() == 4 && s[1] == 3 && s[2] == 32 && s[3] == 32) {
      inputs.push_back(cnv_input(*data, 0, data->count));
    } else if (s.size() == 4 && s[1] == 1 && s[2] == 28 && s[3] == 28) {
      inputs.push_back(mnist_input(*data, 0, data->count));
    } else {
      throw Error("run: model input " + plan.model_inputs[0].describe() +
                  " is neither [N, 3, 32, 32] (CNV-style) nor [N, 1, 28, 28]: cannot feed fashion-mnist");
    }
  } else {
    for (const auto& path : o.inputs) inputs.push_back(read_npy(path));
  }

  std::unique_ptr<node::LocalCluster> cluster;
  if (o.local > 0) {
    node::LocalClusterOptions c;
    c.binary = self_binary();
    c.nodes = o.local;
    c.board = o.board;
    c.backend = o.backend;
    c.pace = o.pace;
    cluster = std::make_unique<node::LocalCluster>(c);
    o.run.nodes = cluster->addresses();
    std::fprintf(stderr, "dnnsplit run: %d local nodes at %s\n", o.local, cluster->addresses_joined().c_str());
  } else {
    o.run.nodes = o.nodes;
  }
  o.run.mode = orchestrator::parse_mode(o.mode);
  o.run.replicate = o.replicate;
  if (::isatty(STDERR_FILENO) != 0) o.run.progress = progress_bar();

  const orchestrator::RunResult result = orchestrator::run(plan, inputs, o.run);
  if (cluster) cluster->stop();

  if (!o.output.empty()) {
    for (size_t k = 0; k < result.outputs.size(); ++k) {
      write_npy(output_path(o.output, k, result.outputs.size()), result.outputs[k]);
    }
  }
  if (!o.trace.empty()) orchestrator::write_trace(result.report, o.trace);

  std::string accuracy_line;
  double accuracy = -1;
  if (data) {
    const Tensor& scores = result.outputs.at(0);
    const bool indices = !scores.is_float();
    const auto best = top_classes(scores, 1, indices);
    int64_t correct = 0;
    for (int64_t n = 0; n < data->count; ++n) {
      correct += best[static_cast<size_t>(n)][0] == data->labels[static_cast<size_t>(n)] ? 1 : 0;
    }
    accuracy = static_cast<double>(correct) / static_cast<double>(data->count);
    char line[128];
    std::snprintf(line, sizeof line, "accuracy: %.2f %% (%lld of %lld fashion-mnist test images)\n", 100.0 * accuracy,
                  static_cast<long long>(correct), static_cast<long long>(data->count));
    accuracy_line = line;
  }
  if (o.json) {
    nlohmann::json json = nlohmann::json::parse(orchestrator::report_json(result.report));
    if (accuracy >= 0) json["accuracy"] = accuracy;
    std::printf("%s\n", json.dump(2).c_str());
    return;
  }
  std::printf("%s", orchestrator::format_report(result.report).c_str());
  if (!accuracy_line.empty()) std::printf("%s", accuracy_line.c_str());
  if (!o.output.empty()) std::printf("outputs: %s\n", o.output.c_str());
  if (!o.trace.empty()) std::printf("trace: %s (open in https://ui.perfetto.dev or chrome://tracing)\n", o.trace.c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunCommandOptions>();
  app.footer(
      "Runs a plan (plan.json + stage files from `dnnsplit plan`) on board nodes: uploads the stages a node lacks, "
      "streams the inputs through the nodes (each forwards to the next), and writes the outputs in input order, "
      "bit-identical to `dnnsplit exec` on the whole model. Modes: pipeline (nodes >= stages, one stage per node), "
      "timeshare (fewer nodes: rounds of reconfiguration, a batch of B images per round). Prints per stage "
      "reconfiguration, compute, network and waiting time, measured and modelled (emulated board timing). "
      "Exit code 2 on any failure, with a message naming the node and the stage.");
  app.add_option("plan", o->plan, "plan directory (or its plan.json)")->required();
  app.add_option("--nodes", o->nodes, "node addresses HOST:PORT, comma-separated")->delimiter(',');
  app.add_option("--local", o->local, "start N local nodes for this run instead (see `dnnsplit cluster`)")
      ->check(CLI::Range(1, 64));
  app.add_option("--board", o->board, "with --local: board the nodes emulate");
  app.add_option("--backend", o->backend, "with --local: cpu or emulated")
      ->check(CLI::IsMember({"cpu", "emulated"}))
      ->capture_default_str();
  app.add_flag("--pace", o->pace, "with --local: nodes sleep so wall-clock follows the modelled boards");
  app.add_option("-i,--input", o->inputs, ".npy input, one per model input, images in dimension 0");
  app.add_option("--fashion-mnist", o->fashion_mnist,
                 "feed the first N Fashion-MNIST test images (0 = all 10,000) and print the accuracy");
  app.add_option("-o,--output", o->output, "write the outputs (several outputs: Y_k.npy)");
  app.add_option("--batch", o->run.batch, "images per batch (time-share: per round)")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--mode", o->mode, "auto, pipeline or timeshare")
      ->check(CLI::IsMember({"auto", "pipeline", "timeshare"}))
      ->capture_default_str();
  app.add_flag("--replicate", o->replicate, "pipeline: spare nodes run copies of the slowest stage");
  app.add_option("--in-flight", o->run.in_flight, "pipeline: batches in flight per chain")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--chunk", o->run.chunk,
                 "time-share: images per message within a round (0: min(batch, 16)); the round still passes each "
                 "stage before the next reconfiguration")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--rounds-in-flight", o->run.rounds_in_flight, "time-share: rounds open at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--timeout", o->run.run_timeout_s, "deadline of the whole run, seconds")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--call-timeout", o->run.call_timeout_s, "deadline of each control call, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--trace", o->trace, "write a Chrome/Perfetto trace JSON of every reconfiguration, compute and transfer");
  app.add_flag("--json", o->json, "print the report as JSON");
  app.add_option("--predict", o->predict_nodes,
                 "contact no node: print the schedule model's images/s on N emulated boards for batches 1, 8, 64, "
                 "256 and --batch")
      ->check(CLI::Range(1, 1024));
  app.add_option("--predict-images", o->predict_images, "images in a --predict run")->capture_default_str()->check(CLI::Range(1, 1 << 30));
  app.callback([o] { run_command(*o); });
}

}  // namespace dnnsplit::cli
