// Printing a run report: a per-stage table, JSON, and a Chrome/Perfetto trace.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "dnnsplit/error.h"
#include "dnnsplit/file_util.h"
#include "dnnsplit/orchestrator.h"

namespace dnnsplit::orchestrator {

namespace {

std::string format(const char* fmt, auto... args) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, fmt, args...);
  return buffer;
}

std::string bytes_text(int64_t bytes) {
  if (bytes >= 10'000'000) return format("%.1f MB", static_cast<double>(bytes) / 1e6);
  if (bytes >= 10'000) return format("%.1f kB", static_cast<double>(bytes) / 1e3);
  return format("%lld B", static_cast<long long>(bytes));
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

nlohmann::json times_json(const Times& t) { return {{"measured_s", t.measured_s}, {"modelled_s", t.modelled_s}}; }

}  // namespace

std::string format_report(const RunReport& r) {
  std::string out;
  out += format("mode %s: %zu nodes, %zu stages, %lld images in %lld batches of up to %lld\n", mode_name(r.mode).c_str(),
                r.nodes.size(), r.stages.size(), static_cast<long long>(r.images), static_cast<long long>(r.batches),
                static_cast<long long>(r.batch));
  out += format("measured: %.3f s, %.1f images/s; latency per batch p50 %.1f ms, p99 %.1f ms\n", r.wall_s, r.images_per_s,
                r.latency_p50_s * 1e3, r.latency_p99_s * 1e3);
  out += format("modelled (emulated boards): %.3f s, %.1f images/s; compute-only bound %.1f images/s\n", r.modelled_s,
                r.modelled_images_per_s, r.compute_bound_images_per_s);
  out += "client link: sent " + bytes_text(r.client_bytes_sent) + " (payload " + bytes_text(r.client_payload_sent) +
         "), received " + bytes_text(r.client_bytes_received) + " (payload " + bytes_text(r.client_payload_received) +
         "); stage uploads " + bytes_text(r.upload_bytes) + "\n";
  out += "\n";
  out += "                     reconfigure s     compute s         network s         waiting s         images/s (stage alone)   latency ms    bytes/image out\n";
  out += "stage  nodes   loads  measured modelled  measured modelled  measured modelled  measured modelled  measured   modelled     p50    p99    plan    wire\n";
  for (const auto& s : r.stages) {
    const double wire = s.images > 0 ? static_cast<double>(s.message_bytes_sent) / static_cast<double>(s.images) : 0.0;
    out += format("%5d  %-6s %5lld  %8.3f %8.3f  %8.3f %8.3f  %8.3f %8.3f  %8.3f %8.3f  %9.1f %10.1f  %6.1f %6.1f  %6lld %7.1f\n",
                  s.index, std::to_string(s.nodes.size()).c_str(), static_cast<long long>(s.reconfigurations),
                  s.reconfigure.measured_s, s.reconfigure.modelled_s, s.compute.measured_s, s.compute.modelled_s,
                  s.network.measured_s, s.network.modelled_s, s.waiting.measured_s, s.waiting.modelled_s,
                  s.images_per_s_measured, s.images_per_s_modelled, s.latency_p50_s * 1e3, s.latency_p99_s * 1e3,
                  static_cast<long long>(s.plan_bytes_per_image), wire);
  }
  out += "\ntimes are summed over the batches a stage ran; waiting = batches queued at the node before its board was free\n";
  out += "stage nodes:";
  for (const auto& s : r.stages) out += format(" %d=%s", s.index, join(s.nodes).c_str());
  out += "\n";
  return out;
}

std::string report_json(const RunReport& r) {
  nlohmann::json j;
  j["mode"] = mode_name(r.mode);
  j["nodes"] = r.nodes;
  j["chains"] = r.schedule.chains;
  j["images"] = r.images;
  j["batch"] = r.batch;
  j["batches"] = r.batches;
  j["measured"] = {{"seconds", r.wall_s},
                   {"images_per_s", r.images_per_s},
                   {"latency_p50_s", r.latency_p50_s},
                   {"latency_p99_s", r.latency_p99_s}};
  j["modelled"] = {{"seconds", r.modelled_s},
                   {"images_per_s", r.modelled_images_per_s},
                   {"compute_bound_images_per_s", r.compute_bound_images_per_s}};
  j["client_link"] = {{"bytes_sent", r.client_bytes_sent},
                      {"bytes_received", r.client_bytes_received},
                      {"payload_sent", r.client_payload_sent},
                      {"payload_received", r.client_payload_received},
                      {"upload_bytes", r.upload_bytes}};
  j["stages"] = nlohmann::json::array();
  for (const auto& s : r.stages) {
    j["stages"].push_back({{"index", s.index},
                           {"nodes", s.nodes},
                           {"reconfigurations", s.reconfigurations},
                           {"reconfigure", times_json(s.reconfigure)},
                           {"compute", times_json(s.compute)},
                           {"network", times_json(s.network)},
                           {"waiting", times_json(s.waiting)},
                           {"node_modelled_s", s.node_modelled_s},
                           {"images", s.images},
                           {"images_per_s", {{"measured", s.images_per_s_measured}, {"modelled", s.images_per_s_modelled}}},
                           {"latency_p50_s", s.latency_p50_s},
                           {"latency_p99_s", s.latency_p99_s},
                           {"payload_bytes_sent", s.payload_bytes_sent},
                           {"message_bytes_sent", s.message_bytes_sent},
                           {"plan_bytes_per_image", s.plan_bytes_per_image}});
  }
  return j.dump(2);
}

void write_trace(const RunReport& r, const std::string& path) {
  // Chrome trace event format: one process per node (measured and modelled), one thread per
  // track; complete ("X") events in microseconds.
  nlohmann::json events = nlohmann::json::array();
  std::map<std::string, int> pids;
  std::map<std::pair<int, std::string>, int> tids;
  for (const auto& span : r.spans) {
    auto [p, new_process] = pids.try_emplace(span.process, static_cast<int>(pids.size()) + 1);
    if (new_process) {
      events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", p->second}, {"args", {{"name", span.process}}}});
      events.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", p->second}, {"args", {{"sort_index", p->second}}}});
    }
    auto [t, new_thread] = tids.try_emplace({p->second, span.track}, static_cast<int>(tids.size()) + 1);
    if (new_thread) {
      events.push_back(
          {{"ph", "M"}, {"name", "thread_name"}, {"pid", p->second}, {"tid", t->second}, {"args", {{"name", span.track}}}});
    }
    events.push_back({{"ph", "X"},
                      {"name", span.name},
                      {"cat", span.track},
                      {"pid", p->second},
                      {"tid", t->second},
                      {"ts", span.start_s * 1e6},
                      {"dur", span.duration_s * 1e6},
                      {"args", {{"stage", span.stage}, {"batch", span.batch}}}});
  }
  nlohmann::json trace{{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  write_file_atomic(path, trace.dump() + "\n", "trace file");
}

}  // namespace dnnsplit::orchestrator
