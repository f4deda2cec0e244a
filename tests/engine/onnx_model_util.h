// Test helpers: read ONNX models with libonnx's protobuf classes and turn them into IR graphs
// without the importer (no normalisation, no quantized types), so engine tests do not depend on
// model_io.
#pragma once

#include <optional>
#include <string>

#include "dnnsplit/ir.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit::engine::test_util {

onnx::ModelProto read_model_proto(const std::string& path);
// The model's opset for the default ("" / "ai.onnx") domain.
int64_t default_opset(const onnx::ModelProto& model);
// Why the model's graph inputs/outputs cannot be held in a dnnsplit::Tensor (float16, bfloat16,
// string, sequence or optional types), or nullopt when they can.
std::optional<std::string> unrepresentable_types(const onnx::ModelProto& model);
// Initializers become constants, graph inputs/outputs keep their declared type and shape
// (-1 for symbolic extents), nodes are converted with node_from_onnx.
ir::Graph graph_from_model(const onnx::ModelProto& model);

}  // namespace dnnsplit::engine::test_util
