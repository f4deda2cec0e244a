// Conversions between the wire's C++ values and the generated proto messages. Shared by the
// node and the orchestrator (both speak proto/dnnsplit/v1/node.proto); not a public header.
#pragma once

#include <string>
#include <vector>

#include "dnnsplit/v1/node.pb.h"
#include "dnnsplit/wire.h"

namespace dnnsplit::wire {

v1::TensorSpec spec_to_proto(const TensorSpec& spec);
// Throws Error naming `what` for an element type or quantized type that cannot be valid.
TensorSpec spec_from_proto(const v1::TensorSpec& proto, const std::string& what);
std::vector<TensorSpec> specs_from_proto(const google::protobuf::RepeatedPtrField<v1::TensorSpec>& protos,
                                         const std::string& what);

// Bytes a message takes on a gRPC stream: serialized size plus the 5-byte message prefix.
inline int64_t message_wire_bytes(const google::protobuf::Message& message) {
  return static_cast<int64_t>(message.ByteSizeLong()) + kGrpcMessagePrefixBytes;
}

}  // namespace dnnsplit::wire
