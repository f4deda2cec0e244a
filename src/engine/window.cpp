// Sliding-window geometry shared by Conv, MaxPool and AveragePool.
#include "kernel.h"

namespace dnnsplit::engine {

namespace {

std::vector<int64_t> ints_attr(const KernelContext& ctx, const char* key, size_t rank, int64_t fallback) {
  auto v = ctx.node.attr_ints_or(key, std::vector<int64_t>(rank, fallback));
  return v;
}

}  // namespace

Window make_window(const KernelContext& ctx, const Shape& in_spatial, const Shape& kernel, bool ceil_mode) {
  const size_t rank = in_spatial.size();
  Window w;
  w.in = in_spatial;
  w.kernel = kernel;
  ctx.require(kernel.size() == rank, "kernel has " + std::to_string(kernel.size()) + " spatial dimensions, input " +
                                         std::to_string(rank));
  w.strides = ints_attr(ctx, "strides", rank, 1);
  w.dilations = ints_attr(ctx, "dilations", rank, 1);
  ctx.require(w.strides.size() == rank, "attribute 'strides' needs " + std::to_string(rank) + " values");
  ctx.require(w.dilations.size() == rank, "attribute 'dilations' needs " + std::to_string(rank) + " values");
  const auto pads = ctx.node.attr_ints_or("pads", std::vector<int64_t>(2 * rank, 0));
  ctx.require(pads.size() == 2 * rank, "attribute 'pads' needs " + std::to_string(2 * rank) + " values");
  const std::string auto_pad = ctx.node.attr_string_or("auto_pad", "NOTSET");
  w.pad_begin.assign(rank, 0);
  w.pad_end.assign(rank, 0);
  w.out.assign(rank, 0);
  for (size_t i = 0; i < rank; ++i) {
    ctx.require(kernel[i] >= 1 && w.strides[i] >= 1 && w.dilations[i] >= 1,
                "kernel extents, strides and dilations must be positive");
    const int64_t extent = (kernel[i] - 1) * w.dilations[i] + 1;  // dilated kernel
    const int64_t in = in_spatial[i];
    const int64_t s = w.strides[i];
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w.out[i] = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (w.out[i] - 1) * s + extent - in);
      // The odd pixel of padding goes to the end for SAME_UPPER, to the beginning for SAME_LOWER.
      w.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pad_end[i] = total - w.pad_begin[i];
      continue;
    }
    if (auto_pad == "NOTSET") {
      w.pad_begin[i] = pads[i];
      w.pad_end[i] = pads[i + rank];
      ctx.require(w.pad_begin[i] >= 0 && w.pad_end[i] >= 0, "attribute 'pads' must not be negative");
    } else {
      ctx.require(auto_pad == "VALID", "attribute 'auto_pad' has unknown value '" + auto_pad + "'");
    }
    const int64_t span = in + w.pad_begin[i] + w.pad_end[i] - extent;
    ctx.require(span >= 0, "window of extent " + std::to_string(extent) + " does not fit the padded input extent " +
                               std::to_string(in + w.pad_begin[i] + w.pad_end[i]) + " in spatial dimension " +
                               std::to_string(i));
    w.out[i] = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // A window may not start in the end padding (PyTorch's and onnxruntime's ceil_mode rule).
    if (ceil_mode && (w.out[i] - 1) * s >= in + w.pad_begin[i]) --w.out[i];
  }
  return w;
}

std::vector<int64_t> window_taps(const Window& w) {
  const size_t rank = w.in.size();
  const int64_t out_size = w.out_size();
  const int64_t k_size = w.kernel_size();
  const auto in_strides = strides_of(w.in);
  std::vector<int64_t> taps(static_cast<size_t>(k_size * out_size));
  std::vector<int64_t> kc(rank, 0);
  for (int64_t k = 0; k < k_size; ++k) {
    std::vector<int64_t> oc(rank, 0);
    for (int64_t p = 0; p < out_size; ++p) {
      int64_t index = 0;
      for (size_t d = 0; d < rank && index >= 0; ++d) {
        const int64_t pos = oc[d] * w.strides[d] - w.pad_begin[d] + kc[d] * w.dilations[d];
        index = (pos < 0 || pos >= w.in[d]) ? -1 : index + pos * in_strides[d];
      }
      taps[static_cast<size_t>(k * out_size + p)] = index < 0 ? w.in_size() : index;
      for (size_t d = rank; d-- > 0;) {
        if (++oc[d] < w.out[d]) break;
        oc[d] = 0;
      }
    }
    for (size_t d = rank; d-- > 0;) {
      if (++kc[d] < w.kernel[d]) break;
      kc[d] = 0;
    }
  }
  return taps;
}

}  // namespace dnnsplit::engine
