// The bridge between a model and the strategies: the units a model can be cut between (whole
// FINN hardware layers, from the cost model's lowering), what crosses every unit boundary, and
// what a stage of consecutive units costs on each board type.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "dnnsplit/boards.h"
#include "dnnsplit/cost.h"
#include "dnnsplit/ir.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::partition::detail {

// IR nodes [begin, end) whose hardware layers are [first_layer, end_layer).
struct Unit {
  int begin = 0;
  int end = 0;
  int first_layer = 0;
  int end_layer = 0;
  std::string name;  // e.g. "MVAU_hls_3 (Conv_3)"
};

// Where a layer's weights live when FINN's default (BRAM) does not fit the board.
struct MemoryChoice {
  std::string layer;    // the layer's name in the whole model
  std::string weights;  // "lutram", "uram" or "dram"
  std::string reason;
};
// The model lowered for one board type with the split-time folding (given, or FINN's default).
struct BoardModel {
  Board board;
  cost::EstimateOptions options;
  cost::HwGraph hw;
  std::vector<cost::Resources> layer_resources;  // per layer, split-time folding
  std::map<int, MemoryChoice> memory_choices;    // by layer index
};

// A stage's hardware with the folding it gets and its estimate.
struct StageHardware {
  bool fits = false;
  cost::HwGraph hw;
  cost::Estimate estimate;
};

// The boards of a selection resolved against the catalog, as the strategies' board types.
struct ResolvedBoards {
  std::vector<Board> types;
  std::vector<BoardType> strategy_types;
  std::vector<int> fill_order;
};
ResolvedBoards resolve_boards(const HardwareOptions& selection);

// A topological order of the graph's nodes that follows the hardware layers' order: each node
// goes with the layer implementing or absorbing it; software nodes go right after their
// producers (or, with none, right before their first consumer). Ties keep the file's order, so a
// graph already in layer order is unchanged. A residual block whose branch ends in affine ops
// absorbed by the join (BN before an Add) is in layer order only after this.
std::vector<int> layer_order(const ir::Graph& graph, const cost::HwGraph& hw);

// FINN offers other weight memories (mem_mode, ram_style): when a layer does not fit the board on
// its own with BRAM weights, the partitioner takes the first of LUTRAM, UltraRAM (parts that
// have it) and external weights (streamed from DRAM by a DMA) that fits, and sets it in the
// layer's folding. nullopt when the default is kept.
std::optional<MemoryChoice> choose_weight_memory(cost::HwLayer& layer, const Board& board,
                                                 const cost::EstimateOptions& options);

class ModelCuts {
 public:
  // Throws Error naming the layer and resource when a unit fits no board type.
  ModelCuts(ir::Graph graph, const ResolvedBoards& boards, const HardwareOptions& hardware, bool check_units_fit = true);

  // The graph in planning order (layer_order): cut positions and stages refer to it.
  const ir::Graph& graph() const { return graph_; }
  // Weight-memory choices (choose_weight_memory) for the layers of units [begin, end).
  std::vector<MemoryChoice> memory_choices(int type, int begin, int end) const;
  const std::vector<Unit>& units() const { return units_; }
  const BoardModel& board(int type) const { return boards_[static_cast<size_t>(type)]; }
  int board_types() const { return static_cast<int>(boards_.size()); }
  // Unit boundary u (0..units) as an IR cut position, its tensors and bytes/image.
  int position(int boundary) const;
  const std::vector<int>& tensors(int boundary) const { return cut_tensors_[static_cast<size_t>(boundary)]; }
  int64_t bytes(int boundary) const { return cut_bytes_[static_cast<size_t>(boundary)]; }

  // Sum of the split-time estimates of units [begin, end) on a board type.
  cost::Resources resources(int type, int begin, int end) const;
  // The stage's hardware on a board type: the given folding, or the fastest automatic folding
  // that fits (FINN's SetFolding for the smallest target cycles that still fits). Memoised.
  const StageHardware& stage(int type, int begin, int end) const;
  // The strategies' view of this model.
  CutTable cut_table(const ResolvedBoards& boards) const;

 private:
  void build_units();
  int main_node(const std::vector<int>& nodes) const;
  void check_units_fit() const;

  ir::Graph graph_;
  bool folding_given_ = false;
  std::vector<BoardModel> boards_;
  std::vector<Unit> units_;
  std::vector<std::vector<int>> cut_tensors_;
  std::vector<int64_t> cut_bytes_;
  std::vector<std::vector<cost::Resources>> prefix_;  // per board type, per layer count
  mutable std::map<std::tuple<int, int, int>, std::unique_ptr<StageHardware>> stages_;
};

}  // namespace dnnsplit::partition::detail
