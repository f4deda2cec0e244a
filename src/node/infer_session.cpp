#include "infer_session.h"

#include <condition_variable>
#include <deque>
#include <set>
#include <thread>

#include "dnnsplit/error.h"
#include "wire_proto.h"

namespace dnnsplit::node {

StageTiming timing_from_proto(const v1::StageTiming& p) {
  return {p.board(), p.clock_hz(), p.bottleneck_cycles(), p.critical_path_cycles(), p.reconfiguration_s(),
          p.link_bits_per_s(), p.link_latency_s()};
}

namespace {

using Downstream = grpc::ClientReaderWriter<v1::InferRequest, v1::InferReply>;
using Clock = std::chrono::steady_clock;

// How long a failed stream waits for its caller to half-close after the Failure notice before
// it cancels the call (a caller that ignores the notice must not hold the node).
constexpr auto kCallerDrainTimeout = std::chrono::seconds(5);

struct Incoming {
  v1::Batch batch;
  int64_t received_ns = 0;
  int64_t bytes = 0;
};

struct Outgoing {
  v1::Batch batch;
  v1::HopRecord record;
};

class Session {
 public:
  Session(NodeCore& core, grpc::ServerContext* context, UpstreamStream* up) : core_(core), ctx_(context), up_(up) {}
  grpc::Status run();

 private:
  grpc::Status open();
  grpc::Status open_downstream(const v1::Hop& hop, const v1::Hop& next, std::vector<std::string>& chain);
  void process();
  void handle(Incoming& item);
  void reader_loop();
  void sender_loop();
  void relay_loop();
  grpc::Status finish();

  void fail(grpc::StatusCode code, const std::string& message, const std::string& origin);
  void adopt_downstream_status(const grpc::Status& status);
  bool stopping() const { return failed_.load() || down_broken_.load(); }
  bool write_up(const v1::InferReply& reply);
  std::string where() const {
    return "node " + core_.name() + ", stage " + std::to_string(stage_.index >= 0 ? stage_.index : open_index_);
  }

  NodeCore& core_;
  grpc::ServerContext* ctx_;
  UpstreamStream* up_;
  std::mutex up_mutex_;  // a sync stream allows one writer at a time

  v1::StreamOpen open_;
  int open_index_ = -1;
  StageImage stage_;
  std::vector<wire::TensorSpec> in_specs_, out_specs_;
  uint64_t ticket_ = 0;
  bool ticket_live_ = false;
  bool granted_ = false;

  std::unique_ptr<grpc::ClientContext> down_ctx_;
  std::unique_ptr<Downstream> down_;
  std::string next_address_;
  int next_index_ = -1;
  std::atomic<bool> down_broken_{false};   // the next hop ended, failed or stopped reading
  std::atomic<bool> writes_done_{false};

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Incoming> inbox_;
  bool input_ended_ = false;
  bool reader_done_ = false;
  std::deque<Outgoing> outbox_;
  bool output_closed_ = false;
  std::set<uint64_t> sequences_;

  std::mutex failure_mutex_;
  std::atomic<bool> failed_{false};
  bool failure_sent_ = false;  // a Failure went (or was relayed) upstream
  grpc::Status failure_;
  std::string failure_origin_;

