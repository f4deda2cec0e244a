// The emulated board: computes with the engine, reports (and with pacing, takes) the time the
// modelled board would take: reconfiguration, compute from the cost model's cycles at the board
// clock, link at the board's bandwidth.
#include <chrono>
#include <cmath>
#include <thread>

#include "backend.h"
#include "dnnsplit/error.h"

namespace dnnsplit::node {

double modelled_compute_seconds(const StageTiming& timing, int64_t images) {
  if (timing.clock_hz <= 0 || images <= 0) return 0.0;
  return (timing.critical_path_cycles + static_cast<double>(images - 1) * timing.bottleneck_cycles) / timing.clock_hz;
}

double modelled_link_seconds(const StageTiming& timing, int64_t bytes) {
  if (timing.link_bits_per_s <= 0) return 0.0;
  return static_cast<double>(bytes) * 8.0 / timing.link_bits_per_s + timing.link_latency_s;
}

namespace {

using Clock = std::chrono::steady_clock;

void sleep_until_modelled(Clock::time_point start, double modelled_s) {
  std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(modelled_s)));
}

class EmulatedBackend final : public Backend {
 public:
  EmulatedBackend(int threads, bool pace) : cpu_(make_cpu_backend(threads)), pace_(pace) {}

  std::string name() const override { return "emulated"; }

  void check_stage(const StageImage& stage) const override {
    cpu_->check_stage(stage);
    const auto& t = stage.timing;
    const std::string where = "stage " + std::to_string(stage.index) + ": the emulated board needs plan.json timing";
    check(std::isfinite(t.clock_hz) && t.clock_hz > 0, where + " (clock_hz is " + std::to_string(t.clock_hz) + ")");
    check(std::isfinite(t.bottleneck_cycles) && t.bottleneck_cycles >= 0 && std::isfinite(t.critical_path_cycles) &&
              t.critical_path_cycles >= 0,
          where + " (cycle counts must be finite and non-negative)");
    check(std::isfinite(t.reconfiguration_s) && t.reconfiguration_s >= 0 && t.reconfiguration_s < 3600,
          where + " (reconfiguration_s must be in [0, 3600) s)");
    check(std::isfinite(t.link_bits_per_s) && t.link_bits_per_s > 0,
          where + " (link_bits_per_s is " + std::to_string(t.link_bits_per_s) + ")");
    check(std::isfinite(t.link_latency_s) && t.link_latency_s >= 0 && t.link_latency_s < 60,
          where + " (link_latency_s must be in [0, 60) s)");
  }

  double load(const StageImage& stage) override {
    check_stage(stage);
    const auto start = Clock::now();
    cpu_->load(stage);
    timing_ = stage.timing;
    if (pace_) sleep_until_modelled(start, timing_.reconfiguration_s);
    return timing_.reconfiguration_s;
  }

  InferOutput infer(const std::vector<Tensor>& inputs, int64_t images) override {
    const auto start = Clock::now();
    InferOutput out = cpu_->infer(inputs, images);
    out.modelled_s = modelled_compute_seconds(timing_, images);
    if (pace_) sleep_until_modelled(start, out.modelled_s);
    return out;
  }

  double link_seconds(const StageTiming& timing, int64_t bytes) const override {
    return modelled_link_seconds(timing, bytes);
  }
  bool paced() const override { return pace_; }

 private:
  std::unique_ptr<Backend> cpu_;
  bool pace_;
  StageTiming timing_;
};

}  // namespace

std::unique_ptr<Backend> make_emulated_backend(int engine_threads, bool pace) {
  return std::make_unique<EmulatedBackend>(engine_threads, pace);
}

}  // namespace dnnsplit::node
