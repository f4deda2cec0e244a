// Units, cut tensors and stage costs of a model (see model_cuts.h).
#include "model_cuts.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <sstream>

#include "dnnsplit/error.h"

namespace dnnsplit::partition::detail {

namespace {

cost::Resources add(cost::Resources a, const cost::Resources& b) {
  a.lut += b.lut;
  a.lutram += b.lutram;
  a.bram18 += b.bram18;
  a.uram += b.uram;
  a.dsp += b.dsp;
  return a;
}

cost::Resources subtract(cost::Resources a, const cost::Resources& b) {
  a.lut -= b.lut;
  a.lutram -= b.lutram;
  a.bram18 -= b.bram18;
  a.uram -= b.uram;
  a.dsp -= b.dsp;
  return a;
}

int64_t resource_value(const cost::Resources& r, const std::string& name) {
  if (name == "lut") return r.lut;
  if (name == "lutram") return r.lutram;
  if (name == "bram18") return r.bram18;
  if (name == "uram") return r.uram;
  return r.dsp;
}

std::string describe_overflow(const cost::ResourceFit& fit) {
  std::ostringstream out;
  out << fit.resource << " needs " << fit.used << " but the board allows "
      << static_cast<int64_t>(fit.usable_fraction * static_cast<double>(fit.available)) << " ("
      << static_cast<int>(fit.usable_fraction * 100.0 + 0.5) << "% of " << fit.available << ")";
  return out.str();
}

bool same_structure(const cost::HwGraph& a, const cost::HwGraph& b) {
  if (a.layers.size() != b.layers.size()) return false;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    if (a.layers[i].ir_nodes != b.layers[i].ir_nodes) return false;
  }
  return true;
}

// finn-examples foldings name the LabelSelect their builds append (InsertTopK). Stages hold exactly
// the model's nodes, so without a TopK in the model there is no such layer to fold.
void drop_label_select_entries(cost::FoldingConfig& folding, const ir::Graph& graph) {
  for (const auto& node : graph.nodes) {
    if (node.op_type == "TopK") return;
  }
  for (auto it = folding.layers.begin(); it != folding.layers.end();) {
    it = it->first.rfind("LabelSelect", 0) == 0 ? folding.layers.erase(it) : std::next(it);
  }
}

// Weights in external memory come from FINN's IODMA at the part's AXI port width; a layer whose
// weight word (PE * SIMD * weight bits per cycle) is wider would stall on it.
bool external_weights_keep_up(const cost::HwGraph& hw, const cost::Estimate& estimate, const Board& board) {
  for (size_t l = 0; l < hw.layers.size(); ++l) {
    const cost::HwLayer& layer = hw.layers[l];
    if (layer.folding.mem_mode != cost::MemMode::kExternal) continue;
    if (layer.op != cost::HwOp::kMvau && layer.op != cost::HwOp::kVvau) continue;
    const int64_t width = layer.folding.pe * layer.folding.simd * estimate.layers[l].weight_type.bits;
    if (width > board.dma_port_bits()) return false;
  }
  return true;
}

}  // namespace

ResolvedBoards resolve_boards(const HardwareOptions& selection) {
  check(!selection.boards.empty(), "no board given (use --board, e.g. --board zedboard)");
  BoardCatalog catalog = BoardCatalog::builtin();
  if (!selection.boards_file.empty()) catalog.add_file(selection.boards_file);
  ResolvedBoards resolved;
  for (const auto& name : selection.boards) {
    const Board& board = catalog.get(name);
    int type = -1;
    for (size_t t = 0; t < resolved.types.size(); ++t) {
      if (resolved.types[t].name == board.name) type = static_cast<int>(t);
    }
    if (type < 0) {
      type = static_cast<int>(resolved.types.size());
      resolved.types.push_back(board);
      check(board.link_mbps > 0.0, "board '" + board.name + "' has no link bandwidth (link_mbps)");
      resolved.strategy_types.push_back({board.name, 0, board.link_mbps * 1e6 / 8.0});
    }
    ++resolved.strategy_types[static_cast<size_t>(type)].count;
    resolved.fill_order.push_back(type);
  }
  // One board named: as many of it as the model needs.
  if (selection.boards.size() == 1) resolved.strategy_types[0].count = -1;
  return resolved;
}

