#include "run_state.h"

#include "client.h"
#include "dnnsplit/error.h"

namespace dnnsplit::orchestrator {

RunState::RunState(std::vector<wire::TensorSpec> output_specs, size_t batches, int64_t images,
                   std::function<void(int64_t, int64_t)> progress)
    : results(batches),
      have(batches, false),
      timing(batches),
      output_specs_(std::move(output_specs)),
      images_total_(images),
      progress_(std::move(progress)) {}

void RunState::add_result(const v1::Batch& batch, int64_t expected_images, int64_t message_bytes,
                          const std::string& via) {
  const uint64_t seq = batch.sequence();
  const std::string what = "result of batch " + std::to_string(seq) + " from " + via;
  check(seq < results.size(), what + ": no such batch was sent");
  check(static_cast<int64_t>(batch.images()) == expected_images,
        what + ": " + std::to_string(batch.images()) + " images, " + std::to_string(expected_images) + " were sent");
  check(batch.tensors_size() == static_cast<int>(output_specs_.size()),
        what + ": " + std::to_string(batch.tensors_size()) + " tensors, the model has " +
            std::to_string(output_specs_.size()) + " outputs");
  std::vector<Tensor> outputs;
  int64_t payload = 0;
  for (size_t k = 0; k < output_specs_.size(); ++k) {
    const std::string& bytes = batch.tensors(static_cast<int>(k));
    payload += static_cast<int64_t>(bytes.size());
    outputs.push_back(wire::unpack_tensor(output_specs_[k], bytes, expected_images, what));
  }
  const int64_t now = steady_now_ns();
  int64_t done = 0;
  {
    std::lock_guard lock(mutex_);
    check(!have[seq], what + ": batch " + std::to_string(seq) + " came back twice");
    have[seq] = true;
    results[seq] = std::move(outputs);
    timing[seq].received_ns = now;
    bytes_received += message_bytes;
    payload_received += payload;
    images_done_ += expected_images;
    done = images_done_;
    changed_.notify_all();
  }
  if (progress_) progress_(done, images_total_);
}

void RunState::add_hop(const v1::HopRecord& record) {
  std::lock_guard lock(mutex_);
  hops.push_back(record);
}

void RunState::add_load(const v1::LoadRecord& record) {
  std::lock_guard lock(mutex_);
  loads.push_back(record);
}

void RunState::sent(uint64_t sequence, int64_t start_ns, int64_t end_ns, int64_t payload, int64_t message_bytes) {
  std::lock_guard lock(mutex_);
  timing[sequence].send_start_ns = start_ns;
  timing[sequence].send_end_ns = end_ns;
  payload_sent += payload;
  bytes_sent += message_bytes;
}

void RunState::fail(const std::string& message) {
  std::lock_guard lock(mutex_);
  if (!failed_) {
    failed_ = true;
    error_ = message;
  }
  changed_.notify_all();
}

bool RunState::failed() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

std::string RunState::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

void RunState::wait_for_change(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout);
}

}  // namespace dnnsplit::orchestrator
