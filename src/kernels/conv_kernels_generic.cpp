// Generic (scalar) window kernels: im2col, max-pool, and the generic entries of the depthwise and
// float-path families, which the SIMD entries are tested against.
#include <algorithm>
#include <cstring>

#include "conv_kernels.h"

namespace dnnsplit::kernels {

namespace {

// n bytes, 8 <= n <= 16, as two overlapping 8-byte moves the compiler keeps inline (a first
// layer's kernel row is 3 taps x 3 channels = 9 bytes: a call per copy would cost more).
inline void copy_8_to_16(uint8_t* dst, const uint8_t* src, size_t n) {
  uint64_t head, tail;
  std::memcpy(&head, src, 8);
  std::memcpy(&tail, src + n - 8, 8);
  std::memcpy(dst, &head, 8);
  std::memcpy(dst + n - 8, &tail, 8);
}

}  // namespace

void im2col_u8(const ConvGeometry& g, const uint8_t* in, int64_t p0, int64_t p1, uint8_t pad_code, uint8_t* a,
               size_t lda) {
  const auto c = static_cast<size_t>(g.in_c);
  const auto span = static_cast<size_t>(g.kernel_w) * c;  // one kernel row, when its taps are adjacent
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t oy = p / g.out_w;
    const int64_t ox = p % g.out_w;
    uint8_t* row = a + static_cast<size_t>(p - p0) * lda;
    const int64_t ix0 = ox * g.stride_w - g.pad_left;
    const bool row_inside = g.dilation_w == 1 && ix0 >= 0 && ix0 + g.kernel_w <= g.in_w;
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (row_inside && iy >= 0 && iy < g.in_h) {
        const uint8_t* src = in + static_cast<size_t>(iy * g.in_w + ix0) * c;
        if (span >= 8 && span <= 16) {
          copy_8_to_16(row, src, span);
        } else {
          std::memcpy(row, src, span);
        }
        row += span;
        continue;
      }
      for (int64_t kx = 0; kx < g.kernel_w; ++kx, row += c) {
        const int64_t ix = ix0 + kx * g.dilation_w;
        const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
        const uint8_t* src = inside ? in + static_cast<size_t>(iy * g.in_w + ix) * c : nullptr;
        if (c <= 8) {  // few channels (first layers): a call per tap would cost more than the copy
          for (size_t ch = 0; ch < c; ++ch) row[ch] = inside ? src[ch] : pad_code;
        } else if (inside) {
          std::memcpy(row, src, c);
        } else {
          std::memset(row, pad_code, c);
        }
      }
    }
  }
}

void maxpool_u8(const ConvGeometry& g, const uint8_t* in, int64_t oy0, int64_t oy1, uint8_t* out) {
  const auto c = static_cast<size_t>(g.in_c);
  for (int64_t oy = oy0; oy < oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      uint8_t* dst = out + static_cast<size_t>(oy * g.out_w + ox) * c;
      std::memset(dst, 0, c);
      for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
        const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
        if (iy < 0 || iy >= g.in_h) continue;
        for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
          const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
          if (ix < 0 || ix >= g.in_w) continue;
          const uint8_t* src = in + static_cast<size_t>(iy * g.in_w + ix) * c;
          for (size_t ch = 0; ch < c; ++ch) dst[ch] = std::max(dst[ch], src[ch]);
        }
      }
    }
  }
}

namespace {

// Calls fn(tap, iy, ix) for the taps of output (oy, ox) that fall inside the input, row-major.
template <typename F>
void for_each_tap(const ConvGeometry& g, int64_t oy, int64_t ox, F&& fn) {
  for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
    const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
      const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
      fn(ky * g.kernel_w + kx, iy, ix, iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w);
    }
  }
}