std::vector<int> layer_order(const ir::Graph& graph, const cost::HwGraph& hw) {
  const size_t n = graph.nodes.size();
  std::vector<int> producer(graph.tensors.size(), -1);
  std::vector<std::vector<int>> consumers(n);
  for (size_t i = 0; i < n; ++i) {
    for (int t : graph.nodes[i].outputs) {
      if (t >= 0) producer[static_cast<size_t>(t)] = static_cast<int>(i);
    }
  }
  std::vector<int> waiting(n, 0);  // producers not yet placed
  for (size_t i = 0; i < n; ++i) {
    for (int t : graph.nodes[i].inputs) {
      const int p = t >= 0 ? producer[static_cast<size_t>(t)] : -1;
      if (p < 0) continue;
      consumers[static_cast<size_t>(p)].push_back(static_cast<int>(i));
      ++waiting[i];
    }
  }
  // Key of a node: its layer; software nodes after their producers, else before their consumers.
  std::vector<int> key(n, -1);
  std::vector<char> known(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (hw.node_layer[i] >= 0) {
      key[i] = hw.node_layer[i];
      known[i] = 1;
      continue;
    }
    for (int t : graph.nodes[i].inputs) {
      const int p = t >= 0 ? producer[static_cast<size_t>(t)] : -1;
      if (p >= 0 && known[static_cast<size_t>(p)]) {
        key[i] = known[i] ? std::max(key[i], key[static_cast<size_t>(p)]) : key[static_cast<size_t>(p)];
        known[i] = 1;
      }
    }
  }
  for (size_t i = n; i-- > 0;) {
    if (known[i]) continue;
    for (int c : consumers[i]) {
      if (!known[static_cast<size_t>(c)]) continue;
      key[i] = known[i] ? std::min(key[i], key[static_cast<size_t>(c)]) : key[static_cast<size_t>(c)];
      known[i] = 1;
    }
  }
  using Entry = std::pair<int, int>;  // (key, index in the file)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> ready;
  for (size_t i = 0; i < n; ++i) {
    if (waiting[i] == 0) ready.emplace(key[i], static_cast<int>(i));
  }
  std::vector<int> order;
  while (!ready.empty()) {
    const int i = ready.top().second;
    ready.pop();
    order.push_back(i);
    for (int c : consumers[static_cast<size_t>(i)]) {
      if (--waiting[static_cast<size_t>(c)] == 0) ready.emplace(key[static_cast<size_t>(c)], c);
    }
  }
  check(order.size() == n, graph.source_path + ": the graph has a cycle; cannot order it for cutting");
  return order;
}

std::optional<MemoryChoice> choose_weight_memory(cost::HwLayer& layer, const Board& board,
                                                 const cost::EstimateOptions& options) {
  if (layer.op != cost::HwOp::kMvau && layer.op != cost::HwOp::kVvau) return std::nullopt;
  const cost::Resources in_bram = cost::estimate_layer(layer, options).res;
  if (cost::fits_on_board(in_bram, board)) return std::nullopt;
  struct Variant {
    cost::MemMode mode;
    cost::RamStyle style;
    const char* weights;
  };
  std::vector<Variant> variants{{cost::MemMode::kInternalDecoupled, cost::RamStyle::kDistributed, "lutram"}};
  if (board.resources.uram > 0) variants.push_back({cost::MemMode::kInternalDecoupled, cost::RamStyle::kUltra, "uram"});
  variants.push_back({cost::MemMode::kExternal, layer.folding.ram_style, "dram"});
  for (const Variant& v : variants) {
    cost::HwLayer trial = layer;
    trial.folding.mem_mode = v.mode;
    trial.folding.ram_style = v.style;
    if (!cost::fits_on_board(cost::estimate_layer(trial, options).res, board)) continue;
    layer.folding = trial.folding;
    std::string reason;
    for (const auto& fit : cost::fit_on_board(in_bram, board)) {
      if (!fit.fits()) reason += (reason.empty() ? "" : "; ") + describe_overflow(fit);
    }
    return MemoryChoice{layer.name, v.weights, "with FINN's default weight memory " + reason};
  }
  return std::nullopt;
}

