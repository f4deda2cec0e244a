// runtime_bench [--images N] [--cnv]: what the distributed runtime costs and how well a pipeline
// uses its slowest stage, with real `dnnsplit node` processes on 127.0.0.1.
//  1. per-hop overhead: the tiny 3-stage model, one image per batch, one batch in flight:
//     latency p50 and images/s across 3 cpu nodes vs the same 3 stage graphs run one after
//     another in this process;
//  2. pipeline efficiency: pipeline images/s / images/s of the slowest stage run alone on one
//     node, for paced emulated boards (stage times 2, 4, 3 ms) and, with --cnv, for CNV-W2A2
//     from the zoo split into 3 stages by `dnnsplit plan` on cpu nodes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/orchestrator.h"
#include "dnnsplit/partition.h"
#include "dnnsplit/zoo.h"
#include "runtime_support.h"

namespace {

using namespace dnnsplit;
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

node::LocalCluster start(int nodes, const std::string& backend, bool pace) {
  node::LocalClusterOptions o;
  o.binary = testing::binary();
  o.nodes = nodes;
  o.backend = backend;
  o.pace = pace;
  return node::LocalCluster(o);
}

// A plan directory holding only stage k of `plan` (its inputs become the model's inputs).
std::string single_stage_plan(const std::string& plan_dir, int k, const std::string& out) {
  std::ifstream in(plan_dir + "/plan.json");
  nlohmann::json plan = nlohmann::json::parse(in);
  nlohmann::json stage = plan["stages"][static_cast<size_t>(k)];
  std::filesystem::copy_file(plan_dir + "/" + stage["file"].get<std::string>(), out + "/" + stage["file"].get<std::string>(),
                             std::filesystem::copy_options::overwrite_existing);
  stage["index"] = 0;
  plan["model_inputs"] = stage["inputs"];
  plan["model_outputs"] = stage["outputs"];
  plan["stages"] = nlohmann::json::array({stage});
  plan["cuts"] = nlohmann::json::array();
  std::ofstream(out + "/plan.json") << plan.dump(2);
  return out;
}

// Inputs for stage k alone: the whole model's inputs run through stages 0..k-1 in process.
std::vector<Tensor> stage_inputs(const orchestrator::Plan& plan, int k, std::vector<Tensor> x) {
  for (int s = 0; s < k; ++s) {
    engine::Session session(import_model(plan.stages[static_cast<size_t>(s)].file));
    x = session.run(x);
  }
  return x;
}

double pipeline_efficiency(const std::string& label, const std::string& plan_dir, const std::vector<Tensor>& x,
                           const std::string& backend, bool pace, int64_t batch) {
  const orchestrator::Plan plan = orchestrator::read_plan(plan_dir);
  const int stages = static_cast<int>(plan.stages.size());
  auto cluster = start(stages, backend, pace);
  orchestrator::RunOptions o;
  o.nodes = cluster.addresses();
  o.batch = batch;
  o.in_flight = 8;
  orchestrator::run(plan, x, o);  // warm-up: uploads, loads, compiles
  const auto pipe = orchestrator::run(plan, x, o).report;
  double slowest = 1e300;
  int slowest_stage = 0;
  for (int k = 0; k < stages; ++k) {
    testing::TempDir dir;
    const auto alone_plan = orchestrator::read_plan(single_stage_plan(plan_dir, k, dir.path()));
    const auto inputs = stage_inputs(plan, k, x);
    auto one = start(1, backend, pace);
    orchestrator::RunOptions a = o;
    a.nodes = one.addresses();
    orchestrator::run(alone_plan, inputs, a);
    const double ips = orchestrator::run(alone_plan, inputs, a).report.images_per_s;
    std::printf("  %s: stage %d alone on one node: %.1f images/s\n", label.c_str(), k, ips);
    if (ips < slowest) {
      slowest = ips;
      slowest_stage = k;
    }
  }
  const double efficiency = pipe.images_per_s / slowest;
  std::printf("  %s: pipeline on %d nodes %.1f images/s; slowest stage (%d) alone %.1f images/s; efficiency %.2f\n",
              label.c_str(), stages, pipe.images_per_s, slowest_stage, slowest, efficiency);
  return efficiency;
}

void per_hop_overhead(int64_t images) {
  testing::TempDir dir;
  const ir::Graph graph = testing::tiny_model();
  const node::StageTiming t{"", 1e6, 100, 400, 0.0, 1e8, 0.0};
  testing::write_plan(graph, {2, 4}, dir.path(), {t, t, t});
  const orchestrator::Plan plan = orchestrator::read_plan(dir.path());
  const Tensor x = testing::tiny_inputs(images, 11);

  // In process: the three stage graphs, one image at a time.
  std::vector<engine::Session> sessions;
  for (const auto& s : plan.stages) sessions.emplace_back(import_model(s.file));
  std::vector<double> local;
  const auto local_start = Clock::now();
  for (int64_t i = 0; i < images; ++i) {
    std::vector<Tensor> v{Tensor::from_floats({1, 8}, std::vector<float>(x.f32.begin() + i * 8, x.f32.begin() + i * 8 + 8))};
    const auto t0 = Clock::now();
    for (const auto& s : sessions) v = s.run(v);
    local.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  const double local_ips = static_cast<double>(images) / std::chrono::duration<double>(Clock::now() - local_start).count();

  auto cluster = start(3, "cpu", false);
  orchestrator::RunOptions o;
  o.nodes = cluster.addresses();
  o.batch = 1;
  o.in_flight = 1;
  orchestrator::run(plan, {x}, o);  // warm-up
  const auto serial = orchestrator::run(plan, {x}, o).report;
  o.in_flight = 16;
  const auto streamed = orchestrator::run(plan, {x}, o).report;
  const double local_p50 = percentile(local, 0.5);
  std::printf("per-hop overhead, tiny 3-stage model, %lld images of 1:\n", static_cast<long long>(images));
  std::printf("  in process: latency p50 %.3f ms, %.0f images/s\n", local_p50 * 1e3, local_ips);
  std::printf("  3 cpu nodes, 1 in flight: latency p50 %.3f ms (p99 %.3f ms), %.0f images/s\n",
              serial.latency_p50_s * 1e3, serial.latency_p99_s * 1e3, serial.images_per_s);
  std::printf("  3 cpu nodes, 16 in flight: %.0f images/s\n", streamed.images_per_s);
  std::printf("  added latency p50: %.3f ms in total, %.3f ms per network hop (4 hops: client, 2 cuts, back)\n",
              (serial.latency_p50_s - local_p50) * 1e3, (serial.latency_p50_s - local_p50) * 1e3 / 4);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t images = 300;
  bool cnv = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--images" && i + 1 < argc) images = std::stoll(argv[++i]);
    if (a == "--cnv") cnv = true;
  }
  try {
    per_hop_overhead(images);

    std::printf("pipeline efficiency:\n");
    {
      testing::TempDir dir;
      const ir::Graph graph = testing::tiny_model();
      // One image per batch: compute = critical path cycles at 1 MHz: 2, 4 and 3 ms.
      testing::write_plan(graph, {2, 4}, dir.path(),
                          {{"", 1e6, 2000, 2000, 0.0, 1e9, 0.0}, {"", 1e6, 4000, 4000, 0.0, 1e9, 0.0},
                           {"", 1e6, 3000, 3000, 0.0, 1e9, 0.0}});
      pipeline_efficiency("paced emulated boards (2, 4, 3 ms)", dir.path(), {testing::tiny_inputs(images, 12)},
                          "emulated", true, 1);
    }
    if (cnv) {
      testing::TempDir dir;
      const std::string model = dir.file("cnv.onnx");
      std::ofstream(model, std::ios::binary) << zoo_build("cnv-w2a2", 1);
      partition::PlanOptions p;
      p.selection.boards = {"zedboard"};
      p.strategy = partition::Strategy::kBalanced;
      p.stages = 3;
      partition::plan_model(model, p, dir.file("plan"));
      std::vector<float> pixels(static_cast<size_t>(64 * 3 * 32 * 32));
      for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 37) % 256);
      pipeline_efficiency("CNV-W2A2 on cpu nodes", dir.file("plan"), {Tensor::from_floats({64, 3, 32, 32}, pixels)},
                          "cpu", false, 8);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "runtime_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
