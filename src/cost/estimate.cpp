// Whole-graph estimate (FINN's res_estimation + dataflow_performance analyses), board fit,
// and slicing a graph into a stage.
#include <algorithm>
#include <limits>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost {

EstimateOptions estimate_options_for(const Board& board, bool finn_exact) {
  EstimateOptions options;
  options.dsp_block = board.dsp_block();
  options.has_uram = board.resources.uram > 0;
  options.finn_exact = finn_exact;
  return options;
}

LayerEstimate estimate_layer(const HwLayer& layer, const EstimateOptions& options) {
  return detail::op_rules(layer.op).estimate(layer, options);
}

Estimate estimate(const HwGraph& hw, const EstimateOptions& options) {
  Estimate result;
  std::vector<int64_t> path(hw.layers.size(), 0);
  for (size_t i = 0; i < hw.layers.size(); ++i) {
    const HwLayer& layer = hw.layers[i];
    LayerEstimate e = estimate_layer(layer, options);
    result.total.lut += e.res.lut;
    result.total.lutram += e.res.lutram;
    result.total.bram18 += e.res.bram18;
    result.total.uram += e.res.uram;
    result.total.dsp += e.res.dsp;
    if (e.cycles > result.max_cycles || result.bottleneck < 0) {
      result.max_cycles = e.cycles;
      result.bottleneck = static_cast<int>(i);
    }
    // Longest input-to-output sum of cycles (FINN's pessimistic latency, no overlap).
    int64_t before = 0;
    for (int in : layer.inputs) {
      if (in >= 0 && static_cast<size_t>(in) < i) before = std::max(before, path[static_cast<size_t>(in)]);
    }
    path[i] = before + e.cycles;
    result.critical_path_cycles = std::max(result.critical_path_cycles, path[i]);
    result.layers.push_back(std::move(e));
  }
  return result;
}

double Estimate::fps(double clock_mhz) const {
  return max_cycles > 0 ? clock_mhz * 1e6 / static_cast<double>(max_cycles) : 0.0;
}

double Estimate::latency_ms(double clock_mhz) const {
  return clock_mhz > 0 ? static_cast<double>(critical_path_cycles) / (clock_mhz * 1e3) : 0.0;
}

double ResourceFit::percent() const {
  if (available > 0) return 100.0 * static_cast<double>(used) / static_cast<double>(available);
  return used > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

bool ResourceFit::fits() const {
  return static_cast<double>(used) <= usable_fraction * static_cast<double>(available);
}

std::vector<ResourceFit> fit_on_board(const Resources& total, const Board& board) {
  const BoardResources& r = board.resources;
  const UsableFraction& u = board.usable;
  return {{"lut", total.lut, r.lut, u.lut},
          {"lutram", total.lutram, r.lutram, u.lutram},
          {"bram18", total.bram18, r.bram18, u.bram18},
          {"uram", total.uram, r.uram, u.uram},
          {"dsp", total.dsp, r.dsp, u.dsp}};
}

bool fits_on_board(const Resources& total, const Board& board) {
  const auto fits = fit_on_board(total, board);
  return std::all_of(fits.begin(), fits.end(), [](const ResourceFit& f) { return f.fits(); });
}

HwGraph hw_slice(const HwGraph& hw, int first, int last) {
  const int count = static_cast<int>(hw.layers.size());
  check(first >= 0 && last < count && first <= last, "layer range [" + std::to_string(first) + ", " +
                                                         std::to_string(last) + "] is outside 0.." +
                                                         std::to_string(count - 1));
  HwGraph slice;
  slice.source = hw.source;
  slice.node_layer.assign(hw.node_layer.size(), -1);
  for (int i = first; i <= last; ++i) {
    HwLayer layer = hw.layers[static_cast<size_t>(i)];
    for (int& in : layer.inputs) in = (in >= first && in <= last) ? in - first : -1;
    slice.layers.push_back(std::move(layer));
  }
  for (size_t n = 0; n < hw.node_layer.size(); ++n) {
    const int l = hw.node_layer[n];
    if (l >= first && l <= last) slice.node_layer[n] = l - first;
  }
  return slice;
}

}  // namespace dnnsplit::cost