  std::thread reader_, sender_, relay_;
};

grpc::Status Session::run() {
  core_.count([](CounterValues& c) { ++c.streams; });
  grpc::Status status = open();
  if (status.ok()) {
    reader_ = std::thread([this] { reader_loop(); });
    if (down_) relay_ = std::thread([this] { relay_loop(); });
    sender_ = std::thread([this] { sender_loop(); });
    process();
  } else {
    std::lock_guard lock(failure_mutex_);
    failed_ = true;
    failure_ = status;
    if (failure_origin_.empty()) failure_origin_ = core_.name();
  }
  return finish();
}

grpc::Status Session::open() {
  v1::InferRequest first;
  if (!up_->Read(&first)) return {grpc::StatusCode::CANCELLED, "node " + core_.name() + ": the stream ended before StreamOpen"};
  if (!first.has_open()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "node " + core_.name() + ": an Infer stream must start with StreamOpen"};
  }
  open_ = first.open();
  if (open_.protocol_version() != wire::kProtocolVersion) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "node " + core_.name() + " speaks protocol version " + std::to_string(wire::kProtocolVersion) +
                ", the caller " + std::to_string(open_.protocol_version())};
  }
  if (open_.hops_size() == 0) return {grpc::StatusCode::INVALID_ARGUMENT, "node " + core_.name() + ": StreamOpen names no hop"};
  const v1::Hop& hop = open_.hops(0);
  open_index_ = hop.stage().index();
  if (!core_.store().contains(hop.stage().sha256())) {
    return {grpc::StatusCode::NOT_FOUND, where() + ": stage file " + hop.stage().sha256() +
                                             " is not in the node's store (upload it first)"};
  }
  try {
    stage_ = core_.prepare(hop.stage().sha256(), hop.stage().index(), timing_from_proto(hop.stage().timing()));
    const ir::Graph& g = *stage_.graph;
    in_specs_ = wire::specs_from_proto(open_.inputs(), where() + ", stream inputs");
    out_specs_ = wire::specs_from_proto(hop.outputs(), where() + ", stream outputs");
    check(in_specs_.size() == g.inputs.size(), where() + ": the stream carries " + std::to_string(in_specs_.size()) +
                                                   " tensors, the stage file has " + std::to_string(g.inputs.size()) +
                                                   " inputs");
    for (size_t i = 0; i < in_specs_.size(); ++i) {
      const auto expected = wire::spec_from_tensor_info(g.tensor(g.inputs[i]));
      const std::string diff = wire::spec_difference(expected, in_specs_[i]);
      check(diff.empty(), where() + ": input " + std::to_string(i) + ": " + diff);
      in_specs_[i].elements_per_image();
    }
    check(out_specs_.size() == g.outputs.size(), where() + ": the stream expects " + std::to_string(out_specs_.size()) +
                                                     " outputs, the stage file has " + std::to_string(g.outputs.size()));
    for (size_t k = 0; k < out_specs_.size(); ++k) {
      // The quantized type of what is sent is the plan's (it is checked value by value when packing).
      auto expected = wire::spec_from_tensor_info(g.tensor(g.outputs[k]));
      expected.quant = out_specs_[k].quant;
      const std::string diff = wire::spec_difference(expected, out_specs_[k]);
      check(diff.empty(), where() + ": output " + std::to_string(k) + ": " + diff);
      out_specs_[k].elements_per_image();
    }
  } catch (const Error& e) {
    return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
  }
  ticket_ = core_.device().enqueue(stage_.sha256);
  ticket_live_ = true;

  std::vector<std::string> chain{core_.name()};
  if (open_.hops_size() > 1) {
    grpc::Status s = open_downstream(hop, open_.hops(1), chain);
    if (!s.ok()) return s;
  }
  v1::InferReply ready;
  for (const auto& n : chain) ready.mutable_ready()->add_chain(n);
  if (!write_up(ready)) return {grpc::StatusCode::CANCELLED, where() + ": the caller went away"};
  return grpc::Status::OK;
}

grpc::Status Session::open_downstream(const v1::Hop& hop, const v1::Hop& next, std::vector<std::string>& chain) {
  next_address_ = next.address();
  next_index_ = next.stage().index();
  if (next_address_.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, where() + ": the next hop has no address"};
  auto stub = v1::Node::NewStub(core_.channel_to(next_address_));
  down_ctx_ = std::make_unique<grpc::ClientContext>();
  if (ctx_->deadline() != std::chrono::system_clock::time_point::max()) down_ctx_->set_deadline(ctx_->deadline());
  down_ = stub->Infer(down_ctx_.get());
  v1::InferRequest request;
  auto* o = request.mutable_open();
  o->set_protocol_version(wire::kProtocolVersion);
  o->set_run_id(open_.run_id());
  for (int i = 1; i < open_.hops_size(); ++i) *o->add_hops() = open_.hops(i);
  *o->mutable_inputs() = hop.outputs();
  o->set_caller(core_.name());
  v1::InferReply reply;
  const bool ok = down_->Write(request) && down_->Read(&reply);
  if (ok && reply.has_ready()) {
    chain.insert(chain.end(), reply.ready().chain().begin(), reply.ready().chain().end());
    return grpc::Status::OK;
  }
  if (ok) down_ctx_->TryCancel();  // anything but ready first is a broken peer
  // The refusal's status (with the failing node's name when it came from a node).
  down_->WritesDone();
  grpc::Status status = down_->Finish();
  down_.reset();
  if (ok && status.ok()) status = {grpc::StatusCode::INTERNAL, "node " + next_address_ + " did not answer StreamOpen with ready"};
  const auto& trailing = down_ctx_->GetServerTrailingMetadata();
  if (trailing.count(kFailingNodeKey) != 0) {
    failure_origin_ = std::string(trailing.find(kFailingNodeKey)->second.data(), trailing.find(kFailingNodeKey)->second.size());
    return status;
  }
  failure_origin_ = next_address_;
  return {status.error_code() == grpc::StatusCode::OK ? grpc::StatusCode::UNAVAILABLE : status.error_code(),
          where() + ": the next node " + next_address_ + " (stage " + std::to_string(next_index_) +
              ") is unreachable or refused the stream: " + status.error_message()};
}

