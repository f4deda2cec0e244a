// What the streams of one run share: the packed input batches, the results as they come back,
// the nodes' timing records, byte counts and the first failure.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "dnnsplit/tensor.h"
#include "dnnsplit/v1/node.pb.h"
#include "dnnsplit/wire.h"

namespace dnnsplit::orchestrator {

struct PackedBatch {
  uint64_t sequence = 0;
  int64_t first_image = 0;
  int64_t images = 0;
  v1::InferRequest request;  // ready to write
  int64_t payload_bytes = 0;
  int64_t message_bytes = 0;
};

struct BatchTiming {
  int64_t send_start_ns = 0, send_end_ns = 0, received_ns = 0;  // client clock
};

class RunState {
 public:
  RunState(std::vector<wire::TensorSpec> output_specs, size_t batches, int64_t images,
           std::function<void(int64_t, int64_t)> progress);

  // Decodes and stores a result. Throws Error (the caller fails the run) when it is malformed,
  // unexpected or a duplicate.
  void add_result(const v1::Batch& batch, int64_t expected_images, int64_t message_bytes, const std::string& via);
  void add_hop(const v1::HopRecord& record);
  void add_load(const v1::LoadRecord& record);
  void sent(uint64_t sequence, int64_t start_ns, int64_t end_ns, int64_t payload, int64_t message_bytes);

  // Keeps the first failure; wakes everyone waiting.
  void fail(const std::string& message);
  bool failed() const;
  std::string error() const;
  // Waits until something happened (a result, a failure) or the timeout passed.
  void wait_for_change(std::chrono::milliseconds timeout);

  // Read after every stream has ended.
  std::vector<std::vector<Tensor>> results;  // by sequence
  std::vector<bool> have;
  std::vector<BatchTiming> timing;
  std::vector<v1::HopRecord> hops;
  std::vector<v1::LoadRecord> loads;
  int64_t bytes_sent = 0, bytes_received = 0, payload_sent = 0, payload_received = 0;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<wire::TensorSpec> output_specs_;
  int64_t images_total_;
  int64_t images_done_ = 0;
  std::function<void(int64_t, int64_t)> progress_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace dnnsplit::orchestrator
