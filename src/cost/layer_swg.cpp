// ConvolutionInputGenerator (sliding window generator, SWG): turns a feature-map stream into the
// stream of convolution windows an MVAU/VVAU/Pool consumes. rtl/convolutioninputgenerator_rtl.py
// (the default backend) and hls/convolutioninputgenerator_hls.py (old FINN files).
#include <algorithm>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost::detail {

namespace {

struct SwgDims {
  int64_t kh, kw, h, w, oh, ow, sh, sw, dh, dw, cf;
};

SwgDims dims_of(const HwLayer& layer) {
  return {layer.kernel[0],
          layer.kernel[1],
          layer.ifm[0],
          layer.ifm[1],
          layer.ofm[0],
          layer.ofm[1],
          layer.stride[0],
          layer.stride[1],
          layer.dilation[0],
          layer.dilation[1],
          layer.channels / layer.folding.simd};
}

int64_t ram_width_for_depth(int64_t depth) {
  if (depth <= 512) return 36;
  if (depth <= 1024) return 18;
  if (depth <= 2048) return 9;
  if (depth <= 4096) return 4;
  if (depth <= 8192) return 2;
  return 1;
}

// Buffer depth of the RTL implementation styles (get_buffer_depth).
int64_t rtl_buffer_depth(const HwLayer& layer) {
  const SwgDims d = dims_of(layer);
  if (swg_parallel_style(layer)) return ((d.kh - 1) * d.dh * d.w + (d.kw - 1) * d.dw) * d.cf + 1 + 1;
  const int64_t window = d.kh * d.kw;
  return ((d.kh - 1) * d.dh * d.w + (d.kw - 1) * d.dw + 1) * d.cf + std::max<int64_t>(0, ((d.sw - 1) - window) * d.cf) +
         std::max<int64_t>(0, ((d.sh - 1) * d.w - window) * d.cf);
}

// Line buffers of the parallel style: (k_h - 1) buffers; none for 1D.
bool rtl_buffers(const HwLayer& layer, int64_t& depth, int64_t& count) {
  const SwgDims d = dims_of(layer);
  if (swg_parallel_style(layer)) {
    if (d.h == 1 || d.w == 1) return false;
    const int64_t kernel_width = (d.kw - 1) * d.dw + 1;
    depth = (d.w - kernel_width) + d.w * (d.dh - 1);
    count = d.kh - 1;
  } else {
    depth = rtl_buffer_depth(layer);
    count = 1;
  }
  return true;
}

LayerEstimate estimate_rtl(const HwLayer& layer) {
  LayerEstimate e;
  const Folding& f = layer.folding;
  const int64_t width = f.simd * layer.input_type.bits;
  e.cycles = swg_cycles(layer);
  if (f.ram_style == RamStyle::kDistributed) {
    e.res.lutram = width * ceil_div(rtl_buffer_depth(layer), 38);
  }
  e.res.lut = 300 + e.res.lutram;
  int64_t depth = 0;
  int64_t count = 0;
  if ((f.ram_style == RamStyle::kBlock || f.ram_style == RamStyle::kAuto) && rtl_buffers(layer, depth, count)) {
    const int64_t ram_width = ram_width_for_depth(depth);
    const int64_t cascade_depth = ceil_div(depth, 16384);
    const int64_t cascade_width = ceil_div(width, ram_width);
    int64_t savings = 0;
    if (depth > 16384) savings = cascade_width - ceil_div(width, ram_width_for_depth(depth % 16384));
    e.res.bram18 = (cascade_depth * cascade_width - savings) * count;
  }
  if (f.ram_style == RamStyle::kUltra && rtl_buffers(layer, depth, count)) {
    e.res.uram = ceil_div(depth, 4096) * ceil_div(width, 72) * count;
  }
  return e;
}

LayerEstimate estimate_hls(const HwLayer& layer) {
  // The HLS formulas assume square dimensions (index 0).
  LayerEstimate e;
  const SwgDims d = dims_of(layer);
  const Folding& f = layer.folding;
  const int64_t width = f.simd * layer.input_type.bits;
  const int64_t buffers = d.kh + d.sh;
  const int64_t ram_depth = d.h * d.cf;
  e.cycles = d.w * d.kh * d.dh * d.cf + d.oh * std::max(d.ow * d.kw * d.kh * d.cf, d.sw * d.w * d.cf);
  if (f.ram_style == RamStyle::kDistributed) e.res.lutram = buffers * width * ceil_div(ram_depth, 64);
  e.res.lut = 300 + e.res.lutram;
  if (f.ram_style == RamStyle::kBlock || f.ram_style == RamStyle::kAuto) {
    e.res.bram18 = buffers * ceil_div(width, ram_width_for_depth(ram_depth));
  }
  if (f.ram_style == RamStyle::kUltra) e.res.uram = buffers * ceil_div(width, 64) * ceil_div(ram_depth, 4096);
  return e;
}

}  // namespace

bool swg_parallel_style(const HwLayer& layer) {
  return layer.folding.parallel_window || (layer.kernel[0] == 1 && layer.kernel[1] == 1);
}

int64_t swg_cycles(const HwLayer& layer) {
  const SwgDims d = dims_of(layer);
  if (layer.backend == Backend::kHls) {
    return d.w * d.kh * d.dh * d.cf + d.oh * std::max(d.ow * d.kw * d.kh * d.cf, d.sw * d.w * d.cf);
  }
  if (swg_parallel_style(layer)) return d.h * d.w * d.cf + 2;
  if (d.h == 1 || d.w == 1) {
    // 1D: normalised so that the spatial dimension is the width.
    const bool along_h = d.w == 1 && d.h != 1;
    const int64_t ow = along_h ? d.oh : d.ow;
    const int64_t kw = along_h ? d.kh : d.kw;
    const int64_t sw = along_h ? d.sh : d.sw;
    if (layer.depthwise) return ow * kw * d.cf + d.cf * (kw - 1) * (sw - 1) - (kw - 1) + 2;
    return ow * kw * d.cf + 2;
  }
  const int64_t buffer_min = ((d.kh - 1) * d.dh * d.w + (d.kw - 1) * d.dw + 1) * d.cf;
  int64_t block = std::max(d.ow * d.kw * d.kh * d.cf, d.sw * d.w * d.cf);
  if (layer.depthwise) block += d.ow * (d.sw - 1) * (d.cf - 1);
  int64_t cycles = buffer_min + d.oh * block;
  if (layer.depthwise) cycles += (d.sh - 1) * d.w * d.cf;
  return cycles;
}

void validate_swg(const HwLayer& layer) {
  check_divides(layer, "SIMD", layer.folding.simd, "IFMChannels", layer.channels);
  const bool pointwise = layer.kernel[0] == 1 && layer.kernel[1] == 1;
  if (layer.backend == Backend::kRtl && layer.folding.parallel_window && !layer.depthwise && !pointwise) {
    check(layer.folding.simd == layer.channels, layer.name + ": parallel_window needs SIMD = IFMChannels (" +
                                                    std::to_string(layer.channels) + "), not " +
                                                    std::to_string(layer.folding.simd));
  }
}

LayerEstimate estimate_swg(const HwLayer& layer, const EstimateOptions& /*options*/) {
  validate_swg(layer);
  return layer.backend == Backend::kRtl ? estimate_rtl(layer) : estimate_hls(layer);
}

}  // namespace dnnsplit::cost::detail
