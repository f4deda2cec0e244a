// FPGA cost model: the hardware layers a FINN dataflow build would create for a graph, their
// resources (LUT, LUTRAM, BRAM18, URAM, DSP) and cycles per frame for a folding, following FINN's
// own analytic estimates (finn-facts.md (a)). Typical use:
//
//   HwGraph hw = lower_to_hw(graph);                  // analysis: IR -> FINN layers
//   apply_folding(hw, read_folding_file("f.json"));   // or auto_fold(hw, fps, clock)
//   Estimate e = estimate(hw, {board.dsp_block()});   // per layer + totals + bottleneck
//
// The partitioner re-estimates a stage with hw_slice() (contiguous layers) and may re-fold it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dnnsplit/boards.h"
#include "dnnsplit/ir.h"

namespace dnnsplit::cost {

// A FINN integer data type (qonnx DataType): INTn, UINTn, BINARY, BIPOLAR.
struct DataType {
  int bits = 8;
  bool is_signed = true;
  bool bipolar = false;

  int64_t min() const;
  int64_t max() const;
  std::string name() const;
  bool operator==(const DataType&) const = default;

  static DataType of_int(int bits) { return {bits, true, false}; }
  static DataType of_uint(int bits) { return {bits, false, false}; }
  static DataType from_quant(const ir::QuantType& quant);
  // Parses INT4, UINT8, BIPOLAR, BINARY; nullopt for anything else (FLOAT32, ...).
  static std::optional<DataType> parse(const std::string& name);
  // qonnx DataType.get_smallest_possible: BINARY, UINT1..64, BIPOLAR, TERNARY->INT2, INT1..64.
  static DataType smallest_for(int64_t value);
  // FINN's rule for a [lo, hi] range (minimize_weight_bit_width, thresholds): signed types are
  // chosen by max(|lo|, hi + 1) so that the range fits.
  static DataType smallest_for_range(int64_t lo, int64_t hi);
};

enum class HwOp : uint8_t {
  kMvau,              // MatrixVectorActivation: dense conv (after SWG) / fully-connected
  kVvau,              // VectorVectorActivation: depthwise conv
  kThresholding,      // standalone MultiThreshold
  kSwg,               // ConvolutionInputGenerator (sliding window)
  kFmPadding,         // FMPadding
  kStreamingMaxPool,  // StreamingMaxPool (kernel == stride)
  kPool,              // Pool (max / average pool after an SWG)
  kGlobalAccPool,     // GlobalAccPool (global average pool)
  kLabelSelect,       // LabelSelect (TopK)
  kAddStreams,        // AddStreams (residual join)
  kDuplicateStreams,  // DuplicateStreams (fork of a tensor with several consumers)
  kChannelwiseOp,     // ChannelwiseOp (per-channel add/mul FINN cannot absorb)
  kDownSampler,       // DownSampler (1x1 conv with stride > 1)
};
enum class Backend : uint8_t { kHls, kRtl };
enum class MemMode : uint8_t { kInternalEmbedded, kInternalDecoupled, kExternal };
enum class RamStyle : uint8_t { kAuto, kBlock, kDistributed, kUltra };
enum class ResType : uint8_t { kAuto, kLut, kDsp };

// FINN's op type name without backend ("MVAU", "ConvolutionInputGenerator", ...).
std::string hw_op_name(HwOp op);
// FINN's specialised op type ("MVAU_hls", "Thresholding_rtl", ...): names are <this>_<n>.
std::string hw_op_type(HwOp op, Backend backend);
std::string ram_style_name(RamStyle style);
std::string mem_mode_name(MemMode mode);
std::string res_type_name(ResType type);

// The folding attributes of a layer, with FINN's defaults. Which fields a layer uses depends
// on its op (see docs/cost-model.md); apply_folding rejects keys an op does not have.
struct Folding {
  int64_t pe = 1;
  int64_t simd = 1;
  MemMode mem_mode = MemMode::kInternalDecoupled;
  RamStyle ram_style = RamStyle::kAuto;             // SWG, Thresholding_hls, ChannelwiseOp default: distributed
  RamStyle ram_style_thresholds = RamStyle::kAuto;  // MVAU with embedded thresholds
  ResType res_type = ResType::kAuto;
  bool runtime_writeable_weights = false;
  bool parallel_window = false;    // SWG_rtl
  int64_t depth_trigger_bram = 0;  // Thresholding_rtl
  int64_t depth_trigger_uram = 0;
};

// Facts about the integer weights of an MVAU/VVAU, enough for FINN's bit-width minimisation.
struct WeightStats {
  int64_t min = 0;              // smallest integer weight
  int64_t max = 0;              // largest integer weight
  int64_t max_abs_col_sum = 0;  // max over outputs of sum |w| (qonnx accumulator range)
};

// One FINN hardware layer. Geometry fields use FINN's attribute meanings; unused ones stay at
// their defaults for ops that do not have them.
struct HwLayer {
  std::string name;  // FINN's unique name, e.g. MVAU_hls_3; folding files refer to it
  HwOp op = HwOp::kMvau;
  Backend backend = Backend::kHls;
  std::vector<int> ir_nodes;  // indices of the IR nodes this layer implements or absorbs
  std::vector<int> inputs;    // producing layers (indices into HwGraph::layers); -1 = graph input

