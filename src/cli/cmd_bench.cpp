// dnnsplit bench MODEL [--threads N] [--batch B] [--seconds S] [--json] [--reference]: throughput
// and latency of a whole model on this CPU (fast plan, or the reference engine), after warm-up,
// plus each step's share of the time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "commands.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/kernels.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit::cli {

namespace {

struct BenchOptions {
  std::string model;
  int threads = 1;
  int64_t batch = 0;  // 0: one image per thread
  double seconds = 3.0;
  bool json = false;
  bool reference = false;
  bool generic = false;
};

using Clock = std::chrono::steady_clock;

// A zoo name stands for the zoo's model (seed 1) when no such file exists.
ir::Graph load_model(const std::string& model) {
  if (!std::filesystem::exists(model)) {
    for (const auto& entry : zoo_list()) {
      if (entry.name == model) return import_model_from_bytes(zoo_build(model, 1), model);
    }
  }
  return import_model(model);
}

// Random inputs on each input's declared integer grid (uniform codes), else uniform in [0, 1).
std::vector<Tensor> random_inputs(const ir::Graph& graph, int64_t batch) {
  std::mt19937 rng(12345);
  std::vector<Tensor> inputs;
  for (int id : graph.inputs) {
    const auto& info = graph.tensor(id);
    Shape shape = info.shape;
    check(!shape.empty(), "input '" + info.name + "' has no static shape to benchmark with");
    shape[0] = batch;
    for (size_t d = 1; d < shape.size(); ++d) {
      check(shape[d] > 0, "input '" + info.name + "' has a dynamic extent " + shape_to_string(info.shape));
    }
    Tensor t = Tensor::zeros(info.type, shape);
    for (int64_t i = 0; i < t.numel(); ++i) {
      double v = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      if (info.quant && info.quant->scale.size() == 1) {
        const auto& q = *info.quant;
        const int64_t code = q.min_int() + static_cast<int64_t>(rng() % static_cast<uint64_t>(q.max_int() - q.min_int() + 1));
        v = static_cast<double>(static_cast<float>(static_cast<double>(code - static_cast<int64_t>(q.zero_point[0])) * q.scale[0]));
      }
      if (t.type == ElemType::kFloat) t.f32[static_cast<size_t>(i)] = static_cast<float>(v);
      else if (t.type == ElemType::kDouble) t.f64[static_cast<size_t>(i)] = v;
      else t.i64[static_cast<size_t>(i)] = static_cast<int64_t>(v);
    }
    inputs.push_back(std::move(t));
  }
  return inputs;
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<size_t>(std::min<double>(static_cast<double>(v.size() - 1), p * static_cast<double>(v.size())));
  return v[at];
}

void run_bench(const BenchOptions& o) {
  check(o.seconds > 0.0, "--seconds must be positive");
  const ir::Graph graph = load_model(o.model);
  const int64_t batch = o.batch > 0 ? o.batch : o.threads;
  const auto inputs = random_inputs(graph, batch);
  const int64_t opset = graph.opset;
  const kernels::NodeEvaluator evaluate = [opset](const ir::Node& node, const std::vector<const Tensor*>& in) {
    return engine::run_node(node, in, opset);
  };

  std::unique_ptr<engine::Session> session;
  std::unique_ptr<kernels::FastPlan> plan;
  const auto compile_start = Clock::now();
  if (o.reference) {
    session = std::make_unique<engine::Session>(graph, engine::Options{o.threads});
  } else {
    plan = std::make_unique<kernels::FastPlan>(kernels::compile_fast_plan(graph, evaluate, {o.threads, !o.generic}));
  }
  const double compile_s = std::chrono::duration<double>(Clock::now() - compile_start).count();
  auto call = [&] { return o.reference ? session->run(inputs) : plan->run(inputs); };

  // Warm-up: a fifth of the time (at least one call), so caches and frequency settle.
  const auto warm_end = Clock::now() + std::chrono::duration<double>(o.seconds / 5);
  do {
    call();
  } while (Clock::now() < warm_end);

  std::vector<double> latencies;
  const auto start = Clock::now();
  const double cpu_start = process_cpu_seconds();
  double elapsed = 0.0;
  while (elapsed < o.seconds || latencies.empty()) {
    const auto t0 = Clock::now();
    call();
    const auto t1 = Clock::now();
    latencies.push_back(std::chrono::duration<double>(t1 - t0).count());
    elapsed = std::chrono::duration<double>(t1 - start).count();
  }
  const double cpu = process_cpu_seconds() - cpu_start;
  const double images = static_cast<double>(batch) * static_cast<double>(latencies.size());
  const double images_per_s = images / elapsed;

  nlohmann::json report{{"model", o.model},
                        {"engine", o.reference ? "reference" : (o.generic ? "fast-generic" : "fast")},
                        {"threads", o.threads},
                        {"batch", batch},
                        {"seconds", elapsed},
                        {"images", images},
                        {"images_per_s", images_per_s},
                        // Images per CPU-second of this process: per-core throughput that other
                        // processes on a shared machine do not dilute.
                        {"images_per_cpu_s", cpu > 0 ? images / cpu : 0.0},
                        {"images_per_s_at_p50", batch / percentile(latencies, 0.50)},
                        {"compile_s", compile_s},
                        {"latency_ms",
                         {{"mean", 1e3 * elapsed / static_cast<double>(latencies.size())},
                          {"p50", 1e3 * percentile(latencies, 0.50)},
                          {"p90", 1e3 * percentile(latencies, 0.90)},
                          {"p99", 1e3 * percentile(latencies, 0.99)}}},
                        {"layers", nlohmann::json::array()}};

  // Per step: one thread, images in sequence, for a quarter of the time (at least one batch).
  if (plan) {
    report["fast_mac_share"] = plan->fast_mac_share();
    std::vector<double> step_seconds;
    int64_t profiled = 0;
    const auto profile_end = Clock::now() + std::chrono::duration<double>(o.seconds / 4);
    do {
      plan->run_profiled(inputs, step_seconds);
      profiled += batch;
    } while (Clock::now() < profile_end);
    double total = 0.0;
    for (double s : step_seconds) total += s;
    const auto& steps = plan->steps();
    for (size_t k = 0; k < steps.size(); ++k) {
      const double per_image = step_seconds[k] / static_cast<double>(profiled);
      report["layers"].push_back({{"name", steps[k].name},
                                  {"kind", steps[k].kind},
                                  {"kernel", steps[k].kernel},
                                  {"macs", steps[k].macs},
                                  {"ms_per_image", 1e3 * per_image},
                                  {"share", total > 0 ? step_seconds[k] / total : 0.0},
                                  {"gmac_per_s", per_image > 0 ? 1e-9 * static_cast<double>(steps[k].macs) / per_image : 0.0}});
    }
  }

  if (o.json) {
    std::printf("%s\n", report.dump(2).c_str());
    return;
  }
  std::printf("%s: %s engine, %d thread(s), batch %lld, %.2f s after warm-up\n", o.model.c_str(),
              report["engine"].get<std::string>().c_str(), o.threads, static_cast<long long>(batch), elapsed);
  std::printf("  %.1f images/s (%.1f per CPU-second, %.1f at the median latency)\n", images_per_s,
              report["images_per_cpu_s"].get<double>(), report["images_per_s_at_p50"].get<double>());
  std::printf("  latency per batch call: mean %.3f ms, p50 %.3f, p90 %.3f, p99 %.3f\n",
              report["latency_ms"]["mean"].get<double>(), report["latency_ms"]["p50"].get<double>(),
              report["latency_ms"]["p90"].get<double>(), report["latency_ms"]["p99"].get<double>());
  if (!plan) return;
  std::printf("  %.1f%% of the MACs on fast kernels; per step (one thread, CPU time):\n", 100.0 * plan->fast_mac_share());
  std::printf("  %6s %9s %8s  %-10s %-32s %s\n", "share", "ms/img", "GMAC/s", "kind", "kernel", "step");
  for (const auto& layer : report["layers"]) {
    std::printf("  %5.1f%% %9.4f %8.1f  %-10s %-32s %s\n", 100.0 * layer["share"].get<double>(),
                layer["ms_per_image"].get<double>(), layer["gmac_per_s"].get<double>(),
                layer["kind"].get<std::string>().c_str(), layer["kernel"].get<std::string>().c_str(),
                layer["name"].get<std::string>().c_str());
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  app.footer(
      "Measures a whole model on this CPU with random inputs on the model's input grid: images/s and latency "
      "percentiles of batch calls after a warm-up of a fifth of --seconds, then each step's share of the time "
      "(one thread). MODEL is a model file or a zoo name. --json prints one object with top-level images_per_s.");
  app.add_option("model", options->model, "ONNX / QONNX model file, or a zoo model name")->required();
  app.add_option("--threads", options->threads, "worker threads (images of a batch are shared among them)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--batch", options->batch, "images per call (default: one per thread)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--seconds", options->seconds, "measured time after warm-up")->capture_default_str();
  app.add_flag("--json", options->json, "print a JSON report on stdout instead of text");
  app.add_flag("--reference", options->reference, "measure the reference engine instead of the fast plan");
  app.add_flag("--generic", options->generic, "fast plan with the generic (scalar) kernels only");
  app.callback([options] { run_bench(*options); });
}

}  // namespace dnnsplit::cli
