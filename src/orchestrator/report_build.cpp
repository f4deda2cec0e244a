#include "report_build.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace dnnsplit::orchestrator {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

RunReport build_report(const RunFacts& f) {
  RunReport r;
  r.mode = f.schedule.mode;
  r.schedule = f.schedule;
  r.nodes = f.options.nodes;
  r.batch = f.options.batch;
  r.batches = static_cast<int64_t>(f.batches.size());
  for (const auto& b : f.batches) r.images += b.images;
  r.wall_s = static_cast<double>(f.end_ns - f.start_ns) * 1e-9;
  r.images_per_s = r.wall_s > 0 ? static_cast<double>(r.images) / r.wall_s : 0.0;
  r.client_bytes_sent = f.state.bytes_sent;
  r.client_bytes_received = f.state.bytes_received;
  r.client_payload_sent = f.state.payload_sent;
  r.client_payload_received = f.state.payload_received;
  r.upload_bytes = f.upload_bytes;

  // Node names in records -> node index, and each node's clock offset.
  std::map<std::string, size_t> node_of;
  for (size_t n = 0; n < f.status.size(); ++n) node_of[f.status[n].node()] = n;
  auto client_s = [&](const std::string& node, int64_t node_ns) {
    auto it = node_of.find(node);
    const int64_t offset = it == node_of.end() ? 0 : f.clients[it->second]->clock_offset_ns();
    return static_cast<double>(node_ns - offset - f.start_ns) * 1e-9;
  };
  auto label = [&](const std::string& node) {
    auto it = node_of.find(node);
    return "node " + (it == node_of.end() ? node : f.options.nodes[it->second]);
  };

  std::vector<double> latencies;
  for (size_t b = 0; b < f.batches.size(); ++b) {
    const auto& t = f.state.timing[b];
    latencies.push_back(static_cast<double>(t.received_ns - t.send_start_ns) * 1e-9);
    r.spans.push_back({"client", "send", "batch " + std::to_string(b) + " in",
                       static_cast<double>(t.send_start_ns - f.start_ns) * 1e-9,
                       static_cast<double>(t.send_end_ns - t.send_start_ns) * 1e-9, 0, static_cast<int64_t>(b)});
    r.spans.push_back({"client", "receive", "batch " + std::to_string(b) + " out",
                       static_cast<double>(t.received_ns - f.start_ns) * 1e-9, 0.0,
                       static_cast<int>(f.plan.stages.size()) - 1, static_cast<int64_t>(b)});
  }
  r.latency_p50_s = percentile(latencies, 0.50);
  r.latency_p99_s = percentile(latencies, 0.99);

  // Arrival of (stage, batch) at its node, on the client clock, to measure each transfer.
  std::map<std::pair<int, uint64_t>, double> arrival;
  for (const auto& h : f.state.hops) arrival[{h.stage_index(), h.sequence()}] = client_s(h.node(), h.received_ns());

  const ModelledRun model =
      model_schedule(f.plan, f.schedule, split_images(f.schedule.mode, r.images, f.options.batch, f.options.chunk),
                     f.model_options);
  r.modelled_s = model.seconds;
  r.modelled_images_per_s = model.images_per_s;
  r.compute_bound_images_per_s = model.compute_bound_images_per_s;

  const size_t stages = f.plan.stages.size();
  r.stages.resize(stages);
  std::vector<std::vector<double>> stage_latency(stages);
  for (size_t s = 0; s < stages; ++s) {
    auto& st = r.stages[s];
    st.index = static_cast<int>(s);
    std::set<int> hosts;
    for (const auto& chain : f.schedule.chains) hosts.insert(chain[s]);
    for (int n : hosts) st.nodes.push_back(f.options.nodes[static_cast<size_t>(n)]);
    for (const auto& spec : f.plan.stages[s].outputs) st.plan_bytes_per_image += spec.bytes_per_image();
  }
  for (const auto& l : f.state.loads) {
    const auto s = static_cast<size_t>(l.stage_index());
    if (s >= stages || l.already_loaded()) continue;
    auto& st = r.stages[s];
    ++st.reconfigurations;
    st.reconfigure.measured_s += static_cast<double>(l.end_ns() - l.start_ns()) * 1e-9;
    st.node_modelled_s += l.modelled_s();
    r.spans.push_back({label(l.node()), "reconfigure", "stage " + std::to_string(s) + " reconfigure",
                       client_s(l.node(), l.start_ns()), static_cast<double>(l.end_ns() - l.start_ns()) * 1e-9,
                       static_cast<int>(s), -1});
  }
  for (const auto& h : f.state.hops) {
    const auto s = static_cast<size_t>(h.stage_index());
    if (s >= stages) continue;
    auto& st = r.stages[s];
    st.images += h.images();
    st.compute.measured_s += static_cast<double>(h.compute_end_ns() - h.compute_start_ns()) * 1e-9;
    st.node_modelled_s += h.compute_modelled_s() + h.link_modelled_s();
    st.waiting.measured_s += static_cast<double>(h.compute_start_ns() - h.received_ns()) * 1e-9;
    st.payload_bytes_sent += static_cast<int64_t>(h.payload_bytes_out());
    st.message_bytes_sent += static_cast<int64_t>(h.message_bytes_out());
    stage_latency[s].push_back(static_cast<double>(h.send_end_ns() - h.received_ns()) * 1e-9);
    // Transfer: from the start of sending to the arrival at the next hop (or the client).
    double arrived = -1;
    if (s + 1 < stages) {
      auto it = arrival.find({static_cast<int>(s + 1), h.sequence()});
      if (it != arrival.end()) arrived = it->second;
    } else if (h.sequence() < f.batches.size()) {
      arrived = static_cast<double>(f.state.timing[h.sequence()].received_ns - f.start_ns) * 1e-9;
    }
    const double sent = client_s(h.node(), h.send_start_ns());
    if (arrived >= 0) st.network.measured_s += std::max(0.0, arrived - sent);
    const std::string name = "stage " + std::to_string(s) + " batch " + std::to_string(h.sequence());
    r.spans.push_back({label(h.node()), "compute", name, client_s(h.node(), h.compute_start_ns()),
                       static_cast<double>(h.compute_end_ns() - h.compute_start_ns()) * 1e-9, static_cast<int>(s),
                       static_cast<int64_t>(h.sequence())});
    r.spans.push_back({label(h.node()), "send", name, sent, static_cast<double>(h.send_end_ns() - h.send_start_ns()) * 1e-9,
                       static_cast<int>(s), static_cast<int64_t>(h.sequence())});
  }
  for (const auto& e : model.events) {
    const auto s = static_cast<size_t>(e.stage);
    const std::string process = "node " + f.options.nodes[static_cast<size_t>(e.node)] + " (modelled)";
    auto& st = r.stages[s];
    if (e.kind == ModelledEvent::kCompute) {
      st.waiting.modelled_s += e.start_s - e.arrival_s;
      st.compute.modelled_s += e.end_s - e.start_s;
      r.spans.push_back({process, "compute", "stage " + std::to_string(s) + " batch " + std::to_string(e.batch), e.start_s,
                         e.end_s - e.start_s, e.stage, e.batch});
    } else if (e.kind == ModelledEvent::kSend) {
      st.network.modelled_s += e.end_s - e.start_s;
      r.spans.push_back({process, "send", "stage " + std::to_string(s) + " batch " + std::to_string(e.batch), e.start_s,
                         e.end_s - e.start_s, e.stage, e.batch});
    } else {
      st.reconfigure.modelled_s += e.end_s - e.start_s;
      r.spans.push_back({process, "reconfigure", "stage " + std::to_string(s) + " reconfigure", e.start_s,
                         e.end_s - e.start_s, e.stage, -1});
    }
  }
  for (size_t s = 0; s < stages; ++s) {
    auto& st = r.stages[s];
    st.latency_p50_s = percentile(stage_latency[s], 0.50);
    st.latency_p99_s = percentile(stage_latency[s], 0.99);
    st.images_per_s_measured = st.compute.measured_s > 0 ? static_cast<double>(st.images) / st.compute.measured_s : 0.0;
    st.images_per_s_modelled = st.compute.modelled_s > 0 ? static_cast<double>(st.images) / st.compute.modelled_s : 0.0;
  }
  return r;
}

}  // namespace dnnsplit::orchestrator
