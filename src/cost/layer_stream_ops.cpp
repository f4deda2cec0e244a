// Stream layers whose FINN estimate is (almost) only a cycle count: FMPadding, StreamingMaxPool,
// Pool, GlobalAccPool, LabelSelect, AddStreams, DuplicateStreams, ChannelwiseOp, DownSampler.
#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost::detail {

void validate_fmpadding(const HwLayer& layer) {
  check_divides(layer, "SIMD", layer.folding.simd, "NumChannels", layer.channels);
}

LayerEstimate estimate_fmpadding(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_fmpadding(layer);
  LayerEstimate e;
  // One output word per padded pixel and channel fold.
  e.cycles = layer.channels / layer.folding.simd * layer.ofm[0] * layer.ofm[1];
  return e;
}

void validate_channels_pe(const HwLayer& layer) {
  check_divides(layer, "PE", layer.folding.pe, "NumChannels", layer.channels);
}

LayerEstimate estimate_streaming_maxpool(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_channels_pe(layer);
  LayerEstimate e;
  const int64_t k2 = layer.kernel[0] * layer.kernel[1];
  if (layer.ifm[0] == 1 || layer.ifm[1] == 1) {
    // 1D: OFM * NF * (k + 1)
    const bool along_h = layer.ifm[1] == 1;
    const int64_t ofm = along_h ? layer.ofm[0] : layer.ofm[1];
    const int64_t k = along_h ? layer.kernel[0] : layer.kernel[1];
    e.cycles = ofm * (layer.channels / layer.folding.pe) * (k + 1);
  } else {
    // FINN's 2D figure, IFM_H * IFM_W * (1 + 1/k^2), documented upstream as approximate.
    const double ifm = static_cast<double>(layer.ifm[0] * layer.ifm[1]);
    e.cycles = static_cast<int64_t>(ifm * (1.0 + 1.0 / static_cast<double>(k2)));
  }
  return e;
}

void validate_pool(const HwLayer& layer) {
  validate_channels_pe(layer);
}

LayerEstimate estimate_pool(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_pool(layer);
  LayerEstimate e;
  const int64_t k2 = layer.kernel[0] * layer.kernel[1];
  e.cycles = layer.channels * k2 / layer.folding.pe * layer.ofm[0] * layer.ofm[1];
  return e;
}

LayerEstimate estimate_global_acc_pool(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_channels_pe(layer);
  LayerEstimate e;
  const int64_t nf = layer.channels / layer.folding.pe;
  e.cycles = nf * layer.num_vectors + nf;
  return e;
}

void validate_label_select(const HwLayer& layer) {
  check_divides(layer, "PE", layer.folding.pe, "Labels", layer.channels);
}

LayerEstimate estimate_label_select(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_label_select(layer);
  LayerEstimate e;
  e.cycles = layer.channels / layer.folding.pe;
  return e;
}

LayerEstimate estimate_add_streams(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_channels_pe(layer);
  LayerEstimate e;
  e.cycles = layer.channels / layer.folding.pe * layer.num_vectors;
  return e;
}

LayerEstimate estimate_duplicate_streams(const HwLayer& layer, const EstimateOptions& options) {
  return estimate_add_streams(layer, options);
}

LayerEstimate estimate_channelwise(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_channels_pe(layer);
  LayerEstimate e;
  const int64_t P = layer.folding.pe;
  const int64_t A = layer.input_type.bits;
  const int64_t tmem = layer.channels / P;
  e.cycles = tmem * layer.num_vectors;
  const bool distributed = layer.folding.ram_style == RamStyle::kDistributed;
  const bool block = layer.folding.ram_style == RamStyle::kBlock;
  e.res.lutram = (distributed && tmem > 1) ? P * A * ceil_div(tmem, 64) : 0;
  e.res.lut = A * P + e.res.lutram;
  e.res.bram18 = (block && tmem > 1) ? ceil_div(A * P, 16) * ceil_div(tmem, 1024) : 0;
  return e;
}

void validate_downsampler(const HwLayer& layer) {
  check_divides(layer, "SIMD", layer.folding.simd, "NumChannels", layer.channels);
}

LayerEstimate estimate_downsampler(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_downsampler(layer);
  LayerEstimate e;
  e.cycles = layer.channels / layer.folding.simd * layer.ifm[0] * layer.ifm[1];
  return e;
}

}  // namespace dnnsplit::cost::detail
