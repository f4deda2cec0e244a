#include "chain_stream.h"

#include "dnnsplit/error.h"
#include "wire_proto.h"

namespace dnnsplit::orchestrator {

namespace {
constexpr const char* kFailingNodeKey = "dnnsplit-failing-node";  // set by nodes (infer_session.h)
}

ChainStream::ChainStream(RunState& run, NodeClient& first, v1::StreamOpen open, std::vector<const PackedBatch*> batches,
                         int window, std::chrono::system_clock::time_point deadline)
    : run_(run), first_(first), open_(std::move(open)), batches_(std::move(batches)), window_(std::max(1, window)) {
  context_ = std::make_unique<grpc::ClientContext>();
  context_->set_deadline(deadline);
  for (const auto* b : batches_) owed_[b->sequence] = b->images;
}

ChainStream::~ChainStream() { join(); }

std::string ChainStream::blame(const grpc::Status& status) const {
  const auto& trailing = context_->GetServerTrailingMetadata();
  if (trailing.count(kFailingNodeKey) != 0) return status.error_message();
  const int stage = open_.hops_size() > 0 ? open_.hops(0).stage().index() : 0;
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return "the run's deadline passed while node " + first_.address() + " (stage " + std::to_string(stage) +
           ") and the nodes after it were still working (" + status_text(status) + ")";
  }
  return "node " + first_.address() + " (stage " + std::to_string(stage) + ") is unreachable or died (" +
         status_text(status) + ")";
}

bool ChainStream::open() {
  stream_ = first_.stub().Infer(context_.get());
  v1::InferRequest request;
  *request.mutable_open() = open_;
  v1::InferReply reply;
  const bool ok = stream_->Write(request) && stream_->Read(&reply);
  if (ok && reply.has_ready()) return true;
  if (ok && reply.has_failure()) {
    failure_seen_ = true;
    run_.fail(reply.failure().message());
  } else if (ok) {
    context_->TryCancel();
  }
  stream_->WritesDone();
  const grpc::Status status = stream_->Finish();
  joined_ = true;
  if (!failure_seen_) {
    run_.fail(status.ok() ? "node " + first_.address() + " did not accept the stream (no ready)" : blame(status));
  }
  return false;
}

void ChainStream::start() {
  reader_ = std::thread([this] { reader_loop(); });
  writer_ = std::thread([this] { writer_loop(); });
}

void ChainStream::writer_loop() {
  for (const PackedBatch* batch : batches_) {
    {
      std::unique_lock lock(mutex_);
      // Polls run_.failed(): another stream's failure does not notify this one.
      while (in_flight_ >= window_ && !reader_ended_ && !run_.failed()) {
        changed_.wait_for(lock, std::chrono::milliseconds(50));
      }
      if (reader_ended_ || run_.failed()) break;
      ++in_flight_;
    }
    const int64_t start = steady_now_ns();
    if (!stream_->Write(batch->request)) break;  // the reader learns why
    run_.sent(batch->sequence, start, steady_now_ns(), batch->payload_bytes, batch->message_bytes);
  }
  // Half-closing also tells a failed chain that it may end its streams.
  stream_->WritesDone();
}

void ChainStream::reader_loop() {
  v1::InferReply reply;
  const std::string via = "node " + first_.address();
  while (stream_->Read(&reply)) {
    if (reply.has_result()) {
      try {
        const uint64_t seq = reply.result().sequence();
        int64_t images = 0;
        {
          std::lock_guard lock(mutex_);
          auto it = owed_.find(seq);
          check(it != owed_.end(), "result of batch " + std::to_string(seq) + " from " + via +
                                       ": not a batch of this stream, or it came back twice");
          images = it->second;
          owed_.erase(it);
          --in_flight_;
          changed_.notify_all();
        }
        run_.add_result(reply.result(), images, wire::message_wire_bytes(reply), via);
      } catch (const Error& e) {
        run_.fail(e.what());
        context_->TryCancel();
      }
    } else if (reply.has_hop()) {
      run_.add_hop(reply.hop());
    } else if (reply.has_load()) {
      run_.add_load(reply.load());
    } else if (reply.has_failure()) {
      {
        std::lock_guard lock(mutex_);
        failure_seen_ = true;
      }
      run_.fail(reply.failure().message());
    }
  }
  std::lock_guard lock(mutex_);
  reader_ended_ = true;
  changed_.notify_all();
}

bool ChainStream::finished() const {
  std::lock_guard lock(mutex_);
  return reader_ended_ || joined_;
}

void ChainStream::join() {
  if (joined_) return;
  if (reader_.joinable()) reader_.join();
  if (writer_.joinable()) writer_.join();
  joined_ = true;
  if (!stream_) return;
  const grpc::Status status = stream_->Finish();
  if (!status.ok() && !failure_seen_) {
    run_.fail(blame(status));
  } else if (status.ok() && !owed_.empty() && !run_.failed()) {
    run_.fail("the stream through node " + first_.address() + " ended without the results of batch " +
              std::to_string(owed_.begin()->first) + " and " + std::to_string(owed_.size() - 1) + " more");
  }
}

}  // namespace dnnsplit::orchestrator