  DataType input_type;
  DataType output_type;
  DataType weight_type;                                        // as declared by the quantizer (before minimisation)
  std::optional<WeightStats> weights;                          // nullopt when the weight values are unknown
  std::optional<DataType> acc_type;                            // fixed accumulator type (FINN file); else derived
  std::optional<std::pair<int64_t, int64_t>> threshold_range;  // known threshold values

  int64_t mw = 0, mh = 0;  // MVAU matrix width (inputs per output) and height (outputs)
  int64_t channels = 0;    // NumChannels / IFMChannels / Channels / Labels
  std::array<int64_t, 2> kernel{1, 1}, ifm{1, 1}, ofm{1, 1}, stride{1, 1}, dilation{1, 1};
  std::array<int64_t, 4> padding{0, 0, 0, 0};  // FMPadding: top, left, bottom, right
  int64_t num_vectors = 1;                     // product of numInputVectors (pixels per frame)
  bool depthwise = false;                      // SWG feeding a VVAU or Pool
  bool thresholds = false;                     // MVAU/VVAU with embedded thresholds (noActivation = 0)
  int64_t num_steps = 0;                       // thresholds per channel
  int64_t top_k = 1;                           // LabelSelect K
  bool feeds_graph_output = false;

  Folding folding;
};

struct HwGraph {
  std::string source;           // model path, for messages
  std::vector<HwLayer> layers;  // in FINN's graph order (topological)
  // For every IR node: the layer that implements or absorbs it, or -1 when it stays in
  // software (e.g. a float tail after the last quantizer when no TopK is inserted).
  std::vector<int> node_layer;

