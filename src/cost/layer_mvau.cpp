// MVAU (MatrixVectorActivation): FINN's compute engine for dense convolutions (after a sliding
// window generator) and fully-connected layers. Formulas of matrixvectoractivation.py and its
// hls / rtl backends (finn-facts.md (a)).
#include <cmath>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost::detail {

void validate_mvau(const HwLayer& layer) {
  check_divides(layer, "PE", layer.folding.pe, "MH", layer.mh);
  check_divides(layer, "SIMD", layer.folding.simd, "MW", layer.mw);
}

LayerEstimate estimate_mvau(const HwLayer& layer, const EstimateOptions& options) {
  validate_mvau(layer);
  const Folding& f = layer.folding;
  const int64_t P = f.pe;
  const int64_t Q = f.simd;
  LayerEstimate e;
  e.weight_type = effective_weight_type(layer);
  e.acc_type = accumulator_type(layer);
  const int64_t W = e.weight_type.bits;
  const int64_t A = layer.input_type.bits;
  const int64_t wmem = layer.mw * layer.mh / (P * Q);
  const int64_t tmem = layer.thresholds ? layer.mh / P : 0;
  const int64_t width = P * Q * W;
  e.cycles = (layer.mh / P) * (layer.mw / Q) * layer.num_vectors;

  const bool decoupled = f.mem_mode == MemMode::kInternalDecoupled;
  const bool embedded = f.mem_mode == MemMode::kInternalEmbedded;
  const bool external = f.mem_mode == MemMode::kExternal;
  const bool lutram_style = f.ram_style == RamStyle::kDistributed;
  const bool ultra = f.ram_style == RamStyle::kUltra;

  // Weight memory: BRAM (auto counts as BRAM), URAM or LUTRAM (c2).
  const bool no_bram = (decoupled && (lutram_style || ultra)) || (embedded && wmem <= 128) || external;
  e.res.bram18 = no_bram ? 0 : bram18_finn_r(width, wmem, false);
  const bool no_uram = (decoupled && !ultra) || (embedded && wmem <= 128) || external;
  e.res.uram = no_uram ? 0 : uram_blocks(width, wmem);
  if (embedded && wmem > 128 && !options.finn_exact) {
    // FINN counts an embedded memory both as BRAM and as URAM; keep the one its ram_style asks for.
    if (ultra) {
      e.res.bram18 = 0;
    } else {
      e.res.uram = 0;
    }
    e.notes.push_back("embedded weights counted once (FINN counts them as BRAM and URAM)");
  }
  const int64_t c2 = ((decoupled && lutram_style) || (embedded && wmem <= 128)) ? width * ceil_div(wmem, 64) : 0;

  // FINN-R LUT model.
  const bool res_dsp = f.res_type == ResType::kDsp;
  const double mult = res_dsp ? 0.0 : static_cast<double>(Q * (2 * ceil_div(W + A, 6) - 1) * (W + A));
  const double adder = static_cast<double>((W + A) * (2 * Q - 1));
  const double alpha = std::log2(static_cast<double>(layer.mw)) + static_cast<double>(W + A - 1) -
                       (layer.input_type.is_signed ? 1.0 : 0.0);
  const double acc_bits = std::min(static_cast<double>(e.acc_type.bits), acc_bound_bits(alpha));
  double thr = 0.0;
  double cmp = 0.0;
  if (layer.thresholds && f.ram_style_thresholds == RamStyle::kDistributed) {
    const double levels = std::pow(2.0, layer.output_type.bits) - 1.0;
    thr = levels * acc_bits * static_cast<double>(ceil_div(tmem, 64));
    cmp = levels * acc_bits;
  } else if (layer.thresholds) {
    e.notes.push_back("thresholds not costed (FINN, ram_style_thresholds=" + ram_style_name(f.ram_style_thresholds) +
                      ")");
  }

  if (layer.backend == Backend::kHls) {
    e.res.lut = finn_r_luts(P, mult, adder, acc_bits, thr, cmp, c2);
    e.res.dsp = res_dsp ? P * Q * ceil_div(W + A, 48) : 0;
  } else {
    e.res.dsp = options.dsp_block == DspBlock::kDsp58 ? P * ceil_div(Q, 3) : ceil_div(P, 4) * Q;
    if (options.finn_exact) {
      e.res.lut = 0;
      e.notes.push_back("FINN's MVAU_rtl LUT estimate is 0 (finn#1309)");
    } else {
      // Multipliers and the SIMD adder tree are the DSP cascade; what stays in fabric is control
      // (FINN-R's constant), one accumulator per PE and LUTRAM weights.
      e.res.lut = finn_r_luts(P, 0.0, 0.0, acc_bits, thr, cmp, c2);
      e.notes.push_back("LUT = 300 + 1.1*PE*acc + LUTRAM weights; FINN reports 0 for MVAU_rtl (finn#1309)");
    }
    if (f.res_type == ResType::kLut) e.notes.push_back("resType=lut is ignored by MVAU_rtl (finn#1306)");
  }
  e.res.lutram = c2 + static_cast<int64_t>(static_cast<double>(P) * thr);
  return e;
}

}  // namespace dnnsplit::cost::detail