void Session::process() {
  auto abandon = [this] { return stopping() || ctx_->IsCancelled(); };
  std::optional<LoadOutcome> load;
  try {
    load = core_.acquire(ticket_, stage_, abandon);
  } catch (const Error& e) {
    ticket_live_ = false;
    fail(grpc::StatusCode::FAILED_PRECONDITION, where() + ": reconfiguration failed: " + e.what(), core_.name());
    return;
  }
  ticket_live_ = false;
  if (!load) return;
  granted_ = true;
  v1::InferReply reply;
  auto* r = reply.mutable_load();
  r->set_stage_index(stage_.index);
  r->set_node(core_.name());
  r->set_already_loaded(load->already_loaded);
  r->set_start_ns(load->start_ns);
  r->set_end_ns(load->end_ns);
  r->set_modelled_s(load->already_loaded ? 0.0 : load->modelled_s);
  if (!write_up(reply)) {
    fail(grpc::StatusCode::CANCELLED, where() + ": the caller went away", core_.name());
    return;
  }
  while (true) {
    Incoming item;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !inbox_.empty() || input_ended_ || stopping(); });
      if (stopping()) return;
      if (inbox_.empty()) break;
      item = std::move(inbox_.front());
      inbox_.pop_front();
    }
    core_.free_buffer(item.bytes);
    try {
      handle(item);
    } catch (const Error& e) {
      fail(grpc::StatusCode::INVALID_ARGUMENT, where() + ", batch " + std::to_string(item.batch.sequence()) + ": " + e.what(),
           core_.name());
      return;
    } catch (const std::exception& e) {
      fail(grpc::StatusCode::INTERNAL, where() + ", batch " + std::to_string(item.batch.sequence()) + ": " + e.what(),
           core_.name());
      return;
    }
  }
  // Input is over: the board is free for the next stream while the outputs are still sent.
  granted_ = false;
  core_.release();
}

void Session::handle(Incoming& item) {
  const v1::Batch& batch = item.batch;
  const auto images = static_cast<int64_t>(batch.images());
  const std::string what = where() + ", batch " + std::to_string(batch.sequence());
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < in_specs_.size(); ++i) {
    inputs.push_back(wire::unpack_tensor(in_specs_[i], batch.tensors(static_cast<int>(i)), images, what));
  }
  ComputeOutcome done = core_.compute(stage_, inputs, images);
  check(done.output.outputs.size() == out_specs_.size(), what + ": the stage produced " +
                                                             std::to_string(done.output.outputs.size()) + " outputs, " +
                                                             std::to_string(out_specs_.size()) + " expected");
  Outgoing out;
  out.batch.set_sequence(batch.sequence());
  out.batch.set_images(batch.images());
  int64_t payload = 0;
  for (size_t k = 0; k < out_specs_.size(); ++k) {
    std::string packed = wire::pack_tensor(out_specs_[k], done.output.outputs[k], what + ", output");
    payload += static_cast<int64_t>(packed.size());
    out.batch.add_tensors(std::move(packed));
  }
  auto& rec = out.record;
  rec.set_stage_index(stage_.index);
  rec.set_node(core_.name());
  rec.set_sequence(batch.sequence());
  rec.set_images(batch.images());
  rec.set_received_ns(item.received_ns);
  rec.set_compute_start_ns(done.start_ns);
  rec.set_compute_end_ns(done.end_ns);
  rec.set_compute_modelled_s(done.output.modelled_s);
  rec.set_payload_bytes_out(static_cast<uint64_t>(payload));
  std::lock_guard lock(mutex_);
  outbox_.push_back(std::move(out));
  changed_.notify_all();
}