void dwconv_u8s8_1c_generic(const DwArgs& args) {
  const ConvGeometry& g = *args.g;
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      uint8_t* dst = args.out + (oy * g.out_w + ox) * g.out_c;
      for (int64_t ch = 0; ch < g.out_c; ++ch) {
        int32_t acc = 0;
        for_each_tap(g, oy, ox, [&](int64_t tap, int64_t iy, int64_t ix, bool inside) {
          const int32_t x = inside ? args.in[(iy * g.in_w + ix) * g.in_c + ch] : args.pad_code;
          acc += x * args.w[tap * args.c_padded + ch];
        });
        const int32_t* t = args.thresholds + ch * args.threshold_count;
        int code = 0;
        while (code < args.threshold_count && acc >= t[code]) ++code;
        dst[ch] = static_cast<uint8_t>(code);
      }
    }
  }
}

// Sum in double, in the reference's order; padding taps add an exact zero, which cannot change
// a sum that starts at +0, so they are skipped.
void store_float_result(const FconvArgs& args, int64_t pixel, int64_t ch, double acc) {
  const ConvGeometry& g = *args.g;
  if (args.bias != nullptr) acc += args.bias[ch];
  const auto y = static_cast<float>(acc);
  if (args.out_codes == nullptr) {
    args.out_values[pixel * g.out_c + ch] = y;
    return;
  }
  const float* t = args.thresholds + ch * args.threshold_count;
  int code = 0;
  while (code < args.threshold_count && y >= t[code]) ++code;
  args.out_codes[pixel * g.out_c + ch] = static_cast<uint8_t>(code);
}

void fconv_f64_dense_1c_generic(const FconvArgs& args) {
  const ConvGeometry& g = *args.g;
  const int64_t taps = g.taps();
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      for (int64_t oc = 0; oc < g.out_c; ++oc) {
        double acc = 0.0;
        for (int64_t c = 0; c < g.in_c; ++c) {
          for_each_tap(g, oy, ox, [&](int64_t tap, int64_t iy, int64_t ix, bool inside) {
            if (inside) {
              acc += static_cast<double>(args.in[(iy * g.in_w + ix) * g.in_c + c]) * args.w[(c * taps + tap) * args.c_padded + oc];
            }
          });
        }
        store_float_result(args, oy * g.out_w + ox, oc, acc);
      }
    }
  }
}

void fconv_f64_dw_1c_generic(const FconvArgs& args) {
  const ConvGeometry& g = *args.g;
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      for (int64_t ch = 0; ch < g.out_c; ++ch) {
        double acc = 0.0;
        for_each_tap(g, oy, ox, [&](int64_t tap, int64_t iy, int64_t ix, bool inside) {
          if (inside) acc += static_cast<double>(args.in[(iy * g.in_w + ix) * g.in_c + ch]) * args.w[tap * args.c_padded + ch];
        });
        store_float_result(args, oy * g.out_w + ox, ch, acc);
      }
    }
  }
}

void decode_u8_f32_1c_generic(const DecodeArgs& args) {
  for (int64_t p = 0; p < args.pixels; ++p) {
    for (int64_t c = 0; c < args.channels; ++c) {
      const int64_t at = p * args.channels + c;
      args.out[at] = static_cast<float>(args.a * args.in[at] + args.b) * args.scale[c];
    }
  }
}

}  // namespace

DecodeKernel decode_generic_kernel() { return {"decode_u8_f32_1c__generic", decode_u8_f32_1c_generic, 1}; }

DwKernel dwconv_generic_kernel() { return {"dwconv_u8s8_1c__generic", dwconv_u8s8_1c_generic, 1}; }
FconvKernel fconv_generic_kernel(bool depthwise) {
  if (depthwise) return {"fconv_f64_dw_1c__generic", fconv_f64_dw_1c_generic, 1, true};
  return {"fconv_f64_dense_1c__generic", fconv_f64_dense_1c_generic, 1, false};
}

std::vector<float> pack_float_thresholds(const float* t, int64_t n, int count, int nr) {
  const int64_t np = (n + nr - 1) / nr * nr;
  std::vector<float> packed(static_cast<size_t>(np * count), __builtin_inff());
  for (int64_t j = 0; j < n; ++j) {
    for (int c = 0; c < count; ++c) packed[static_cast<size_t>(((j / nr) * count + c) * nr + j % nr)] = t[j * count + c];
  }
  return packed;
}

}  // namespace dnnsplit::kernels
