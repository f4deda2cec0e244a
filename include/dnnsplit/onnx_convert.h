// Conversions between libonnx protobuf objects and IR values. Used by the importer/exporter and
// by tests that read ONNX's own test data (TensorProto .pb files).
#pragma once

#include <string>

#include "dnnsplit/ir.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit {

// Reads raw_data or the typed fields, any supported element type. Throws Error naming `what`.
Tensor tensor_from_onnx(const onnx::TensorProto& proto, const std::string& what);
onnx::TensorProto tensor_to_onnx(const Tensor& tensor, const std::string& name);
// Parses a serialized TensorProto file (as in ONNX's test_data_set_N/input_K.pb).
Tensor read_tensor_proto_file(const std::string& path);

// Attributes are converted to the IR's typed variant; graph-valued attributes are rejected.
ir::Node node_from_onnx(const onnx::NodeProto& proto, ir::Graph& graph);
onnx::NodeProto node_to_onnx(const ir::Node& node, const ir::Graph& graph);

}  // namespace dnnsplit
