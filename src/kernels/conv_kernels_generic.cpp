// Generic (scalar) window kernels: im2col, max-pool, and the generic entries of the depthwise and
// float-path families, which the SIMD entries are tested against.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

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

MaxPoolKernel maxpool_generic_kernel() { return {"maxpool_u8__generic", maxpool_u8}; }
DecodeKernel decode_generic_kernel() { return {"decode_u8_f32_1c__generic", decode_u8_f32_1c_generic, 1}; }

DwKernel dwconv_generic_kernel() { return {"dwconv_u8s8_1c__generic", dwconv_u8s8_1c_generic, 1}; }
FconvKernel fconv_generic_kernel(bool depthwise) {
  if (depthwise) return {"fconv_f64_dw_1c__generic", fconv_f64_dw_1c_generic, 1, true};
  return {"fconv_f64_dense_1c__generic", fconv_f64_dense_1c_generic, 1, false};
}

namespace {

// The straight line through each channel's first and last finite threshold; rho in units of
// the step bounds the distance of the true decision points from it, with ample slack for the
// float32 rounding of z = (y - a) * inv (relative errors of 2^-24 each, counted as 2^-20).
void fit_thresholds(FconvFilter& f, const std::vector<float>& thresholds, int count, int64_t channels) {
  const size_t cp = f.margin.size();
  const float inf = std::numeric_limits<float>::infinity();
  f.fit_a.assign(cp, 0.0F);
  f.fit_inv.assign(cp, 0.0F);
  f.fit_rho.assign(cp, 0.0F);  // padding lanes: z = 0, always "certain" (and discarded)
  f.fit_top.assign(cp, -1.0F);
  for (size_t m = 0; m < static_cast<size_t>(channels); ++m) {
    const float* t = thresholds.data() + m * static_cast<size_t>(count);
    int finite = 0;
    while (finite < count && std::isfinite(t[finite])) ++finite;
    bool ok = finite == count || t[finite] == inf;  // +inf thresholds (never) only at the end
    for (int q = finite; ok && q < count; ++q) ok = t[q] == inf;
    f.fit_top[m] = static_cast<float>(finite - 1);
    if (!ok) {
      f.fit_top[m] = static_cast<float>(count - 1);
      f.fit_rho[m] = inf;  // always counted
      continue;
    }
    if (finite == 0) continue;  // code 0 always
    const double a = t[0];
    const double step = finite > 1 ? (static_cast<double>(t[finite - 1]) - a) / (finite - 1) : 1.0;
    double dev = 0.0;
    for (int q = 0; q < finite; ++q) dev = std::max(dev, std::fabs(static_cast<double>(t[q]) - (a + q * step)));
    const float inv = static_cast<float>(1.0 / step);
    if (!(step > 0.0) || !std::isfinite(inv) || inv == 0.0F) {
      f.fit_rho[m] = inf;
      continue;
    }
    const double range = static_cast<double>(f.margin[m]) * 0x1p23 + std::fabs(a) + finite * step;  // >= |y - a|
    const double rho = (static_cast<double>(f.margin[m]) + dev) / step * (1.0 + 0x1p-20) + 0x1p-20 * (range / step + finite + 2);
    f.fit_a[m] = static_cast<float>(a);
    f.fit_inv[m] = inv;
    f.fit_rho[m] = std::isfinite(rho) ? std::nextafter(static_cast<float>(rho), inf) : inf;
  }
}

}  // namespace

void use_fconv_filter(FconvArgs& args, const FconvFilter& f) {
  args.w32 = f.w32.data();
  args.bias32 = f.bias32.data();
  args.margin = f.margin.data();
  args.fit_a = f.fit_a.data();
  args.fit_inv = f.fit_inv.data();
  args.fit_rho = f.fit_rho.data();
  args.fit_top = f.fit_top.data();
}

std::optional<FconvFilter> make_fconv_filter(const ConvGeometry& g, const std::vector<double>& w,
                                             const std::vector<double>& bias, int64_t c_padded, double in_bound,
                                             const std::vector<float>& thresholds, int count) {
  if (!std::isfinite(in_bound)) return std::nullopt;
  const int64_t k = g.in_c * g.taps();
  const auto cp = static_cast<size_t>(c_padded);
  FconvFilter f;
  f.w32.resize(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    f.w32[i] = static_cast<float>(w[i]);
    if (static_cast<double>(f.w32[i]) != w[i]) return std::nullopt;
  }
  f.bias32.assign(cp, 0.0F);
  f.margin.assign(cp, 0.0F);
  for (size_t m = 0; m < cp; ++m) {
    double p = 0.0;
    for (int64_t i = 0; i < k; ++i) p += std::fabs(w[static_cast<size_t>(i) * cp + m]);
    const double b = m < bias.size() ? bias[m] : 0.0;
    f.bias32[m] = static_cast<float>(b);
    // Recursive sums of n terms err by at most about n * u * (sum of |terms|) (u = 2^-24 for
    // float32, 2^-53 for double); the rounding of the float32 inputs of lo/hi and the step
    // from the reference's double to float32 (one ulp of the range) add a few u more. Twice
    // that, plus subnormal underflow per step.
    const double range = p * in_bound + std::fabs(b);
    const double e = static_cast<double>(k + 8) * 0x1p-23 * range * (1.0 + 1e-6) + static_cast<double>(k + 8) * 0x1p-148;
    if (!(range < 0x1p120)) return std::nullopt;
    f.margin[m] = std::nextafter(static_cast<float>(e), std::numeric_limits<float>::infinity());
  }
  fit_thresholds(f, thresholds, count, g.out_c);
  return f;
}

std::vector<float> pack_float_thresholds(const float* t, int64_t n, int count, int nr) {
  const int64_t np = (n + nr - 1) / nr * nr;
  std::vector<float> packed(static_cast<size_t>(np * count), __builtin_inff());
  for (int64_t j = 0; j < n; ++j) {
    for (int c = 0; c < count; ++c) packed[static_cast<size_t>(((j / nr) * count + c) * nr + j % nr)] = t[j * count + c];
  }
  return packed;
}

bool dw_fits_int16(const std::vector<int32_t>& w, int64_t taps, int64_t c_padded, int u_max) {
  for (int64_t c = 0; c < c_padded; ++c) {
    int64_t sum = 0;
    for (int64_t t = 0; t < taps; ++t) sum += std::abs(int64_t{w[static_cast<size_t>(t * c_padded + c)]});
    if (sum * u_max > 32766) return false;
  }
  return true;
}

// Thresholds past the sums' range (never reached) saturate to INT16_MAX, which no sum reaches.
std::vector<int16_t> narrow_int16(const std::vector<int32_t>& v) {
  std::vector<int16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<int16_t>(std::clamp<int32_t>(v[i], -32768, 32767));
  return out;
}

}  // namespace dnnsplit::kernels
