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

std::vector<std::vector<int64_t>> split_images(Mode mode, int64_t images, int64_t batch, int64_t chunk) {
  check(batch >= 1, "batch size must be at least 1");
  check(chunk >= 0, "chunk size must not be negative");
  std::vector<std::vector<int64_t>> groups;
  const int64_t per_message = mode == Mode::kTimeshare ? (chunk > 0 ? std::min(chunk, batch) : std::min(batch, kDefaultChunk)) : batch;
  for (int64_t first = 0; first < images; first += batch) {
    const int64_t round = std::min(batch, images - first);
    std::vector<int64_t> messages;
    for (int64_t done = 0; done < round; done += per_message) messages.push_back(std::min(per_message, round - done));
    groups.push_back(std::move(messages));
  }
  return groups;
}

ModelledRun model_schedule(const Plan& plan, const Schedule& schedule, const std::vector<std::vector<int64_t>>& groups,
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
  // The client sends a message of `images` inputs; returns when it has arrived at stage 0.
  auto send_input = [&](int64_t images, double opened) {
    const double start = std::max(client_link_free, opened);
    client_link_free =
        start + node::modelled_link_seconds(plan.stages.front().timing, batch_bytes(plan.model_inputs, images));
    return client_link_free;
  };
  // Message m (of `images`) through stage s on node n, arriving at `arrival`; returns when its
  // outputs have arrived at the next hop (or back at the client).
  auto step = [&](size_t s, int n, int64_t m, int64_t images, double arrival, double opened) {
    const auto un = static_cast<size_t>(n);
    const auto& timing = plan.stages[s].timing;
    const double start = std::max({arrival, fabric_free[un], opened});
    const double end = start + node::modelled_compute_seconds(timing, images);
    out.events.push_back({n, static_cast<int>(s), m, ModelledEvent::kCompute, start, end, arrival});
    fabric_free[un] = end;
    const double send_start = std::max(end, link_free[un]);
    const double send_end = send_start + node::modelled_link_seconds(timing, batch_bytes(plan.stages[s].outputs, images));
    out.events.push_back({n, static_cast<int>(s), m, ModelledEvent::kSend, send_start, send_end, end});
    link_free[un] = send_end;
    return send_end;
  };

  int64_t images = 0;
  int64_t message = 0;
  if (schedule.mode == Mode::kPipeline) {
    for (const auto& chain : schedule.chains) {
      for (size_t s = 0; s < stages; ++s) reconfigure(chain[s], static_cast<int>(s), 0.0);
    }
    // The client keeps in_flight messages per chain open: message m leaves once m - window is back.
    const auto window = static_cast<size_t>(std::max(1, options.in_flight)) * schedule.chains.size();
    std::vector<double> returned;
    for (const auto& group : groups) {
      for (int64_t n_images : group) {
        const auto& chain = schedule.chains[static_cast<size_t>(message) % schedule.chains.size()];
        const double opened = returned.size() < window ? 0.0 : returned[returned.size() - window];
        double arrival = send_input(n_images, opened);
        for (size_t s = 0; s < stages; ++s) arrival = step(s, chain[s], message, n_images, arrival, 0.0);
        returned.push_back(arrival);
        out.seconds = std::max(out.seconds, arrival);
        images += n_images;
        ++message;
      }
    }
  } else {
    // A round's messages pass stage s (in order) before stage s + 1 starts on a node that hosts
    // both: the board order the nodes' tickets give.
    const auto window = static_cast<size_t>(std::max(1, options.rounds_in_flight));
    const auto& chain = schedule.chains.front();
    std::vector<double> done;
    for (size_t r = 0; r < groups.size(); ++r) {
      const double opened = r < window ? 0.0 : done[r - window];
      std::vector<double> arrival;
      for (int64_t n_images : groups[r]) arrival.push_back(send_input(n_images, opened));
      for (size_t s = 0; s < stages; ++s) {
        reconfigure(chain[s], static_cast<int>(s), opened);
        for (size_t m = 0; m < groups[r].size(); ++m) {
          arrival[m] = step(s, chain[s], message + static_cast<int64_t>(m), groups[r][m], arrival[m], opened);
        }
      }
      done.push_back(*std::max_element(arrival.begin(), arrival.end()));
      out.seconds = std::max(out.seconds, done.back());
      for (int64_t n_images : groups[r]) images += n_images;
      message += static_cast<int64_t>(groups[r].size());
    }
  }
  out.images_per_s = out.seconds > 0 ? static_cast<double>(images) / out.seconds : 0.0;
  out.compute_bound_images_per_s = compute_bound(plan, schedule);
  return out;
}

ModelledRun model_run(const Plan& plan, const Schedule& schedule, int64_t batch, int64_t images,
                      const ModelOptions& options) {
  check(images >= 1, "at least one image is needed");
  return model_schedule(plan, schedule, split_images(schedule.mode, images, batch, options.chunk), options);
}

}  // namespace dnnsplit::orchestrator
