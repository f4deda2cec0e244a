// The literature's quantized networks, built as QONNX models the way Brevitas exports them and
// FINN consumes them (topologies from finn-facts.md section (b)). Weights are synthetic:
// uniform over each quantizer's grid, with BatchNorm statistics and activation scales chosen
// so every activation quantizer sees a spread of codes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnnsplit/tensor.h"

namespace dnnsplit {

struct ZooEntry {
  std::string name;         // e.g. "cnv-w2a2"
  std::string description;  // one line: topology, bit widths
  Shape input_shape;        // the graph input, NCHW with batch 1
  std::string input_datatype;  // FINN datatype annotated on the input, e.g. "UINT8"
  std::string source;       // where the topology comes from
};

// Every model the zoo can build, in a fixed order.
std::vector<ZooEntry> zoo_list();

// Serialized ONNX ModelProto bytes of the named model; the same name and seed always give the
// same bytes. Throws Error listing the valid names when `name` is unknown.
std::string zoo_build(const std::string& name, uint64_t seed);

}  // namespace dnnsplit