ModelCuts::ModelCuts(ir::Graph graph, const ResolvedBoards& boards, const HardwareOptions& hardware, bool check_fit)
    : graph_(std::move(graph)), folding_given_(!hardware.folding_file.empty()) {
  check(!graph_.nodes.empty(), graph_.source_path + ": the model has no nodes to split");
  std::optional<cost::FoldingConfig> folding;
  if (folding_given_) folding = cost::read_folding_file(hardware.folding_file);
  std::optional<cost::DataType> input_type;
  if (!hardware.input_type.empty()) {
    input_type = cost::DataType::parse(hardware.input_type);
    check(input_type.has_value(), "--input-type '" + hardware.input_type + "' is not a FINN integer type (UINT8, INT4, ...)");
  }
  if (folding) drop_label_select_entries(*folding, graph_);
  for (const Board& board : boards.types) {
    BoardModel model;
    model.board = board;
    model.options = cost::estimate_options_for(board);
    cost::LowerOptions lower;
    lower.dsp_block = board.dsp_block();
    lower.input_type = input_type;
    // Without --input-type a float input is quantized by the host that feeds the first board.
    lower.host_input_quantizers = !input_type.has_value();
    lower.top_k = 0;  // the stages hold exactly the model's nodes: no LabelSelect of our own
    model.hw = cost::lower_to_hw(graph_, lower);
    if (!boards_.empty()) {
      check(same_structure(boards_[0].hw, model.hw),
            "boards '" + boards_[0].board.name + "' and '" + board.name +
                "' lower the model to different hardware layers; plan them separately");
    }
    boards_.push_back(std::move(model));
  }
  // Plan over the nodes in hardware-layer order; node indices in the lowered graphs follow.
  const std::vector<int> order = layer_order(graph_, boards_[0].hw);
  std::vector<int> place(order.size());
  std::vector<ir::Node> nodes;
  for (size_t k = 0; k < order.size(); ++k) {
    place[static_cast<size_t>(order[k])] = static_cast<int>(k);
    nodes.push_back(std::move(graph_.nodes[static_cast<size_t>(order[k])]));
  }
  graph_.nodes = std::move(nodes);
  for (BoardModel& model : boards_) {
    std::vector<int> node_layer(order.size(), -1);
    for (size_t i = 0; i < order.size(); ++i) node_layer[static_cast<size_t>(place[i])] = model.hw.node_layer[i];
    model.hw.node_layer = std::move(node_layer);
    for (auto& layer : model.hw.layers) {
      for (int& node : layer.ir_nodes) node = place[static_cast<size_t>(node)];
      std::sort(layer.ir_nodes.begin(), layer.ir_nodes.end());
    }
    if (folding) {
      cost::apply_folding(model.hw, *folding);
    } else {
      for (size_t l = 0; l < model.hw.layers.size(); ++l) {
        auto choice = choose_weight_memory(model.hw.layers[l], model.board, model.options);
        if (choice) model.memory_choices[static_cast<int>(l)] = std::move(*choice);
      }
    }
    const cost::Estimate estimate = cost::estimate(model.hw, model.options);
    for (const auto& layer : estimate.layers) model.layer_resources.push_back(layer.res);
    std::vector<cost::Resources> prefix{cost::Resources{}};
    for (const auto& r : model.layer_resources) prefix.push_back(add(prefix.back(), r));
    prefix_.push_back(std::move(prefix));
  }
  build_units();
  for (size_t b = 0; b <= units_.size(); ++b) {
    cut_tensors_.push_back(crossing_tensors(graph_, position(static_cast<int>(b))));
    cut_bytes_.push_back(crossing_bytes(graph_, cut_tensors_.back()));
  }
  if (check_fit) check_units_fit();
}

// The node a layer is named after: its Conv / MatMul / pool rather than an absorbed Reshape.
int ModelCuts::main_node(const std::vector<int>& nodes) const {
  static const std::vector<std::string> kCompute{"Conv", "MatMul", "Gemm", "MaxPool", "AveragePool",
                                                 "GlobalAveragePool", "Add", "TopK", "MultiThreshold"};
  for (int n : nodes) {
    const auto& op = graph_.nodes[static_cast<size_t>(n)].op_type;
    if (std::find(kCompute.begin(), kCompute.end(), op) != kCompute.end()) return n;
  }
  for (int n : nodes) {  // a Thresholding layer is named after its quantizer
    const ir::Node& node = graph_.nodes[static_cast<size_t>(n)];
    if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node)) return n;
  }
  return *std::min_element(nodes.begin(), nodes.end());
}

