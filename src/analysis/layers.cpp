// Grouping of graph nodes into layers and the per-layer counts.
#include <algorithm>
#include <map>
#include <set>

#include "dnnsplit/analysis.h"
#include "dnnsplit/error.h"
#include "layer_counts.h"

namespace dnnsplit {

namespace {

enum class Role {
  kCompute,     // starts a layer: Conv, MatMul, pools, joins, TopK, anything unknown
  kQuantizer,   // Quant / BipolarQuant / MultiThreshold / Trunc: ends the layer it follows
  kEpilogue,    // BatchNorm, activations, elementwise op with a constant: belongs to its producer
  kLayout,      // moves data only: belongs to its producer, the layer's output stays put
  kWeightPrep,  // computes on constants only (an unfolded weight quantizer): joins its consumer
};

bool is_layout_op(const ir::Node& node) {
  static const std::set<std::string> ops{"Flatten", "Reshape",  "Transpose", "Squeeze", "Unsqueeze", "Identity",
                                         "Dropout", "Cast",     "Shape",     "Gather",  "Slice"};
  return node.domain.empty() && ops.count(node.op_type) != 0;
}

bool is_epilogue_op(const ir::Node& node, int data_inputs) {
  static const std::set<std::string> unary{"BatchNormalization", "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid",
                                           "Tanh", "HardSigmoid", "HardSwish", "Elu", "Selu", "Softplus",
                                           "Softmax", "LogSoftmax", "Neg", "Abs", "Sqrt", "Exp", "Log", "Floor",
                                           "Ceil", "Round", "Sign"};
  static const std::set<std::string> binary{"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mod"};
  if (!node.domain.empty()) return false;
  return unary.count(node.op_type) != 0 || (binary.count(node.op_type) != 0 && data_inputs == 1);
}

class Grouper {
 public:
  explicit Grouper(const ir::Graph& graph) : graph_(graph), weight_like_(graph.tensors.size(), -1) {
    consumer_count_.assign(graph.tensors.size(), 0);
    for (const auto& node : graph.nodes) {
      for (int in : node.inputs) {
        if (in >= 0) ++consumer_count_[static_cast<size_t>(in)];
      }
    }
    for (int out : graph.outputs) ++consumer_count_[static_cast<size_t>(out)];  // an output is never private
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      for (int out : graph.nodes[i].outputs) producer_[out] = static_cast<int>(i);
    }
  }

  // The rows with, for each, the index of the node that defines it.
  std::vector<std::pair<LayerRow, int>> run() {
    for (size_t i = 0; i < graph_.nodes.size(); ++i) visit(static_cast<int>(i));
    std::vector<std::pair<LayerRow, int>> result;
    for (size_t r = 0; r < rows_.size(); ++r) {
      std::sort(rows_[r].nodes.begin(), rows_[r].nodes.end());
      result.emplace_back(std::move(rows_[r]), defining_[r]);
    }
    return result;
  }

 private:
  // True for constants and tensors computed from constants only (weights behind a quantizer).
  bool weight_like(int id) {
    if (id < 0) return true;
    auto& memo = weight_like_[static_cast<size_t>(id)];
    if (memo >= 0) return memo != 0;
    memo = 0;
    if (graph_.tensor(id).is_constant()) {
      memo = 1;
    } else if (auto it = producer_.find(id); it != producer_.end()) {
      const auto& node = graph_.nodes[static_cast<size_t>(it->second)];
      memo = std::all_of(node.inputs.begin(), node.inputs.end(), [&](int in) { return weight_like(in); }) ? 1 : 0;
    }
    return memo != 0;
  }

  std::vector<int> data_inputs(const ir::Node& node) {
    std::vector<int> ids;
    for (int in : node.inputs) {
      if (!weight_like(in)) ids.push_back(in);
    }
    return ids;
  }

