#include "client.h"

#include <chrono>
#include <limits>

#include "dnnsplit/error.h"
#include "wire_proto.h"

namespace dnnsplit::orchestrator {

namespace {

constexpr size_t kUploadChunkBytes = 1 << 20;
constexpr double kUploadBytesPerSecond = 10e6;  // deadline allowance for large stage files

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

}  // namespace

std::string status_text(const grpc::Status& status) {
  return std::string(code_name(status.error_code())) + ": " + status.error_message();
}

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address, int64_t max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(max_message_bytes));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

NodeClient::NodeClient(std::string address, int64_t max_message_bytes, double call_timeout_s)
    : address_(std::move(address)),
      call_timeout_s_(call_timeout_s),
      channel_(make_channel(address_, max_message_bytes)),
      stub_(v1::Node::NewStub(channel_)) {}

void NodeClient::set_deadline(grpc::ClientContext& context, double seconds) const {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds)));
}

void NodeClient::fail(const std::string& call, const grpc::Status& status) const {
  const bool unreachable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  throw Error("node " + address_ + (unreachable ? " is unreachable (" : ": " + call + " failed (") + status_text(status) +
              ")");
}

v1::StatusReply NodeClient::status(int samples) {
  v1::StatusReply best;
  int64_t best_rtt = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < std::max(1, samples); ++i) {
    grpc::ClientContext context;
    set_deadline(context, call_timeout_s_);
    v1::StatusReply reply;
    const int64_t t0 = steady_now_ns();
    const grpc::Status s = stub_->Status(&context, v1::StatusRequest(), &reply);
    const int64_t t1 = steady_now_ns();
    if (!s.ok()) fail("Status", s);
    if (t1 - t0 < best_rtt) {
      best_rtt = t1 - t0;
      best = reply;
      clock_offset_ns_ = reply.clock_ns() - (t0 + (t1 - t0) / 2);
    }
  }
  return best;
}

std::vector<v1::StageInfo> NodeClient::list() {
  grpc::ClientContext context;
  set_deadline(context, call_timeout_s_);
  v1::ListStagesReply reply;
  const grpc::Status s = stub_->ListStages(&context, v1::ListStagesRequest(), &reply);
  if (!s.ok()) fail("ListStages", s);
  return {reply.stages().begin(), reply.stages().end()};
}

int64_t NodeClient::upload(const std::string& bytes, const std::string& sha256, const std::string& name) {
  grpc::ClientContext context;
  set_deadline(context, call_timeout_s_ + static_cast<double>(bytes.size()) / kUploadBytesPerSecond);
  v1::UploadReply reply;
  auto writer = stub_->UploadStage(&context, &reply);
  int64_t sent = 0;
  size_t offset = 0;
  bool first = true;
  bool ok = true;
  while (ok && (first || offset < bytes.size())) {
    v1::UploadChunk chunk;
    if (first) {
      auto* h = chunk.mutable_header();
      h->set_name(name);
      h->set_sha256(sha256);
      h->set_size_bytes(bytes.size());
      first = false;
    }
    const size_t n = std::min(kUploadChunkBytes, bytes.size() - offset);
    chunk.set_data(bytes.substr(offset, n));
    offset += n;
    sent += wire::message_wire_bytes(chunk);
    ok = writer->Write(chunk);
  }
  writer->WritesDone();
  const grpc::Status s = writer->Finish();
  if (!s.ok()) {
    throw Error("node " + address_ + ": upload of " + name + " failed (" + status_text(s) + ")");
  }
  return sent;
}

v1::LoadStageReply NodeClient::load(const v1::StageRef& stage) {
  grpc::ClientContext context;
  set_deadline(context, call_timeout_s_ + stage.timing().reconfiguration_s());
  v1::LoadStageReply reply;
  v1::LoadStageRequest request;
  *request.mutable_stage() = stage;
  const grpc::Status s = stub_->LoadStage(&context, request, &reply);
  if (!s.ok()) {
    throw Error("node " + address_ + ": loading stage " + std::to_string(stage.index()) + " failed (" + status_text(s) + ")");
  }
  return reply;
}

}  // namespace dnnsplit::orchestrator
