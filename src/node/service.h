// The gRPC face of a node: translates proto messages to NodeCore calls and errors to statuses
// that name the node and the stage. No state of its own.
#pragma once

#include "dnnsplit/v1/node.grpc.pb.h"
#include "node_core.h"

namespace dnnsplit::node {

class NodeService final : public v1::Node::Service {
 public:
  explicit NodeService(NodeCore& core) : core_(core) {}

  grpc::Status ListStages(grpc::ServerContext* context, const v1::ListStagesRequest* request,
                          v1::ListStagesReply* reply) override;
  grpc::Status UploadStage(grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
                           v1::UploadReply* reply) override;
  grpc::Status LoadStage(grpc::ServerContext* context, const v1::LoadStageRequest* request,
                         v1::LoadStageReply* reply) override;
  grpc::Status Status(grpc::ServerContext* context, const v1::StatusRequest* request, v1::StatusReply* reply) override;
  grpc::Status Infer(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<v1::InferReply, v1::InferRequest>* stream) override;

 private:
  NodeCore& core_;
};

}  // namespace dnnsplit::node
