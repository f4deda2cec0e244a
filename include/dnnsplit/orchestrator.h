// The orchestrator: drives a cluster of board nodes through a plan (plan.json + stage files).
// Uploads the stages a node lacks, chooses a schedule (pipeline, time-share, replication),
// streams the inputs through chains of nodes (each node forwards straight to the next), puts
// the outputs back in order, and reports measured and modelled times per stage.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dnnsplit/node.h"
#include "dnnsplit/tensor.h"
#include "dnnsplit/wire.h"

namespace dnnsplit::orchestrator {

// ---- plan.json (docs/plan-schema.md) ---------------------------------------------------------

struct PlanStage {
  int index = 0;
  std::string file;    // absolute path of the stage file
  std::string sha256;  // as plan.json says (checked against the file by read_plan)
  std::string board;
  std::vector<wire::TensorSpec> inputs, outputs;
  node::StageTiming timing;
  int64_t size_bytes = 0;
};

struct Plan {
  std::string dir;
  std::vector<wire::TensorSpec> model_inputs, model_outputs;
  std::vector<PlanStage> stages;
  std::vector<int64_t> cut_bytes_per_image;  // cut k: between stage k and k + 1
};

// Reads DIR/plan.json (or the given .json file). Throws Error naming the file and the field for
// anything the runtime cannot rely on: schema, chain consistency, missing stage files, sha256.
Plan read_plan(const std::string& path);

// ---- schedules ---------------------------------------------------------------------------------

enum class Mode { kAuto, kPipeline, kTimeshare };
Mode parse_mode(const std::string& name);  // auto | pipeline | timeshare
std::string mode_name(Mode mode);

struct Schedule {
  Mode mode = Mode::kPipeline;  // never kAuto
  // Chains of node indices, one entry per stage. Pipeline: batch b goes through chain
  // b % chains.size() (several chains when a stage is replicated). Time-share: one chain;
  // every batch is a round of its own.
  std::vector<std::vector<int>> chains;
  std::vector<int> replicas;  // nodes per stage
};

// auto = pipeline when nodes >= stages, else time-share. Pipeline puts stage s on node s;
// with `replicate`, spare nodes go one by one to the stage that is slowest per image at that
// point. Time-share puts stage s on node s % nodes. Throws Error for impossible requests.
Schedule make_schedule(const Plan& plan, int nodes, Mode mode, bool replicate);

// ---- the schedule model (emulated board timing, no nodes needed) -------------------------------

// Time-share: images per message within a round when RunOptions/ModelOptions say 0. A round's
// B images still pass each loaded stage before the next reconfiguration; sending them in
// messages lets the next stage start on the first ones while the rest are computed.
inline constexpr int64_t kDefaultChunk = 16;

// How a run splits its images into messages, grouped: pipeline: one message per batch of
// `batch` images, each its own group; time-share: one group per round of `batch` images, sent as
// messages of at most `chunk` images (0: min(batch, kDefaultChunk)).
std::vector<std::vector<int64_t>> split_images(Mode mode, int64_t images, int64_t batch, int64_t chunk);

struct ModelOptions {
  int rounds_in_flight = 2;                 // time-share: rounds open at once (as run uses)
  int in_flight = 4;                        // pipeline: messages in flight per chain (as run uses)
  int64_t chunk = 0;                        // time-share: images per message (see split_images)
  std::vector<int> initially_loaded;        // stage loaded on each node at the start (-1: none)
};

struct ModelledEvent {
  int node = 0;
  int stage = 0;
  int64_t batch = -1;  // -1 for a reconfiguration
  enum Kind { kReconfigure, kCompute, kSend } kind = kCompute;
  double start_s = 0, end_s = 0;
  double arrival_s = 0;  // compute: when its input had arrived
};

struct ModelledRun {
  double seconds = 0;  // until the last result is back at the client
  double images_per_s = 0;
  double compute_bound_images_per_s = 0;  // reconfiguration and links free, batches endless
  std::vector<ModelledEvent> events;
};

// Plays the schedule with the modelled durations: each node's fabric does one thing at a time
// (reconfigure or compute), its link one transfer at a time, overlapping with the fabric;
// time-share rounds take the boards in (round, stage) order, as the nodes grant them.
ModelledRun model_schedule(const Plan& plan, const Schedule& schedule, const std::vector<std::vector<int64_t>>& groups,
                           const ModelOptions& options = {});
// Convenience: `images` split by split_images.
ModelledRun model_run(const Plan& plan, const Schedule& schedule, int64_t batch, int64_t images,
                      const ModelOptions& options = {});

// ---- running -------------------------------------------------------------------------------------

struct RunOptions {
  std::vector<std::string> nodes;  // HOST:PORT
  int64_t batch = 8;
  Mode mode = Mode::kAuto;
  bool replicate = false;
  int in_flight = 4;          // pipeline: batches in flight per chain
  int rounds_in_flight = 2;   // time-share: rounds open at once
  int64_t chunk = 0;          // time-share: images per message within a round (0: default)
  double call_timeout_s = 30;       // control calls (status, list, load); uploads add size / 10 MB/s
  double run_timeout_s = 3600;      // the data streams
  int64_t max_message_bytes = 64LL << 20;
  // Called after every batch that came back (from a reader thread).
  std::function<void(int64_t images_done, int64_t images_total)> progress;
};

struct Times {
  double measured_s = 0;
  double modelled_s = 0;
};

struct StageReport {
  int index = 0;
  std::vector<std::string> nodes;
  int64_t reconfigurations = 0;
  // Measured from the nodes' records; modelled by the schedule model (plan timing).
  Times reconfigure, compute, network, waiting;
  // Reconfigure + compute + link as the nodes' backends modelled them (0 on cpu nodes); equals
  // the schedule model's sum on emulated nodes.
  double node_modelled_s = 0;
  double images_per_s_measured = 0;  // images / compute time: the stage alone
  double images_per_s_modelled = 0;
  double latency_p50_s = 0, latency_p99_s = 0;  // per batch: arrival at the node to sent on
  int64_t images = 0;
  int64_t payload_bytes_sent = 0, message_bytes_sent = 0;
  int64_t plan_bytes_per_image = 0;  // what plan.json says crosses the stage's output cut
};

struct TraceSpan {
  std::string process;  // "node 127.0.0.1:4001" / "client" / "... (modelled)"
  std::string track;    // reconfigure | compute | send
  std::string name;
  double start_s = 0, duration_s = 0;  // since the run started (client clock)
  int stage = -1;
  int64_t batch = -1;
};

struct RunReport {
  Mode mode = Mode::kPipeline;
  Schedule schedule;
  std::vector<std::string> nodes;
  int64_t images = 0, batch = 0, batches = 0;
  double wall_s = 0;
  double images_per_s = 0;
  double modelled_s = 0, modelled_images_per_s = 0, compute_bound_images_per_s = 0;
  double latency_p50_s = 0, latency_p99_s = 0;  // per batch, client to client
  // The client's own data link (Infer streams), measured as message bytes incl. framing.
  int64_t client_bytes_sent = 0, client_bytes_received = 0;
  int64_t client_payload_sent = 0, client_payload_received = 0;
  int64_t upload_bytes = 0;  // stage files uploaded before the run
  std::vector<StageReport> stages;
  std::vector<TraceSpan> spans;
};

struct RunResult {
  std::vector<Tensor> outputs;  // one per model output, batches concatenated in input order
  RunReport report;
};

// Runs every image of `inputs` (one tensor per model input, images in dimension 0). Throws
// Error naming the node and the stage for any failure; never returns partial outputs.
RunResult run(const Plan& plan, const std::vector<Tensor>& inputs, const RunOptions& options);

// Human-readable per-stage table; JSON with the same content; Chrome/Perfetto trace JSON.
std::string format_report(const RunReport& report);
std::string report_json(const RunReport& report);
void write_trace(const RunReport& report, const std::string& path);

}  // namespace dnnsplit::orchestrator