void ModelCuts::build_units() {
  const auto& hw = boards_[0].hw;
  const int n = static_cast<int>(graph_.nodes.size());
  // A cut may not separate the IR nodes one hardware layer implements.
  std::vector<char> blocked(static_cast<size_t>(n) + 1, 0);
  // Each layer is anchored at the first IR node it implements. Layers without IR nodes (sliding
  // windows, padding, DuplicateStreams) feed the layer after them and go with it.
  std::vector<int> anchor(hw.layers.size(), -1);
  for (size_t l = 0; l < hw.layers.size(); ++l) {
    const auto& nodes = hw.layers[l].ir_nodes;
    if (nodes.empty()) continue;
    const auto [lo, hi] = std::minmax_element(nodes.begin(), nodes.end());
    for (int p = *lo + 1; p <= *hi; ++p) blocked[static_cast<size_t>(p)] = 1;
    anchor[l] = *lo;
  }
  int next_anchor = n - 1;  // trailing node-less layers (an appended LabelSelect) go last
  for (size_t l = hw.layers.size(); l-- > 0;) {
    if (anchor[l] < 0) anchor[l] = next_anchor;
    next_anchor = anchor[l];
  }
  for (size_t l = 1; l < hw.layers.size(); ++l) {
    check(anchor[l] >= anchor[l - 1], "hardware layer '" + hw.layers[l].name +
                                          "' comes before the layers of earlier graph nodes; "
                                          "cannot cut this model along FINN's layer order");
  }
  std::vector<Unit> raw;
  size_t layer = 0;
  for (int p = 0; p < n;) {
    int q = p + 1;
    while (q < n && blocked[static_cast<size_t>(q)]) ++q;
    Unit unit{p, q, static_cast<int>(layer), static_cast<int>(layer), ""};
    while (layer < hw.layers.size() && anchor[layer] < q) ++layer;
    unit.end_layer = static_cast<int>(layer);
    raw.push_back(unit);
    p = q;
  }
  // Nodes without hardware (shape ops, a float tail) are no place to start a board: they join
  // the unit before them (or after, at the very start).
  for (const Unit& unit : raw) {
    const bool software = unit.first_layer == unit.end_layer;
    if (software && !units_.empty()) {
      units_.back().end = unit.end;
    } else if (!units_.empty() && units_.back().first_layer == units_.back().end_layer) {
      units_.back().end = unit.end;
      units_.back().first_layer = unit.first_layer;
      units_.back().end_layer = unit.end_layer;
    } else {
      units_.push_back(unit);
    }
  }
  for (Unit& unit : units_) {
    int main = unit.first_layer;
    for (int l = unit.first_layer; l < unit.end_layer; ++l) {
      const auto op = hw.layers[static_cast<size_t>(l)].op;
      if (op == cost::HwOp::kMvau || op == cost::HwOp::kVvau) {
        main = l;
        break;
      }
    }
    if (unit.first_layer == unit.end_layer) {
      unit.name = graph_.nodes[static_cast<size_t>(unit.begin)].name;
    } else {
      const auto& layer_info = hw.layers[static_cast<size_t>(main)];
      unit.name = layer_info.name;
      if (!layer_info.ir_nodes.empty()) {
        unit.name += " (" + graph_.nodes[static_cast<size_t>(main_node(layer_info.ir_nodes))].name + ")";
      }
    }
  }
}

int ModelCuts::position(int boundary) const {
  if (boundary == 0) return 0;
  return units_[static_cast<size_t>(boundary) - 1].end;
}

std::vector<MemoryChoice> ModelCuts::memory_choices(int type, int begin, int end) const {
  std::vector<MemoryChoice> notes;
  const auto& choices = boards_[static_cast<size_t>(type)].memory_choices;
  const int first = units_[static_cast<size_t>(begin)].first_layer;
  const int last = units_[static_cast<size_t>(end) - 1].end_layer;
  for (auto it = choices.lower_bound(first); it != choices.end() && it->first < last; ++it) notes.push_back(it->second);
  return notes;
}

cost::Resources ModelCuts::resources(int type, int begin, int end) const {
  const auto& prefix = prefix_[static_cast<size_t>(type)];
  return subtract(prefix[static_cast<size_t>(units_[static_cast<size_t>(end) - 1].end_layer)],
                  prefix[static_cast<size_t>(units_[static_cast<size_t>(begin)].first_layer)]);
}

