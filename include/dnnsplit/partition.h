// The partitioner: where a model can be cut, how to choose the cuts (fill, min-transfer,
// balanced), the stage sub-models, plan.json (docs/plan-schema.md), and the checks that a split
// is invisible in the outputs.
//
// Two layers:
//  * strategies are pure functions over a CutTable (units in a chain, bytes crossing every cut
//    position, a cost for every segment on every board type), so tests can feed random costs and
//    compare with brute force;
//  * the planner builds that table from a model (IR cut analysis + the cost model), runs a
//    strategy, extracts and writes the stage files.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::partition {

// ---------------------------------------------------------------------------------------------
// Strategies over a cut table.

enum class Strategy { kFill, kMinTransfer, kBalanced };

// "fill" | "min-transfer" | "balanced"; throws Error listing the valid names.
Strategy parse_strategy(const std::string& name);
std::string strategy_name(Strategy strategy);

// How a stage made of the consecutive units [begin, end) does on one board type.
struct SegmentCost {
  bool fits = false;
  double compute_seconds = 0.0;  // bottleneck cycles / board clock
};

struct BoardType {
  std::string name;
  int count = 1;                  // boards of this type available; -1 = as many as needed
  double link_bytes_per_s = 0.0;  // incoming link of a board of this type
};

struct CutTable {
  int units = 0;  // partition units in chain order; cut position p lies before unit p
  // Bytes/image crossing cut position p, p = 0..units (entries 0 and units are not cuts).
  std::vector<int64_t> cut_bytes;
  std::vector<BoardType> boards;
  // Board types in the order the user listed them; `fill` gives stage k the k-th entry (the last
  // one repeats when its type is unlimited).
  std::vector<int> fill_order;
  std::function<SegmentCost(int begin, int end, int board)> segment;
  std::vector<std::string> unit_names;  // for messages; may be empty
};

struct Split {
  std::vector<int> ends;    // end unit (exclusive) of every stage, ascending, last == units
  std::vector<int> boards;  // board type of every stage
  double max_stage_seconds = 0.0;  // slowest stage: compute + incoming transfer
  int64_t total_cut_bytes = 0;
  int stages() const { return static_cast<int>(ends.size()); }
};

// Seconds a stage [begin, end) on `board` takes per image: compute plus the transfer of its
// incoming cut at the board's link bandwidth (stage 0 has no incoming cut).
double stage_seconds(const CutTable& table, int begin, int end, int board);
// Objective values of a split (used by the solvers and by the brute-force tests alike).
Split evaluate_split(const CutTable& table, std::vector<int> ends, std::vector<int> boards);

// Runs a strategy. stages = 0 lets the strategy choose (fill: greedy count; min-transfer: the
// fewest that fit; balanced: the number of listed boards when several are listed, else the
// fewest that fit). Exact: min-transfer minimises total cut bytes, then the slowest stage;
// balanced minimises the slowest stage, then total cut bytes; ties go to the lexicographically
// smallest sequence of (end, board) per stage. Throws Error when no split fits.
Split solve(const CutTable& table, Strategy strategy, int stages = 0);

// Fewest stages any split that fits needs, or -1 when none fits.
int fewest_stages(const CutTable& table);

// ---------------------------------------------------------------------------------------------
// Cut analysis and stage sub-models over the IR. A cut position p lies between node p-1 and
// node p of the topological order (0 = before the first node, nodes.size() = after the last).

// Tensors crossing cut position p: at 0 the graph inputs, at the end the graph outputs (in their
// order); in between every non-constant tensor made before p (or a graph input) and read at or
// after p (or a graph output), ordered by producer. A residual connection gives several.
std::vector<int> crossing_tensors(const ir::Graph& graph, int position);
// Sum of packed_bytes_per_image over the tensors.
int64_t crossing_bytes(const ir::Graph& graph, const std::vector<int>& tensors);

// The sub-model of nodes [begin, end): its inputs are crossing_tensors(begin), its outputs
// crossing_tensors(end) (a tensor that skips the stage is both), with every constant it reads.
// Tensor infos (shapes, quantized types) are copied, so the export keeps the cut's QuantTypes.
ir::Graph extract_stage(const ir::Graph& graph, int begin, int end, const std::string& name);

// Lower-case hex SHA-256 of bytes / of a file (Error naming the file when unreadable).
std::string sha256_hex(const std::string& bytes);
std::string sha256_file(const std::string& path);

// ---------------------------------------------------------------------------------------------
// Planning a model onto boards (cost model + strategy + stage export). The planner cuts the nodes
// in a topological order that follows FINN's layer order (docs/plan-schema.md, "Planning order");
// a layer too large for a board with BRAM weights gets LUTRAM, URAM or DRAM weights
// (docs/cost-model.md); a float model input without input_type is quantized on the host.

struct HardwareOptions {
  // Board names as the user listed them. One name: as many boards of that kind as needed;
  // several: exactly those boards (a name listed twice is two boards).
  std::vector<std::string> boards;
  std::string boards_file;   // extra board catalog (boards.json format), may be empty
  std::string folding_file;  // FINN folding JSON; empty: FINN's default folding to split,
                             // then the fastest folding that fits for every stage
  std::string input_type;    // FINN type assumed for float graph inputs (e.g. UINT8); empty: none
};

struct PlanOptions {
  HardwareOptions selection;
  Strategy strategy = Strategy::kFill;
  int stages = 0;  // 0: chosen by the strategy
};

// Plans the model and writes stage-K.onnx files and plan.json into out_dir, atomically: into a
// temporary directory beside it that is renamed at the end (an existing plan directory is
// replaced; any other existing non-empty directory is an error). Returns plan.json's text.
std::string plan_model(const std::string& model_path, const PlanOptions& options, const std::string& out_dir);

// One row of the split-point study: the first board's share when the model is cut at a unit
// boundary, and what crosses the cut.
struct SplitPoint {
  int position = 0;          // cut position in the planning order (docs/plan-schema.md)
  std::string after;         // the unit (hardware layer group) before the cut
  double lut_percent = 0, lutram_percent = 0, bram_percent = 0, uram_percent = 0, dsp_percent = 0;
  int64_t lut = 0, lutram = 0, bram18 = 0, uram = 0, dsp = 0;
  std::vector<std::string> tensors;
  int64_t bytes_per_image = 0;
  bool fits = false;  // the first part fits the board's usable budget
};
// Every interior cut position at a hardware-layer boundary, on the first selected board.
std::vector<SplitPoint> split_points(const ir::Graph& graph, const HardwareOptions& selection);
// split_points written as report.md, report.csv, usage.svg, bytes.svg into out_dir (atomically).
void write_report(const std::string& model_path, const HardwareOptions& selection, const std::string& out_dir);

// ---------------------------------------------------------------------------------------------
// Verification: the split is invisible in the outputs.

struct VerifyOptions {
  int samples = 4;                       // seeded random inputs
  uint64_t seed = 1;
  std::vector<std::string> input_files;  // extra .npy inputs (single-input models)
};
struct VerifyResult {
  int inputs_run = 0;
  int outputs_compared = 0;
  std::vector<std::string> mismatches;  // one line per differing output
  bool ok() const { return mismatches.empty() && outputs_compared > 0; }
};
// Checks plan.json against the model and the stage files (sha256), runs the whole model and the
// chain of stage files on every input and compares every output bit for bit.
VerifyResult verify_plan(const std::string& model_path, const std::string& plan_dir, const VerifyOptions& options);

}  // namespace dnnsplit::partition
