// Automatic folding for a target frame rate: FINN's SetFolding heuristic
// (transformation/fpgadataflow/set_folding.py), including its two-pass relaxation.
#include <algorithm>
#include <vector>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost {

namespace {

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> result;
  for (int64_t x = 1; x <= n; ++x) {
    if (n % x == 0) result.push_back(x);
  }
  return result;
}

int64_t cycles_of(const HwLayer& layer) {
  return detail::op_rules(layer.op).estimate(layer, {}).cycles;
}

// SetFolding.optimize_attribute_val: the smallest divisor that meets the target, else the largest.
void optimize(HwLayer& layer, int64_t max_value, int64_t Folding::*attr, int64_t target) {
  layer.folding.*attr = 1;
  for (int64_t value : divisors(max_value)) {
    layer.folding.*attr = value;
    if (cycles_of(layer) < target) break;
  }
}

void fold_mvau(HwLayer& layer, int64_t target, int64_t wwidth_max) {
  layer.folding.pe = 1;
  layer.folding.simd = 1;
  // SIMD first while the per-PE weight stream stays within wwidth_max bits.
  for (int64_t simd : divisors(layer.mw)) {
    const int64_t previous = layer.folding.simd;
    layer.folding.simd = simd;
    if (cycles_of(layer) < target) break;
    if (layer.weight_type.bits * simd > wwidth_max) {
      layer.folding.simd = previous;
      break;
    }
  }
  optimize(layer, layer.mh, &Folding::pe, target);
}

void fold_depthwise(HwGraph& hw, size_t index, int64_t target) {
  HwLayer& layer = hw.layers[index];
  const bool vvau = layer.op == HwOp::kVvau;
  if (vvau) layer.folding.simd = 1;
  optimize(layer, layer.channels, &Folding::pe, target);
  if (vvau && layer.folding.pe == layer.channels && cycles_of(layer) > target) {
    optimize(layer, layer.kernel[0] * layer.kernel[1], &Folding::simd, target);
  }
  // The depthwise SWG in front must stream exactly PE channels per cycle.
  if (!layer.inputs.empty() && layer.inputs[0] >= 0) {
    HwLayer& producer = hw.layers[static_cast<size_t>(layer.inputs[0])];
    if (producer.op == HwOp::kSwg) {
      producer.folding.simd = layer.folding.pe;
      producer.folding.parallel_window = producer.backend == Backend::kRtl && vvau && layer.folding.simd > 1;
    }
  }
}

void fold_swg(HwLayer& layer, int64_t target) {
  if (layer.depthwise) return;  // set by its VVAU / Pool consumer
  if (layer.backend == Backend::kRtl) layer.folding.parallel_window = false;
  optimize(layer, layer.channels, &Folding::simd, target);
  if (layer.backend == Backend::kRtl && layer.folding.simd == layer.channels && cycles_of(layer) > target) {
    layer.folding.parallel_window = true;
  }
}

void set_folding_pass(HwGraph& hw, int64_t target, int64_t wwidth_max, bool finn_exact) {
  for (size_t i = 0; i < hw.layers.size(); ++i) {
    HwLayer& layer = hw.layers[i];
    switch (detail::op_rules(layer.op).fold_rule) {
      case detail::FoldRule::kMvau: fold_mvau(layer, target, wwidth_max); break;
      case detail::FoldRule::kPe:
      case detail::FoldRule::kLabels: optimize(layer, layer.channels, &Folding::pe, target); break;
      case detail::FoldRule::kSimd: optimize(layer, layer.channels, &Folding::simd, target); break;
      case detail::FoldRule::kSimdSwg: fold_swg(layer, target); break;
      case detail::FoldRule::kDepthwise: fold_depthwise(hw, i, target); break;
      case detail::FoldRule::kFmPaddingRtl:
        // SetFolding has no rule for FMPadding_rtl; left as it is, it can become the bottleneck.
        if (!finn_exact || layer.backend == Backend::kHls) optimize(layer, layer.channels, &Folding::simd, target);
        break;
      case detail::FoldRule::kNone: break;
    }
  }
}

int64_t max_cycles(const HwGraph& hw) {
  int64_t result = 0;
  for (const auto& layer : hw.layers) result = std::max(result, cycles_of(layer));
  return result;
}

}  // namespace

AutoFoldResult auto_fold(HwGraph& hw, double target_fps, double clock_mhz, int64_t mvau_wwidth_max, bool finn_exact) {
  check(target_fps > 0.0, "target frames/s must be positive, got " + std::to_string(target_fps));
  check(clock_mhz > 0.0, "clock must be positive, got " + std::to_string(clock_mhz) + " MHz");
  check(mvau_wwidth_max >= 1, "mvau_wwidth_max must be at least 1");
  AutoFoldResult result;
  // build_dataflow_config: int(clock_hz / target_fps)
  result.target_cycles = static_cast<int64_t>(clock_mhz * 1e6 / target_fps);
  check(result.target_cycles >= 1, "target of " + std::to_string(target_fps) + " frames/s at " +
                                       std::to_string(clock_mhz) + " MHz is less than one cycle per frame");
  set_folding_pass(hw, result.target_cycles, mvau_wwidth_max, finn_exact);
  result.achieved_cycles = max_cycles(hw);
  if (result.achieved_cycles > result.target_cycles) {
    // Second pass with the achievable target balances the rest of the pipeline.
    result.relaxed = true;
    set_folding_pass(hw, result.achieved_cycles, mvau_wwidth_max, finn_exact);
    result.achieved_cycles = max_cycles(hw);
  }
  return result;
}

}  // namespace dnnsplit::cost
