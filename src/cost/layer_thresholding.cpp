// Thresholding: a MultiThreshold that FINN did not embed into an MVAU/VVAU (the input quantizer
// of CNV, every activation in FINN's separate-thresholds MobileNet flow). thresholding.py,
// hls/thresholding_hls.py and rtl/thresholding_rtl.py (binary-search thresholding).
#include <limits>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost::detail {

void validate_thresholding(const HwLayer& layer) {
  check_divides(layer, "PE", layer.folding.pe, "NumChannels", layer.channels);
}

namespace {

LayerEstimate estimate_hls(const HwLayer& layer) {
  LayerEstimate e;
  const int64_t P = layer.folding.pe;
  const int64_t A = layer.input_type.bits;
  const int64_t tmem = layer.channels / P;
  const bool distributed = layer.folding.ram_style == RamStyle::kDistributed;
  const bool block = layer.folding.ram_style == RamStyle::kBlock;
  e.res.lutram = (distributed && tmem > 1) ? P * A * ceil_div(tmem, 64) : 0;
  e.res.lut = A * P + e.res.lutram;
  e.res.bram18 = (block && tmem > 1) ? ceil_div(A * P, 16) * ceil_div(tmem, 1024) : 0;
  return e;
}

LayerEstimate estimate_rtl(const HwLayer& layer, const EstimateOptions& options) {
  LayerEstimate e;
  const int64_t P = layer.folding.pe;
  const int64_t cf = layer.channels / P;
  const int64_t width = threshold_type(layer).bits;
  const int64_t trigger_bram = layer.folding.depth_trigger_bram;
  int64_t trigger_uram = layer.folding.depth_trigger_uram;
  const bool triggers = trigger_bram != 0 || trigger_uram != 0;
  if (!options.finn_exact && trigger_uram == 0) trigger_uram = std::numeric_limits<int64_t>::max();
  const bool uram_ok = options.finn_exact || options.has_uram;
  const std::vector<std::string> all =
      uram_ok ? std::vector<std::string>{"URAM", "BRAM18", "LUTRAM"} : std::vector<std::string>{"BRAM18", "LUTRAM"};
  int64_t uram = 0;
  int64_t bram = 0;
  int64_t lutram = 0;
  bool uram_replaced = false;
  bool uram_excluded = false;
  // One memory per PE and output bit x, of depth CF * 2^x (binary-search stages).
  for (int x = 0; x < layer.output_type.bits; ++x) {
    const int64_t depth = cf * (int64_t{1} << x);
    std::vector<std::string> kinds = all;
    if (triggers) {
      if (depth >= trigger_bram && depth < trigger_uram) {
        kinds = {"BRAM18"};
      } else if (depth >= trigger_uram) {
        kinds = {"URAM"};
        if (!uram_ok) {
          kinds = {"BRAM18"};
          uram_replaced = true;
        }
      } else if (!options.finn_exact) {
        kinds = {"LUTRAM"};  // the RTL puts memories below the BRAM trigger in LUTRAM
      }
    }
    const MemoryChoice choice = pick_memory_primitive(width, depth, kinds);
    if (!uram_ok && kinds == all) {
      uram_excluded = uram_excluded || pick_memory_primitive(width, depth, {"URAM", "BRAM18", "LUTRAM"}).kind == "URAM";
    }
    if (choice.kind == "URAM") uram += P * choice.count;
    if (choice.kind == "BRAM18") bram += P * choice.count;
    if (choice.kind == "LUTRAM") lutram += P * choice.count;
  }
  e.res.lut = lutram;  // FINN counts only the LUTRAM of the threshold memories
  e.res.lutram = lutram;
  e.res.uram = uram;
  if (options.finn_exact) {
    if (bram > 0) e.notes.push_back(std::to_string(bram) + " BRAM18 not reported by FINN (looks up 'BRAM')");
  } else {
    e.res.bram18 = bram;
    if (bram > 0) e.notes.push_back("threshold BRAM18 counted (FINN hides it)");
    if (uram_excluded) e.notes.push_back("FINN would pick URAM, which this part lacks: BRAM/LUTRAM used");
  }
  if (uram_replaced) e.notes.push_back("URAM trigger reached on a part without URAM: BRAM used");
  return e;
}

}  // namespace

LayerEstimate estimate_thresholding(const HwLayer& layer, const EstimateOptions& options) {
  validate_thresholding(layer);
  LayerEstimate e = layer.backend == Backend::kHls ? estimate_hls(layer) : estimate_rtl(layer, options);
  e.cycles = layer.channels / layer.folding.pe * layer.num_vectors;
  e.weight_type = threshold_type(layer);
  return e;
}

}  // namespace dnnsplit::cost::detail