  Role role_of(const ir::Node& node, int data_count) const {
    if (data_count == 0) return Role::kWeightPrep;
    if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node) || ir::is_multithreshold_op(node) ||
        ir::is_trunc_op(node)) {
      return Role::kQuantizer;
    }
    if (is_layout_op(node)) return Role::kLayout;
    if (is_epilogue_op(node, data_count)) return Role::kEpilogue;
    return Role::kCompute;
  }

  // The node's outputs continue whatever `data` belonged to, or wait for the next layer.
  bool private_to_one_consumer(int id) const { return consumer_count_[static_cast<size_t>(id)] == 1; }

  void take_pending(const ir::Node& node, std::vector<int>& into) {
    for (int in : node.inputs) {
      auto it = pending_.find(in);
      if (it == pending_.end()) continue;
      into.insert(into.end(), it->second.begin(), it->second.end());
      pending_.erase(it);
    }
  }

  void set_pending(const ir::Node& node, int index) {
    std::vector<int> nodes;
    take_pending(node, nodes);
    nodes.push_back(index);
    for (int out : node.outputs) pending_[out] = nodes;
  }

  void open_row(const ir::Node& node, int index, bool closed) {
    LayerRow row;
    row.name = node.name;
    row.op = node.op_type;
    take_pending(node, row.nodes);
    row.nodes.push_back(index);
    row.output_tensor = layer_output(graph_, node);
    rows_.push_back(std::move(row));
    defining_.push_back(index);
    closed_.push_back(closed);
    for (int out : node.outputs) owner_[out] = static_cast<int>(rows_.size()) - 1;
  }

  void join_row(int row, const ir::Node& node, int index, bool move_output) {
    take_pending(node, rows_[static_cast<size_t>(row)].nodes);
    rows_[static_cast<size_t>(row)].nodes.push_back(index);
    if (move_output) rows_[static_cast<size_t>(row)].output_tensor = node.outputs.at(0);
    for (int out : node.outputs) owner_[out] = row;
  }

  void visit(int index) {
    const ir::Node& node = graph_.nodes[static_cast<size_t>(index)];
    if (node.outputs.empty()) return;  // produces nothing a layer could hand on
    const std::vector<int> data = data_inputs(node);
    const Role role = role_of(node, static_cast<int>(data.size()));
    if (role == Role::kWeightPrep) {
      set_pending(node, index);
      return;
    }
    if (role == Role::kCompute) {
      open_row(node, index, false);
      return;
    }
    const int input = data.front();
    const auto owner = owner_.find(input);
    const bool continues = owner != owner_.end() && private_to_one_consumer(input);
    const int row = continues ? owner->second : -1;
    const bool row_open = continues && !closed_[static_cast<size_t>(row)];
    switch (role) {
      case Role::kQuantizer:
        if (row_open) {
          join_row(row, node, index, true);
          closed_[static_cast<size_t>(row)] = true;
        } else {
          open_row(node, index, true);  // a quantizer of its own (input quantizer, requantization)
        }
        return;
      case Role::kEpilogue:
        // After the quantizer an op stays in the layer only while the values keep their grid.
        if (row_open || (continues && graph_.tensor(node.outputs[0]).quant)) {
          join_row(row, node, index, true);
        } else {
          set_pending(node, index);
        }
        return;
      case Role::kLayout:
        if (continues) {
          join_row(row, node, index, row_open);
        } else {
          set_pending(node, index);
        }
        return;
      default: return;
    }
  }

  const ir::Graph& graph_;
  std::vector<int> consumer_count_;
  std::vector<int> weight_like_;  // -1 unknown, 0 no, 1 yes
  std::map<int, int> producer_;   // tensor id -> node index
  std::map<int, int> owner_;      // tensor id -> row producing it
  std::map<int, std::vector<int>> pending_;  // tensor id -> nodes waiting for the next layer
  std::vector<LayerRow> rows_;
  std::vector<int> defining_;     // per row: the node that started it
  std::vector<bool> closed_;      // per row: it has its quantizer
};

}  // namespace

std::vector<LayerRow> analyze_layers(const ir::Graph& graph) {
  std::vector<LayerRow> rows;
  for (auto& [row, defining] : Grouper(graph).run()) {
    fill_layer_counts(graph, graph.nodes[static_cast<size_t>(defining)], row);
    rows.push_back(std::move(row));
  }
  return rows;
}

LayerTotals layer_totals(const std::vector<LayerRow>& rows) {
  LayerTotals totals;
  for (const auto& row : rows) {
    ++totals.layers;
    totals.params += row.params;
    totals.macs += row.macs;
    totals.weight_bytes += (row.params * row.weight_bits + 7) / 8;
  }
  return totals;
}

}  // namespace dnnsplit
