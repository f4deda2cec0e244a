// VVAU (VectorVectorActivation): FINN's depthwise convolution engine, fed by a depthwise sliding
// window generator. Formulas of vectorvectoractivation.py and its hls / rtl backends.
#include <cmath>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost::detail {

void validate_vvau(const HwLayer& layer) {
  check_divides(layer, "PE", layer.folding.pe, "Channels", layer.channels);
  check_divides(layer, "SIMD", layer.folding.simd, "kernel size", layer.kernel[0] * layer.kernel[1]);
}

LayerEstimate estimate_vvau(const HwLayer& layer, const EstimateOptions& options) {
  validate_vvau(layer);
  const Folding& f = layer.folding;
  const int64_t P = f.pe;
  const int64_t Q = f.simd;
  const int64_t k2 = layer.kernel[0] * layer.kernel[1];
  LayerEstimate e;
  e.weight_type = effective_weight_type(layer);
  e.acc_type = accumulator_type(layer);
  const int64_t W = e.weight_type.bits;
  const int64_t A = layer.input_type.bits;
  const int64_t wmem = k2 * layer.channels / (P * Q);
  const int64_t tmem = layer.thresholds ? layer.channels / P : 0;
  const int64_t width = P * Q * W;
  e.cycles = layer.channels * k2 / P / Q * layer.num_vectors;

  const bool decoupled = f.mem_mode == MemMode::kInternalDecoupled;
  const bool embedded = f.mem_mode == MemMode::kInternalEmbedded;
  const bool external = f.mem_mode == MemMode::kExternal;
  const bool lutram_style = f.ram_style == RamStyle::kDistributed;
  const bool ultra = f.ram_style == RamStyle::kUltra;
  const bool small_auto = f.ram_style == RamStyle::kAuto && wmem <= 128;

  const bool no_bram = (decoupled && (lutram_style || ultra)) || small_auto || (embedded && wmem <= 128) || external;
  e.res.bram18 = no_bram ? 0 : bram18_finn_r(width, wmem, true);
  e.res.uram = (decoupled && ultra) ? uram_blocks(width, wmem) : 0;
  int64_t c2 = ((decoupled && lutram_style) || (embedded && wmem <= 128)) ? width * ceil_div(wmem, 64) : 0;
  if (small_auto && c2 == 0 && !external) {
    if (options.finn_exact) {
      e.notes.push_back("weights (auto, WMEM<=128) neither BRAM nor LUT in FINN's estimate");
    } else {
      // Vivado maps such shallow memories to LUTRAM; FINN's estimate drops them altogether.
      c2 = width * ceil_div(wmem, 64);
      e.notes.push_back("auto weights with WMEM<=128 counted as LUTRAM (FINN counts nothing)");
    }
  }

  const bool res_dsp = f.res_type == ResType::kDsp;
  const double mult = res_dsp ? 0.0 : static_cast<double>(Q * (2 * ceil_div(W + A, 6) - 1) * (W + A));
  const double adder = static_cast<double>((W + A) * (2 * Q - 1));
  const double alpha =
      std::log2(static_cast<double>(k2)) + static_cast<double>(W + A - 1) - (layer.input_type.is_signed ? 1.0 : 0.0);
  const double acc_bits = std::min(static_cast<double>(e.acc_type.bits), acc_bound_bits(alpha));
  double thr = 0.0;
  double cmp = 0.0;
  if (layer.thresholds) {
    // Embedded thresholds are always counted for VVAU, without ceil on TMEM/64.
    const double levels = std::pow(2.0, layer.output_type.bits) - 1.0;
    thr = levels * acc_bits * static_cast<double>(tmem) / 64.0;
    cmp = levels * acc_bits;
  }

  if (layer.backend == Backend::kHls) {
    e.res.lut = finn_r_luts(P, mult, adder, acc_bits, thr, cmp, c2);
    e.res.dsp = res_dsp ? P * ceil_div(W + A, 48) : 0;
  } else {
    e.res.dsp = P * ceil_div(Q, 3);
    if (options.finn_exact) {
      e.res.lut = 0;
      e.notes.push_back("FINN's VVAU_rtl LUT estimate is 0");
    } else {
      e.res.lut = finn_r_luts(P, 0.0, 0.0, acc_bits, thr, cmp, c2);  // as MVAU_rtl
      e.notes.push_back("LUT = 300 + 1.1*PE*acc + LUTRAM weights; FINN reports 0 for VVAU_rtl");
    }
  }
  e.res.lutram = c2 + static_cast<int64_t>(static_cast<double>(P) * thr);
  return e;
}

}  // namespace dnnsplit::cost::detail