void ModelCuts::check_units_fit() const {
  for (size_t u = 0; u < units_.size(); ++u) {
    const int unit = static_cast<int>(u);
    bool fits_somewhere = false;
    for (int t = 0; t < board_types() && !fits_somewhere; ++t) {
      fits_somewhere = cost::fits_on_board(resources(t, unit, unit + 1), boards_[static_cast<size_t>(t)].board);
    }
    if (fits_somewhere) continue;
    // Name the layer that needs most of the first overflowing resource on the first board.
    const BoardModel& model = boards_[0];
    for (const auto& fit : cost::fit_on_board(resources(0, unit, unit + 1), model.board)) {
      if (fit.fits()) continue;
      int worst = units_[u].first_layer;
      for (int l = units_[u].first_layer; l < units_[u].end_layer; ++l) {
        if (resource_value(model.layer_resources[static_cast<size_t>(l)], fit.resource) >
            resource_value(model.layer_resources[static_cast<size_t>(worst)], fit.resource)) {
          worst = l;
        }
      }
      const auto& layer = model.hw.layers[static_cast<size_t>(worst)];
      std::string node;
      if (!layer.ir_nodes.empty()) node = "node '" + graph_.nodes[static_cast<size_t>(main_node(layer.ir_nodes))].name + "'";
      std::string inseparable;  // layers no cut can separate from it (its sliding window, padding, ...)
      for (int l = units_[u].first_layer; l < units_[u].end_layer; ++l) {
        if (l != worst) inseparable += (inseparable.empty() ? "" : ", ") + model.hw.layers[static_cast<size_t>(l)].name;
      }
      if (!inseparable.empty()) node += (node.empty() ? "with " : ", with ") + inseparable;
      const bool weights = layer.op == cost::HwOp::kMvau || layer.op == cost::HwOp::kVvau;
      const std::string how = folding_given_ ? " with the given folding"
                              : weights      ? " even at PE = SIMD = 1 with any weight memory (BRAM, LUTRAM, URAM, DRAM)"
                                             : " even at PE = SIMD = 1";
      throw Error(graph_.source_path + ": layer '" + layer.name + "'" + (node.empty() ? "" : " (" + node + ")") +
                  " does not fit board '" + model.board.name + "'" + how + ": " + describe_overflow(fit));
    }
    throw Error(graph_.source_path + ": unit '" + units_[u].name + "' fits none of the listed boards");
  }
}

const StageHardware& ModelCuts::stage(int type, int begin, int end) const {
  const auto key = std::make_tuple(type, begin, end);
  auto it = stages_.find(key);
  if (it != stages_.end()) return *it->second;
  auto result = std::make_unique<StageHardware>();
  const BoardModel& model = boards_[static_cast<size_t>(type)];
  const int first = units_[static_cast<size_t>(begin)].first_layer;
  const int last = units_[static_cast<size_t>(end) - 1].end_layer - 1;
  // The split-time folding bounds what fits: more parallelism only costs more.
  result->fits = cost::fits_on_board(resources(type, begin, end), model.board);
  if (result->fits && last >= first) {
    result->hw = cost::hw_slice(model.hw, first, last);
    result->estimate = cost::estimate(result->hw, model.options);
    if (!folding_given_) {
      // Smallest SetFolding target (in cycles) whose folding still fits the board.
      const cost::HwGraph base = result->hw;
      const double clock_hz = model.board.clock_mhz * 1e6;
      int64_t lo = 1;
      int64_t hi = std::max<int64_t>(1, result->estimate.max_cycles);
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        cost::HwGraph trial = base;
        cost::auto_fold(trial, clock_hz / static_cast<double>(mid), model.board.clock_mhz);
        cost::Estimate estimate = cost::estimate(trial, model.options);
        if (cost::fits_on_board(estimate.total, model.board) && external_weights_keep_up(trial, estimate, model.board)) {
          hi = mid;
          if (estimate.max_cycles < result->estimate.max_cycles) {
            result->hw = std::move(trial);
            result->estimate = std::move(estimate);
          }
        } else {
          lo = mid + 1;
        }
      }
    }
  }
  return *stages_.emplace(key, std::move(result)).first->second;
}

CutTable ModelCuts::cut_table(const ResolvedBoards& boards) const {
  CutTable table;
  table.units = static_cast<int>(units_.size());
  table.cut_bytes = cut_bytes_;
  table.boards = boards.strategy_types;
  table.fill_order = boards.fill_order;
  for (const Unit& unit : units_) table.unit_names.push_back(unit.name);
  table.segment = [this](int begin, int end, int type) {
    const StageHardware& s = stage(type, begin, end);
    const double clock_hz = boards_[static_cast<size_t>(type)].board.clock_mhz * 1e6;
    return SegmentCost{s.fits, s.fits ? static_cast<double>(s.estimate.max_cycles) / clock_hz : 0.0};
  };
  return table;
}

}  // namespace dnnsplit::partition::detail