void Session::reader_loop() {
  v1::InferRequest request;
  bool ended_normally = false;
  while (up_->Read(&request)) {
    if (stopping()) continue;  // drain until the caller half-closes after our Failure notice
    const int64_t bytes = wire::message_wire_bytes(request);
    core_.count([&](CounterValues& c) { c.bytes_received += static_cast<uint64_t>(bytes); });
    std::string problem;
    if (!request.has_batch()) {
      problem = "a second StreamOpen arrived on an open stream";
    } else if (request.batch().images() == 0) {
      problem = "batch " + std::to_string(request.batch().sequence()) + " has no images";
    } else if (request.batch().tensors_size() != static_cast<int>(in_specs_.size())) {
      problem = "batch " + std::to_string(request.batch().sequence()) + " carries " +
                std::to_string(request.batch().tensors_size()) + " tensors, the stage has " +
                std::to_string(in_specs_.size()) + " inputs";
    } else if (!sequences_.insert(request.batch().sequence()).second) {
      problem = "batch " + std::to_string(request.batch().sequence()) + " arrived twice";
    }
    if (!problem.empty()) {
      fail(grpc::StatusCode::INVALID_ARGUMENT, where() + ": " + problem, core_.name());
      continue;
    }
    if (!core_.reserve_buffer(bytes)) {
      fail(grpc::StatusCode::RESOURCE_EXHAUSTED,
           where() + ": more than " + std::to_string(core_.options().max_buffered_bytes) +
               " bytes of batches are waiting for the board",
           core_.name());
      continue;
    }
    std::lock_guard lock(mutex_);
    inbox_.push_back({std::move(*request.mutable_batch()), NodeCore::now_ns(), bytes});
    changed_.notify_all();
  }
  ended_normally = !ctx_->IsCancelled();
  if (!ended_normally) fail(grpc::StatusCode::CANCELLED, where() + ": the caller cancelled the stream", core_.name());
  std::lock_guard lock(mutex_);
  input_ended_ = true;
  reader_done_ = true;
  changed_.notify_all();
}

void Session::sender_loop() {
  const bool paced = core_.backend().paced();
  while (true) {
    Outgoing item;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !outbox_.empty() || output_closed_ || stopping(); });
      if (stopping() || outbox_.empty()) return;
      item = std::move(outbox_.front());
      outbox_.pop_front();
    }
    const auto payload = static_cast<int64_t>(item.record.payload_bytes_out());
    const double link_s = core_.backend().link_seconds(stage_.timing, payload);
    const int64_t start_ns = NodeCore::now_ns();
    if (paced && link_s > 0) {
      // Held back for the modelled transfer time, so the next hop sees it when the board would.
      std::unique_lock lock(mutex_);
      changed_.wait_until(lock, Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(link_s)),
                          [&] { return stopping(); });
      if (stopping()) return;
    }
    int64_t message_bytes = 0;
    bool ok = false;
    if (down_) {
      v1::InferRequest request;
      *request.mutable_batch() = std::move(item.batch);
      message_bytes = wire::message_wire_bytes(request);
      ok = down_->Write(request);
      if (!ok) {
        down_broken_ = true;
        std::lock_guard lock(mutex_);
        changed_.notify_all();
        return;
      }
    } else {
      v1::InferReply reply;
      *reply.mutable_result() = std::move(item.batch);
      message_bytes = wire::message_wire_bytes(reply);
      ok = write_up(reply);
      if (!ok) {
        fail(grpc::StatusCode::CANCELLED, where() + ": the caller went away", core_.name());
        return;
      }
    }
    core_.count([&](CounterValues& c) {
      c.bytes_sent += static_cast<uint64_t>(message_bytes);
      c.link_modelled_s += link_s;
    });
    auto& rec = item.record;
    rec.set_send_start_ns(start_ns);
    rec.set_send_end_ns(NodeCore::now_ns());
    rec.set_link_modelled_s(link_s);
    rec.set_message_bytes_out(static_cast<uint64_t>(message_bytes));
    v1::InferReply reply;
    *reply.mutable_hop() = std::move(rec);
    if (!write_up(reply)) {
      fail(grpc::StatusCode::CANCELLED, where() + ": the caller went away", core_.name());
      return;
    }
  }
}

void Session::relay_loop() {
  v1::InferReply reply;
  while (down_->Read(&reply)) {
    if (reply.has_failure()) {
      {
        std::lock_guard lock(failure_mutex_);
        failure_sent_ = true;  // the notice goes up as it is; the status follows at Finish
      }
      down_broken_ = true;
      {
        std::lock_guard lock(mutex_);
        changed_.notify_all();
      }
      core_.device().poke();
    }
    if (!write_up(reply)) {
      fail(grpc::StatusCode::CANCELLED, where() + ": the caller went away", core_.name());
      return;
    }
  }
  if (!writes_done_) {
    down_broken_ = true;  // the next hop ended before we finished sending: finish() asks why
    std::lock_guard lock(mutex_);
    changed_.notify_all();
    core_.device().poke();
  }
}

