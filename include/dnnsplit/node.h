// A board node: a gRPC server that keeps stage files in a store, loads one stage at a time
// (= reconfigures its board) and runs batches through it, forwarding results to the next node
// of a chain. Protocol: proto/dnnsplit/v1/node.proto. Also: starting local node processes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace dnnsplit::node {

// How an emulated board models a stage: plan.json stages[i].timing plus the board's name.
struct StageTiming {
  std::string board;
  double clock_hz = 0;
  double bottleneck_cycles = 0;
  double critical_path_cycles = 0;
  double reconfiguration_s = 0;
  double link_bits_per_s = 0;
  double link_latency_s = 0;
};

// The emulated board's formulas (design.md), used by the node and by the orchestrator's
// schedule model alike. Compute for n images: (critical path + (n - 1) * bottleneck) / clock.
double modelled_compute_seconds(const StageTiming& timing, int64_t images);
// Link: bytes / bandwidth + per-message latency.
double modelled_link_seconds(const StageTiming& timing, int64_t bytes);

struct NodeOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 lets the OS choose
  std::string store_dir;                // stage files live here, addressed by sha256
  std::string name;                     // shown in messages; default: the bound address
  std::string board;                    // board the node emulates ("" = any)
  std::string backend = "cpu";          // cpu | emulated
  bool pace = false;                    // emulated: sleep so wall-clock follows the model
  int engine_threads = 1;
  int64_t max_message_bytes = 64LL << 20;
  int64_t max_stage_bytes = 512LL << 20;
  int64_t max_buffered_bytes = 1LL << 30;  // batches waiting for the board, all streams together
  bool quiet = false;                      // no shutdown message on stderr (local clusters)
};

// A node server running in this process (tests, benchmarks, `dnnsplit node`).
class NodeServer {
 public:
  // Binds, starts serving and returns; throws Error when the address cannot be bound, the store
  // cannot be opened or an option is invalid.
  explicit NodeServer(const NodeOptions& options);
  ~NodeServer();  // shuts down (see shutdown)
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  // HOST:PORT actually bound (the OS's port when 0 was asked for).
  const std::string& address() const;
  // Stops accepting calls; running calls get `grace_seconds` to finish, then are cancelled.
  void shutdown(double grace_seconds = 2.0);
  // Blocks until shutdown() has completed.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `dnnsplit node`: serves until SIGINT or SIGTERM, printing "listening on HOST:PORT" on stdout
// first (tools read the chosen port from it). Returns the process exit code.
int run_node_until_signal(const NodeOptions& options);

// N node processes on 127.0.0.1 with OS-chosen ports, each with its own store directory.
// Children get SIGTERM when this process dies (PR_SET_PDEATHSIG), so none outlive a crash.
struct LocalClusterOptions {
  std::string binary;      // the dnnsplit executable
  int nodes = 1;
  std::string board;       // --board for every node ("" = none)
  std::string backend = "cpu";
  bool pace = false;
  std::string store_root;  // stores in <store_root>/node-<i>; "" = fresh temporary directories
  double start_timeout_s = 20.0;
};

class LocalCluster {
 public:
  // Starts the nodes and waits until each printed its address; throws Error naming the node
  // that failed to start (with its stderr) after stopping the others.
  explicit LocalCluster(const LocalClusterOptions& options);
  ~LocalCluster();  // stop()
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  const std::vector<std::string>& addresses() const { return addresses_; }
  std::string addresses_joined() const;  // "127.0.0.1:p1,127.0.0.1:p2,..."
  pid_t pid(int node) const { return pids_.at(static_cast<size_t>(node)); }
  // Kills one node at once (SIGKILL), as a board that loses power; for fault tests.
  void kill_node(int node);
  // SIGTERM to every node still running, waits up to 5 s, then SIGKILL; removes temporary stores.
  void stop();

 private:
  std::vector<pid_t> pids_;
  std::vector<std::string> addresses_;
  std::vector<std::string> temp_dirs_;
};

}  // namespace dnnsplit::node
