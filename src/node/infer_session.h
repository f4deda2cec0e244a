// One Infer stream at a node: validates the StreamOpen, opens the stream to the next hop,
// waits for the board, then decodes, computes, encodes and sends every batch. Threads: the
// gRPC handler thread runs the stage; a reader buffers incoming batches (so a caller is never
// blocked while this stream waits for the board); a sender paces and writes outputs; a relay
// copies the next hop's replies back to the caller.
#pragma once

#include <grpcpp/grpcpp.h>

#include "dnnsplit/v1/node.grpc.pb.h"
#include "node_core.h"

namespace dnnsplit::node {

using UpstreamStream = grpc::ServerReaderWriter<v1::InferReply, v1::InferRequest>;

// Runs the whole stream; the returned status names this node and the stage (or passes on the
// status of the node further down that failed).
grpc::Status run_infer_session(NodeCore& core, grpc::ServerContext* context, UpstreamStream* stream);

// Trailing-metadata key a failing node sets to its name, so upstream nodes pass its status on
// unchanged instead of blaming the link.
inline constexpr const char* kFailingNodeKey = "dnnsplit-failing-node";

// StageTiming <-> proto.
StageTiming timing_from_proto(const v1::StageTiming& proto);

}  // namespace dnnsplit::node