void Session::fail(grpc::StatusCode code, const std::string& message, const std::string& origin) {
  bool send_notice = false;
  {
    std::lock_guard lock(failure_mutex_);
    if (!failed_) {
      failure_ = {code, message};
      failure_origin_ = origin;
      failed_ = true;
      send_notice = !failure_sent_;
      failure_sent_ = true;
    }
  }
  {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }
  core_.device().poke();
  // A failure here (not one reported by the next hop) ends the rest of the chain.
  if (down_ctx_ && !down_broken_) down_ctx_->TryCancel();
  if (send_notice) {
    v1::InferReply reply;
    auto* f = reply.mutable_failure();
    f->set_code(static_cast<int>(code));
    f->set_message(message);
    f->set_node(origin);
    write_up(reply);
  }
}

void Session::adopt_downstream_status(const grpc::Status& status) {
  const auto& trailing = down_ctx_->GetServerTrailingMetadata();
  auto it = trailing.find(kFailingNodeKey);
  if (it != trailing.end()) {
    std::string origin(it->second.data(), it->second.size());
    {
      std::lock_guard lock(failure_mutex_);
      if (failed_ && failure_origin_ == core_.name()) return;  // our own failure came first
      failure_ = status;
      failure_origin_ = origin;
      failed_ = true;
    }
    // Its Failure notice went up through the relay already.
    return;
  }
  std::lock_guard lock(failure_mutex_);
  if (failed_ && failure_origin_ == core_.name()) return;
  // No node stood behind this status: the link or the node itself is gone.
  failure_ = {status.error_code() == grpc::StatusCode::OK ? grpc::StatusCode::INTERNAL : grpc::StatusCode::UNAVAILABLE,
              where() + ": the next node " + next_address_ + " (stage " + std::to_string(next_index_) +
                  ") is unreachable or died: " + status.error_message()};
  failure_origin_ = next_address_;
  failed_ = true;
}

grpc::Status Session::finish() {
  {
    std::lock_guard lock(mutex_);
    output_closed_ = true;
    changed_.notify_all();
  }
  if (sender_.joinable()) sender_.join();
  if (down_) {
    if (!failed_ || down_broken_) {
      writes_done_ = true;
      down_->WritesDone();  // a failed next hop waits for this to end its stream
    }
    if (relay_.joinable()) relay_.join();
    const grpc::Status ds = down_->Finish();
    if (!ds.ok()) {
      adopt_downstream_status(ds);
    } else if (down_broken_ && !failed_) {
      std::lock_guard lock(failure_mutex_);
      failure_ = {grpc::StatusCode::INTERNAL, where() + ": the next node " + next_address_ + " (stage " +
                                                  std::to_string(next_index_) + ") ended its stream before all batches were sent"};
      failure_origin_ = next_address_;
      failed_ = true;
    }
  }
  if (failed_) {
    bool notice = false;
    {
      std::lock_guard lock(failure_mutex_);
      notice = !failure_sent_;
      failure_sent_ = true;
    }
    if (notice) {
      v1::InferReply reply;
      auto* f = reply.mutable_failure();
      f->set_code(static_cast<int>(failure_.error_code()));
      f->set_message(failure_.error_message());
      f->set_node(failure_origin_);
      write_up(reply);
    }
    if (reader_.joinable()) {
      std::unique_lock lock(mutex_);
      if (!changed_.wait_for(lock, kCallerDrainTimeout, [&] { return reader_done_; })) ctx_->TryCancel();
    }
  }
  if (reader_.joinable()) reader_.join();
  if (ticket_live_) core_.device().cancel(ticket_);
  if (granted_) core_.release();
  for (const auto& item : inbox_) core_.free_buffer(item.bytes);
  inbox_.clear();
  if (!failed_) return grpc::Status::OK;
  core_.count([](CounterValues& c) { ++c.failed_streams; });
  ctx_->AddTrailingMetadata(kFailingNodeKey, failure_origin_);
  return failure_;
}

bool Session::write_up(const v1::InferReply& reply) {
  std::lock_guard lock(up_mutex_);
  return up_->Write(reply);
}

}  // namespace

grpc::Status run_infer_session(NodeCore& core, grpc::ServerContext* context, UpstreamStream* stream) {
  Session session(core, context, stream);
  return session.run();
}

}  // namespace dnnsplit::node