  int find_layer(const std::string& name) const;  // -1 when absent
};

struct LowerOptions {
  // FINN's ZCU10x MobileNet flow: keep every MultiThreshold as its own Thresholding layer
  // instead of embedding it in the MVAU/VVAU before it.
  bool separate_thresholds = false;
  // Append a LabelSelect with this K after the last layer, as finn-examples builds do
  // (InsertTopK); 0 keeps a float tail in software. A TopK in the graph is always lowered.
  int64_t top_k = 1;
  // Part family: decides RTL vs HLS specialisation (DSP48E1 needs narrow weights, VVAU_rtl is
  // Versal only).
  DspBlock dsp_block = DspBlock::kDsp48E1;
  // Integer type assumed for graph inputs that carry none (FINN builds set e.g. UINT8 on the
  // input of a float model); nullopt: such inputs are an error once hardware reads them.
  std::optional<DataType> input_type;
  // A quantizer that reads a float graph input without input_type (directly or through affine and
  // layout ops) stays in software: the host quantizes the input and the hardware starts at the
  // integer stream. Default: such an input is an error, as FINN needs the input's integer type.
  bool host_input_quantizers = false;
};

// Analysis: maps the graph onto FINN hardware layers with FINN's names, shapes, data types
// (accumulator widths minimised from the actual weights) and default folding. Precondition:
// an imported graph (shapes and quantized types inferred). Throws Error naming the node for
// what FINN could not build (unquantized inputs, grouped convs, unsupported ops).
HwGraph lower_to_hw(const ir::Graph& graph, const LowerOptions& options = {});

// Reads a model already converted to FINN hardware layers (MVAU_hls, MatrixVectorActivation,
// ConvolutionInputGenerator_rtl, ... in a finn.custom_op.fpgadataflow* domain) with the
// folding and data types its node attributes carry.
HwGraph read_finn_hw_model(const std::string& path);
bool is_finn_hw_model(const std::string& path);
// Either of the two, depending on what the file holds.
HwGraph load_hw_graph(const std::string& path, const LowerOptions& options = {});

// FINN's GiveUniqueNodeNames for hardware layers: <op type>_<n>, counted per specialised op type
// in graph order (MVAU_hls_0, MVAU_hls_1, Thresholding_rtl_0, ...). lower_to_hw names its layers
// so; a slice built into a bitstream of its own restarts the counts.
void assign_finn_names(HwGraph& hw);

// Contiguous layers [first, last] as a graph of their own (inputs from outside become -1),
// e.g. to estimate one pipeline stage.
HwGraph hw_slice(const HwGraph& hw, int first, int last);

// A FINN folding_config_file: per layer name, the attributes to set; "Defaults" as in FINN's
// ApplyConfig ({"attr": [value, ["op_type", ...] | "all"]}).
struct FoldingEntry {
  std::map<std::string, std::string> strings;  // ram_style, mem_mode, resType, ...
  std::map<std::string, int64_t> ints;         // PE, SIMD, depth triggers, flags
};
struct FoldingDefault {
  FoldingEntry entry;                 // one attribute and its value
  std::vector<std::string> op_types;  // e.g. "MVAU_hls"; empty with all_ops
  bool all_ops = false;
};
struct FoldingConfig {
  std::string source;  // file name for messages
  std::map<std::string, FoldingEntry> layers;
  std::vector<FoldingDefault> defaults;
  std::vector<std::string> ignored;  // FIFO / data-width-converter entries (not estimated by FINN)
};
FoldingConfig parse_folding(const std::string& json_text, const std::string& source_name);
FoldingConfig read_folding_file(const std::string& path);
// Sets the folding of the named layers. Throws Error naming the layer and key for a layer that
// does not exist (unless allow_missing, e.g. for a slice), a key the op does not have, a bad
// value, or a PE/SIMD that does not divide the layer's dimension.
void apply_folding(HwGraph& hw, const FoldingConfig& config, bool allow_missing = false);
// The graph's folding in FINN's folding_config format (JSON text).
std::string folding_to_json(const HwGraph& hw);
// Checks every layer's PE/SIMD against its dimensions; throws Error naming the layer.
void validate_folding(const HwGraph& hw);

// FINN's SetFolding: PE/SIMD per layer so that every layer needs fewer than
// floor(clock / fps) cycles per frame where possible, two-pass relaxation included.
struct AutoFoldResult {
  int64_t target_cycles = 0;  // the first-pass target
  int64_t achieved_cycles = 0;
  bool relaxed = false;  // second pass run because one layer could not reach the target
};
AutoFoldResult auto_fold(HwGraph& hw, double target_fps, double clock_mhz, int64_t mvau_wwidth_max = 36,
                         bool finn_exact = false);

struct EstimateOptions {
  DspBlock dsp_block = DspBlock::kDsp48E1;
  bool has_uram = false;  // the part has UltraRAM (threshold memories may use it)
  // Reproduce FINN's numbers including its known errors (RTL MVAU LUT = 0, hidden threshold
  // BRAM, URAM on parts without it). Default: corrected figures, with a note on each layer.
  bool finn_exact = false;
};
EstimateOptions estimate_options_for(const Board& board, bool finn_exact = false);

struct Resources {
  int64_t lut = 0;
  int64_t lutram = 0;  // part of lut: LUTs used as memory
  int64_t bram18 = 0;
  int64_t uram = 0;
  int64_t dsp = 0;
};

struct LayerEstimate {
  Resources res;
  int64_t cycles = 0;              // expected cycles per frame
  DataType acc_type;               // accumulator used (MVAU/VVAU)
  DataType weight_type;            // after minimisation (MVAU/VVAU)
  std::vector<std::string> notes;  // FINN quirks and choices made for this layer
};

struct Estimate {
  std::vector<LayerEstimate> layers;
  Resources total;
  int bottleneck = -1;  // layer with the most cycles (first of equals); -1 when empty
  int64_t max_cycles = 0;
  int64_t critical_path_cycles = 0;  // longest input-to-output sum of layer cycles
  double fps(double clock_mhz) const;
  double latency_ms(double clock_mhz) const;
};

// Per-layer formulas (FINN's, re-derived). Throws Error naming the layer when its folding is
// invalid.
LayerEstimate estimate_layer(const HwLayer& layer, const EstimateOptions& options = {});
Estimate estimate(const HwGraph& hw, const EstimateOptions& options = {});

// How a resource total compares with a board.
struct ResourceFit {
  std::string resource;  // "lut", "lutram", "bram18", "uram", "dsp"
  int64_t used = 0;
  int64_t available = 0;
  double usable_fraction = 0.0;
  double percent() const;  // used / available * 100 (0 when nothing available and nothing used)
  bool fits() const;       // used <= usable_fraction * available
};
std::vector<ResourceFit> fit_on_board(const Resources& total, const Board& board);
bool fits_on_board(const Resources& total, const Board& board);

}  // namespace dnnsplit::cost
