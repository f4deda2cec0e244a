// The orchestrator's view of one node: control calls with deadlines and errors that name the
// node; the stub for data streams.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "dnnsplit/v1/node.grpc.pb.h"

namespace dnnsplit::orchestrator {

class NodeClient {
 public:
  NodeClient(std::string address, int64_t max_message_bytes, double call_timeout_s);

  const std::string& address() const { return address_; }
  v1::Node::Stub& stub() { return *stub_; }

  // Status; also estimates the node's clock offset (node steady clock - ours) from the call
  // with the shortest round trip of `samples`.
  v1::StatusReply status(int samples = 1);
  std::vector<v1::StageInfo> list();
  // Streams the file in 1 MiB chunks; returns the bytes sent (message bytes incl. framing).
  int64_t upload(const std::string& bytes, const std::string& sha256, const std::string& name);
  v1::LoadStageReply load(const v1::StageRef& stage);

  int64_t clock_offset_ns() const { return clock_offset_ns_; }

 private:
  void set_deadline(grpc::ClientContext& context, double seconds) const;
  [[noreturn]] void fail(const std::string& call, const grpc::Status& status) const;

  std::string address_;
  double call_timeout_s_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Node::Stub> stub_;
  int64_t clock_offset_ns_ = 0;
};

// Channel arguments both sides use: message limits and keepalive (dead peers noticed fast).
std::shared_ptr<grpc::Channel> make_channel(const std::string& address, int64_t max_message_bytes);
// "UNAVAILABLE: failed to connect ..." for messages.
std::string status_text(const grpc::Status& status);
int64_t steady_now_ns();

}  // namespace dnnsplit::orchestrator
