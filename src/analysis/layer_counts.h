// Counts for one layer from the node that defines it (internal to src/analysis).
#pragma once

#include "dnnsplit/analysis.h"

namespace dnnsplit {

// The tensor a compute node hands on: a graph output if it has one, else its first used output.
int layer_output(const ir::Graph& graph, const ir::Node& node);

// Fills detail, weights, MACs and the output columns of `row` (whose output_tensor is set).
void fill_layer_counts(const ir::Graph& graph, const ir::Node& defining, LayerRow& row);

}  // namespace dnnsplit
