// Reading and writing models: ONNX / QONNX / FINN-ONNX files <-> ir::Graph.
#pragma once

#include <string>

#include "dnnsplit/ir.h"

namespace dnnsplit {

// Registers schemas for the QONNX custom ops (Quant, IntQuant, BipolarQuant, Trunc,
// MultiThreshold) in every domain real tools use, so libonnx's checker and shape inference
// accept them. Idempotent and thread-safe.
void register_qonnx_schemas();

// Loads a model and normalises it: dynamic flatten chains folded to constants, weight Quant
// nodes on initializers folded into quantized constants, shapes and quantized types inferred
// for every tensor. Throws Error naming the file and, where it applies, the node and field.
ir::Graph import_model(const std::string& path);
ir::Graph import_model_from_bytes(const std::string& bytes, const std::string& name_for_messages);

// Writes the graph as a QONNX model that passes libonnx's checker and shape inference.
// Quantized constants are written back as initializer + Quant node, so FINN can consume them.
std::string export_model_to_bytes(const ir::Graph& graph);
void export_model(const ir::Graph& graph, const std::string& path);

// Runs libonnx's checker and strict shape inference on serialized model bytes; throws Error
// with the checker's message.
void check_model_bytes(const std::string& bytes, const std::string& name_for_messages);

}  // namespace dnnsplit
