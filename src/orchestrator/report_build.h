// Turns what a run saw (records from the nodes, client timings, the schedule model) into the
// RunReport: per-stage measured and modelled times, throughput, latency, bytes, trace spans.
#pragma once

#include <memory>
#include <vector>

#include "client.h"
#include "dnnsplit/orchestrator.h"
#include "run_state.h"

namespace dnnsplit::orchestrator {

struct RunFacts {
  const Plan& plan;
  const Schedule& schedule;
  const RunOptions& options;
  const std::vector<v1::StatusReply>& status;
  const std::vector<std::unique_ptr<NodeClient>>& clients;
  const std::vector<PackedBatch>& batches;
  const RunState& state;
  int64_t start_ns = 0, end_ns = 0;
  int64_t upload_bytes = 0;
  const ModelOptions& model_options;
};

RunReport build_report(const RunFacts& facts);

// Nearest-rank percentile of unsorted values (0 when empty).
double percentile(std::vector<double> values, double p);

}  // namespace dnnsplit::orchestrator
