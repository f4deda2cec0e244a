// Steps of import and export shared between the files of this component.
#pragma once

#include <string>

#include "dnnsplit/ir.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit::model_io {

// The graph as a ModelProto: quantized constants become initializer + Quant node, graph inputs
// with a QuantType get a quantization_annotation (finn_datatype plus dnnsplit_* keys).
onnx::ModelProto graph_to_proto(const ir::Graph& graph);

// Annotation keys carrying a graph input's full QuantType (FINN reads only finn_datatype).
inline constexpr const char* kAnnotationDatatype = "finn_datatype";
inline constexpr const char* kAnnotationScale = "dnnsplit_scale";
inline constexpr const char* kAnnotationZeroPoint = "dnnsplit_zero_point";
inline constexpr const char* kAnnotationChannelAxis = "dnnsplit_channel_axis";
inline constexpr const char* kAnnotationNarrow = "dnnsplit_narrow";

// Parses a FINN data type name (INT2, UINT8, BIPOLAR, BINARY, ...) into a QuantType with scale 1.
// Returns false for names that are not integer types (FLOAT32, ...).
bool parse_finn_datatype(const std::string& name, ir::QuantType& out);

// Normalisation (normalize.cpp), in the order import runs them:
// folds constant subgraphs (Constant nodes, Shape of static shapes, weight quantizers, dynamic
// flatten chains), keeps Reshape batch-agnostic, removes dead nodes.
void fold_constants(ir::Graph& graph);
// Fills every tensor's shape with ONNX's strict shape inference; throws Error naming the node.
void infer_shapes(ir::Graph& graph);
// Derives the integer grid (QuantType) of every tensor from the nodes producing it.
void infer_quant_types(ir::Graph& graph);

// One-line form of a libonnx error message (they span several lines).
std::string one_line(const std::string& message);

}  // namespace dnnsplit::model_io
