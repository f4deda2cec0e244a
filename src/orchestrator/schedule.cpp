// Which node runs which stage: pipeline, time-share, replication of the slowest stage.
#include <algorithm>
#include <numeric>

#include "dnnsplit/error.h"
#include "dnnsplit/orchestrator.h"

namespace dnnsplit::orchestrator {

namespace {

constexpr size_t kMaxChains = 12;

// Steady-state seconds per image of a stage alone: its slowest layer or its output link.
double seconds_per_image(const Plan& plan, int s) {
  const PlanStage& stage = plan.stages[static_cast<size_t>(s)];
  const double compute = stage.timing.clock_hz > 0 ? stage.timing.bottleneck_cycles / stage.timing.clock_hz : 0.0;
  int64_t bytes = 0;
  for (const auto& spec : stage.outputs) bytes += spec.bytes_per_image();
  return std::max(compute, node::modelled_link_seconds(stage.timing, bytes) - stage.timing.link_latency_s);
}

}  // namespace

Mode parse_mode(const std::string& name) {
  if (name == "auto") return Mode::kAuto;
  if (name == "pipeline") return Mode::kPipeline;
  if (name == "timeshare") return Mode::kTimeshare;
  throw Error("unknown mode '" + name + "' (auto, pipeline, timeshare)");
}

std::string mode_name(Mode mode) {
  switch (mode) {
    case Mode::kAuto: return "auto";
    case Mode::kPipeline: return "pipeline";
    case Mode::kTimeshare: return "timeshare";
  }
  return "?";
}

Schedule make_schedule(const Plan& plan, int nodes, Mode mode, bool replicate) {
  const int stages = static_cast<int>(plan.stages.size());
  check(nodes >= 1, "a run needs at least one node");
  check(stages >= 1, "the plan has no stages");
  Schedule schedule;
  schedule.mode = mode == Mode::kAuto ? (nodes >= stages ? Mode::kPipeline : Mode::kTimeshare) : mode;
  if (schedule.mode == Mode::kTimeshare) {
    check(!replicate, "--replicate needs pipeline mode (at least as many nodes as stages); time-share already "
                      "uses every node");
    std::vector<int> chain;
    for (int s = 0; s < stages; ++s) chain.push_back(s % nodes);
    schedule.chains.push_back(chain);
    schedule.replicas.assign(static_cast<size_t>(stages), 1);
    return schedule;
  }
  check(nodes >= stages, "pipeline mode needs one node per stage: the plan has " + std::to_string(stages) +
                             " stages, " + std::to_string(nodes) + " nodes were given (use --mode timeshare)");
  std::vector<std::vector<int>> replica_nodes(static_cast<size_t>(stages));
  for (int s = 0; s < stages; ++s) replica_nodes[static_cast<size_t>(s)].push_back(s);
  if (replicate) {
    for (int spare = stages; spare < nodes; ++spare) {
      int slowest = 0;
      double worst = -1;
      for (int s = 0; s < stages; ++s) {
        const double t = seconds_per_image(plan, s) / static_cast<double>(replica_nodes[static_cast<size_t>(s)].size());
        if (t > worst) {
          worst = t;
          slowest = s;
        }
      }
      replica_nodes[static_cast<size_t>(slowest)].push_back(spare);
    }
  }
  size_t chains = 1;
  for (const auto& r : replica_nodes) chains = std::lcm(chains, r.size());
  if (chains > kMaxChains) {
    chains = 1;
    for (const auto& r : replica_nodes) chains = std::max(chains, r.size());
  }
  for (size_t c = 0; c < chains; ++c) {
    std::vector<int> chain;
    for (const auto& r : replica_nodes) chain.push_back(r[c % r.size()]);
    schedule.chains.push_back(chain);
  }
  for (const auto& r : replica_nodes) schedule.replicas.push_back(static_cast<int>(r.size()));
  return schedule;
}

}  // namespace dnnsplit::orchestrator
