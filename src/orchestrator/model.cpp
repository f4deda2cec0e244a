// The schedule model: the emulated boards' timing (design.md) played over a schedule.
#include <algorithm>
#include <map>
#include <set>

#include "dnnsplit/error.h"
#include "dnnsplit/orchestrator.h"

namespace dnnsplit::orchestrator {

namespace {

int64_t batch_bytes(const std::vector<wire::TensorSpec>& specs, int64_t images) {
  int64_t bytes = 0;
  for (const auto& s : specs) bytes += s.packed_bytes(images);
  return bytes;
}

double compute_bound(const Plan& plan, const Schedule& schedule) {
  // Per node: the bottleneck time of every stage it runs, shared among the stage's replicas.
  std::map<int, double> per_node;
  std::set<std::pair<int, size_t>> counted;
  for (const auto& chain : schedule.chains) {
    for (size_t s = 0; s < chain.size(); ++s) {
      if (!counted.insert({chain[s], s}).second) continue;
      const auto& t = plan.stages[s].timing;
      if (t.clock_hz <= 0) continue;
      per_node[chain[s]] += t.bottleneck_cycles / t.clock_hz / static_cast<double>(schedule.replicas[s]);
    }
  }
  double worst = 0;
  for (const auto& [n, seconds] : per_node) worst = std::max(worst, seconds);
  return worst > 0 ? 1.0 / worst : 0.0;
}

}  // namespace

ModelledRun model_schedule(const Plan& plan, const Schedule& schedule, const std::vector<int64_t>& batch_images,
                           const ModelOptions& options) {
  check(!schedule.chains.empty(), "schedule model: the schedule has no chain");
  const size_t stages = plan.stages.size();
  int nodes = 0;
  for (const auto& chain : schedule.chains) {
    check(chain.size() == stages, "schedule model: a chain does not cover every stage");
    for (int n : chain) nodes = std::max(nodes, n + 1);
  }
  std::vector<double> fabric_free(static_cast<size_t>(nodes), 0.0), link_free(static_cast<size_t>(nodes), 0.0);
  std::vector<int> loaded(static_cast<size_t>(nodes), -1);
  for (size_t n = 0; n < options.initially_loaded.size() && n < loaded.size(); ++n) loaded[n] = options.initially_loaded[n];
  double client_link_free = 0.0;
  ModelledRun out;

  auto reconfigure = [&](int n, int s, double earliest) {
    const auto un = static_cast<size_t>(n);
    if (loaded[un] == s) return;
    const double start = std::max(fabric_free[un], earliest);
    const double end = start + plan.stages[static_cast<size_t>(s)].timing.reconfiguration_s;
    out.events.push_back({n, s, -1, ModelledEvent::kReconfigure, start, end, start});
    fabric_free[un] = end;
    loaded[un] = s;
  };
  // One batch through a chain; returns when its result is back at the client.
  auto pass = [&](const std::vector<int>& chain, int64_t b, int64_t images, double opened) {
    const auto& first = plan.stages.front().timing;
    const double in_start = std::max(client_link_free, opened);
    double arrival = in_start + node::modelled_link_seconds(first, batch_bytes(plan.model_inputs, images));
    client_link_free = arrival;
    for (size_t s = 0; s < stages; ++s) {
      const int n = chain[s];
      const auto un = static_cast<size_t>(n);
      reconfigure(n, static_cast<int>(s), opened);
      const auto& timing = plan.stages[s].timing;
      const double start = std::max({arrival, fabric_free[un], opened});
      const double end = start + node::modelled_compute_seconds(timing, images);
      out.events.push_back({n, static_cast<int>(s), b, ModelledEvent::kCompute, start, end, arrival});
      fabric_free[un] = end;
      const double send_start = std::max(end, link_free[un]);
      const double send_end =
          send_start + node::modelled_link_seconds(timing, batch_bytes(plan.stages[s].outputs, images));
      out.events.push_back({n, static_cast<int>(s), b, ModelledEvent::kSend, send_start, send_end, end});
      link_free[un] = send_end;
      arrival = send_end;
    }
    return arrival;
  };

  int64_t images = 0;
  if (schedule.mode == Mode::kPipeline) {
    for (const auto& chain : schedule.chains) {
      for (size_t s = 0; s < stages; ++s) reconfigure(chain[s], static_cast<int>(s), 0.0);
    }
    for (size_t b = 0; b < batch_images.size(); ++b) {
      const auto& chain = schedule.chains[b % schedule.chains.size()];
      out.seconds = std::max(out.seconds, pass(chain, static_cast<int64_t>(b), batch_images[b], 0.0));
      images += batch_images[b];
    }
  } else {
    const auto window = static_cast<size_t>(std::max(1, options.rounds_in_flight));
    std::vector<double> done;
    for (size_t r = 0; r < batch_images.size(); ++r) {
      // A round's stream opens when the one `window` rounds earlier has come back.
      const double opened = r < window ? 0.0 : done[r - window];
      done.push_back(pass(schedule.chains.front(), static_cast<int64_t>(r), batch_images[r], opened));
      out.seconds = std::max(out.seconds, done.back());
      images += batch_images[r];
    }
  }
  out.images_per_s = out.seconds > 0 ? static_cast<double>(images) / out.seconds : 0.0;
  out.compute_bound_images_per_s = compute_bound(plan, schedule);
  return out;
}

ModelledRun model_run(const Plan& plan, const Schedule& schedule, int64_t batch, int64_t images,
                      const ModelOptions& options) {
  check(batch >= 1, "batch size must be at least 1");
  check(images >= 1, "at least one image is needed");
  std::vector<int64_t> batches;
  for (int64_t done = 0; done < images; done += batch) batches.push_back(std::min(batch, images - done));
  return model_schedule(plan, schedule, batches, options);
}

}  // namespace dnnsplit::orchestrator
