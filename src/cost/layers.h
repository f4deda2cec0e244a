// Internal to the cost component: the per-op rules (one file per hardware layer type), the
// registry that lists them, and the formula helpers they share.
#pragma once

#include <string>
#include <vector>

#include "dnnsplit/cost.h"

namespace dnnsplit::cost::detail {

// ---- shared formula helpers (memory.cpp) ----
int64_t ceil_div(int64_t a, int64_t b);
// Smallest k with 2^k >= x (x >= 1).
int bits_for(int64_t x);
// FINN-R model of a weight memory of `depth` words x `width` bits in simple-dual-port RAMB18s
// (MVAU: divisors 9/18/36; VVAU uses 8/16/32 for the last three width classes).
int64_t bram18_finn_r(int64_t width, int64_t depth, bool vvau_divisors);
// UltraRAM blocks (72 x 4096) for a width x depth memory.
int64_t uram_blocks(int64_t width, int64_t depth);
// Accumulator width bound of arXiv:2301.13376 used by FINN's LUT model:
// ceil(alpha + log2(1 + 2^-alpha) + 1).
double acc_bound_bits(double alpha);
// FINN-R LUT model shared by MVAU_hls and VVAU_hls:
// int(300 + 1.1 * (P * (mult + adder + acc + thr + cmp)) + c2).
int64_t finn_r_luts(int64_t pe, double mult, double adder, double acc, double thr, double cmp, int64_t c2);

// The memory primitive FINN picks for a threshold memory (util/basic.py memutil /
// get_memutil_alternatives over mem_primitives_versal, fewest wasted bits, ties to the earlier
// entry).
struct MemoryChoice {
  std::string kind;  // "URAM", "BRAM18" or "LUTRAM"
  std::string primitive;
  int64_t count = 0;
  int64_t waste_bits = 0;
};
// kinds: allowed primitive kinds in FINN's order (subset of URAM, BRAM18, LUTRAM).
MemoryChoice pick_memory_primitive(int64_t width, int64_t depth, const std::vector<std::string>& kinds);

// ---- data types (datatypes.cpp) ----
// Weight type after FINN's minimize_weight_bit_width (the declared type when the weights are
// unknown or runtime-writeable).
DataType effective_weight_type(const HwLayer& layer);
// Accumulator after FINN's MinimizeAccumulatorWidth (explicit acc_type wins).
DataType accumulator_type(const HwLayer& layer);
// Thresholding weightDataType: smallest type covering the input range and the thresholds.
DataType threshold_type(const HwLayer& layer);

// ---- per-op rules (layer_*.cpp) ----
// How SetFolding treats an op (transformation/fpgadataflow/set_folding.py).
enum class FoldRule : uint8_t {
  kMvau,          // SIMD first (weight stream width limited), then PE
  kPe,            // PE over divisors of channels
  kSimd,          // SIMD over divisors of channels
  kSimdSwg,       // non-depthwise SWG: SIMD, then parallel_window
  kDepthwise,     // VVAU / Pool: PE, (VVAU: then SIMD), sets the producer SWG's SIMD
  kLabels,        // LabelSelect: PE over divisors of Labels
  kFmPaddingRtl,  // FINN has no rule (quirk); dnnsplit folds it like kSimd unless finn_exact
  kNone,
};

struct OpRules {
  HwOp op;
  const char* name;               // FINN op type without backend
  std::vector<std::string> keys;  // folding keys this op accepts
  FoldRule fold_rule;
  // Throws Error naming the layer when PE/SIMD do not divide the layer's dimensions.
  void (*validate)(const HwLayer& layer);
  LayerEstimate (*estimate)(const HwLayer& layer, const EstimateOptions& options);
};

const OpRules& op_rules(HwOp op);
const std::vector<OpRules>& all_op_rules();

// Throws Error "<layer>: <what> <value> does not divide <dim name> <dim>".
void check_divides(const HwLayer& layer, const char* what, int64_t value, const char* dim_name, int64_t dim);

void validate_mvau(const HwLayer& layer);
LayerEstimate estimate_mvau(const HwLayer& layer, const EstimateOptions& options);
void validate_vvau(const HwLayer& layer);
LayerEstimate estimate_vvau(const HwLayer& layer, const EstimateOptions& options);
void validate_thresholding(const HwLayer& layer);
LayerEstimate estimate_thresholding(const HwLayer& layer, const EstimateOptions& options);
void validate_swg(const HwLayer& layer);
LayerEstimate estimate_swg(const HwLayer& layer, const EstimateOptions& options);
// SWG_rtl implementation style and buffer depth, shared with auto folding.
bool swg_parallel_style(const HwLayer& layer);
int64_t swg_cycles(const HwLayer& layer);

// Stream ops without (or with small) resources: layer_stream_ops.cpp.
void validate_fmpadding(const HwLayer& layer);
LayerEstimate estimate_fmpadding(const HwLayer& layer, const EstimateOptions& options);
void validate_channels_pe(const HwLayer& layer);
LayerEstimate estimate_streaming_maxpool(const HwLayer& layer, const EstimateOptions& options);
void validate_pool(const HwLayer& layer);
LayerEstimate estimate_pool(const HwLayer& layer, const EstimateOptions& options);
LayerEstimate estimate_global_acc_pool(const HwLayer& layer, const EstimateOptions& options);
void validate_label_select(const HwLayer& layer);
LayerEstimate estimate_label_select(const HwLayer& layer, const EstimateOptions& options);
LayerEstimate estimate_add_streams(const HwLayer& layer, const EstimateOptions& options);
LayerEstimate estimate_duplicate_streams(const HwLayer& layer, const EstimateOptions& options);
LayerEstimate estimate_channelwise(const HwLayer& layer, const EstimateOptions& options);
void validate_downsampler(const HwLayer& layer);
LayerEstimate estimate_downsampler(const HwLayer& layer, const EstimateOptions& options);

}  // namespace dnnsplit::cost::detail
