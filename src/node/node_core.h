// The node without its gRPC face: store, backend, board (device), counters and clock. The
// service classes only translate between proto messages and these calls.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend.h"
#include "device.h"
#include "dnnsplit/node.h"
#include "store.h"

namespace grpc {
class Channel;
}

namespace dnnsplit::node {

struct CounterValues {
  uint64_t loads = 0, batches = 0, images = 0, bytes_received = 0, bytes_sent = 0, streams = 0, failed_streams = 0;
  double reconfig_measured_s = 0, reconfig_modelled_s = 0, compute_measured_s = 0, compute_modelled_s = 0,
         link_modelled_s = 0;
};

struct LoadOutcome {
  bool already_loaded = false;
  int64_t start_ns = 0, end_ns = 0;
  double modelled_s = 0;
};

struct ComputeOutcome {
  InferOutput output;
  int64_t start_ns = 0, end_ns = 0;
};

class NodeCore {
 public:
  NodeCore(const NodeOptions& options, std::string name);

  // The node's name in messages: its bound address unless --name was given. Set once the
  // port is known, possibly after the first calls have started, hence the lock.
  std::string name() const;
  void set_name(const std::string& name);
  const NodeOptions& options() const { return options_; }
  StageStore& store() { return store_; }
  Device& device() { return device_; }
  const Backend& backend() const { return *backend_; }

  // The stored stage as the backend will get it. Throws Error (naming the stage) when it is not
  // stored, not a runnable model, planned for another board, or not hostable by the backend.
  StageImage prepare(const std::string& sha256, int index, const StageTiming& timing);

  // Waits for the ticket's turn on the board and reconfigures when needed. nullopt when
  // `abandon` turned true first. Throws what the backend throws while loading.
  std::optional<LoadOutcome> acquire(uint64_t ticket, const StageImage& stage, const std::function<bool()>& abandon);
  void release() { device_.release(); }

  // Runs a batch on the loaded stage (the caller holds a grant for it): one batch at a time,
  // as one board computes one batch at a time.
  ComputeOutcome compute(const StageImage& stage, const std::vector<Tensor>& inputs, int64_t images);

  // Batches waiting for the board across all streams; false when `bytes` more would cross the
  // node's limit (the caller then fails its stream).
  bool reserve_buffer(int64_t bytes);
  void free_buffer(int64_t bytes);

  // A cached channel to another node (for forwarding), with the node's message limits.
  std::shared_ptr<grpc::Channel> channel_to(const std::string& address);

  void count(const std::function<void(CounterValues&)>& update);
  CounterValues counters() const;
  int loaded_index() const;

  static int64_t now_ns();

 private:
  NodeOptions options_;
  mutable std::mutex name_mutex_;
  std::string name_;
  StageStore store_;
  std::unique_ptr<Backend> backend_;
  Device device_;
  std::mutex compute_mutex_;
  std::atomic<int64_t> buffered_{0};
  mutable std::mutex counters_mutex_;
  CounterValues counters_;
  int loaded_index_ = -1;
  std::mutex channels_mutex_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
};

}  // namespace dnnsplit::node
