// One Infer stream from the client to the first node of a chain: sends its batches with a
// bounded number in flight, collects results and records. A Failure notice from the chain (or
// a broken stream) fails the whole run with a message naming the node and the stage.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "client.h"
#include "run_state.h"

namespace dnnsplit::orchestrator {

class ChainStream {
 public:
  ChainStream(RunState& run, NodeClient& first, v1::StreamOpen open, std::vector<const PackedBatch*> batches,
              int window, std::chrono::system_clock::time_point deadline);
  ~ChainStream();
  ChainStream(const ChainStream&) = delete;
  ChainStream& operator=(const ChainStream&) = delete;

  // Opens the stream and waits until every hop has accepted it. false: the run was failed.
  bool open();
  void start();
  // True once the stream delivered everything it owes or stopped reading.
  bool finished() const;
  // Waits for both threads and collects the final status.
  void join();

 private:
  void writer_loop();
  void reader_loop();
  std::string blame(const grpc::Status& status) const;

  RunState& run_;
  NodeClient& first_;
  v1::StreamOpen open_;
  std::vector<const PackedBatch*> batches_;
  int window_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::InferRequest, v1::InferReply>> stream_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<uint64_t, int64_t> owed_;  // sequence -> images still to come back
  int in_flight_ = 0;
  bool reader_ended_ = false;
  bool failure_seen_ = false;
  bool joined_ = false;
  std::thread writer_, reader_;
};

}  // namespace dnnsplit::orchestrator
