// SIMD window kernels, one copy per Highway target: channels are the vector lanes (NHWC), so
// each lane runs exactly the generic kernel's sequence of operations for its channel.
#include <algorithm>
#include <cstring>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "conv_kernels_hwy.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "conv_kernels.h"
#include "hwy_list.h"

HWY_BEFORE_NAMESPACE();
namespace dnnsplit::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR  // the generic kernels cover one-lane targets

constexpr size_t kMaxLanes = HWY_MAX_BYTES / 4;
constexpr int64_t kMaxTapTable = 64;  // kernels tabulate the taps of windows up to this size

// Stores the first `valid` lanes of v at dst (all of them when valid >= the lane count) without
// writing past them.
template <class D>
HWY_INLINE void store_first(D d, hn::Vec<D> v, uint8_t* dst, int64_t valid) {
  if (valid >= static_cast<int64_t>(hn::Lanes(d))) {
    hn::StoreU(v, d, dst);
    return;
  }
  alignas(64) uint8_t bytes[HWY_MAX_BYTES];
  hn::StoreU(v, d, bytes);
  std::memcpy(dst, bytes, static_cast<size_t>(valid));
}

// ---- depthwise integer ---------------------------------------------------------------------------

void dwconv_u8s8_hwy(const DwArgs& args) {
  const hn::ScalableTag<int32_t> d32;
  const hn::Rebind<uint8_t, decltype(d32)> du8;
  const size_t nr = hn::Lanes(d32);
  const ConvGeometry& g = *args.g;
  const auto pad = hn::Set(d32, args.pad_code);
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      uint8_t* dst = args.out + (oy * g.out_w + ox) * g.out_c;
      for (int64_t c0 = 0; c0 < g.out_c; c0 += static_cast<int64_t>(nr)) {
        auto acc = hn::Zero(d32);
        for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
          const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
            const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
            const auto x = inside ? hn::PromoteTo(d32, hn::LoadU(du8, args.in + (iy * g.in_w + ix) * g.in_c + c0)) : pad;
            const auto w = hn::LoadU(d32, args.w + (ky * g.kernel_w + kx) * args.c_padded + c0);
            acc = hn::Add(acc, hn::Mul(x, w));
          }
        }
        const int32_t* t = args.thresholds + (c0 / static_cast<int64_t>(nr)) * args.threshold_count * static_cast<int64_t>(nr);
        auto below = hn::Zero(d32);
        for (int q = 0; q < args.threshold_count; ++q) {
          below = hn::Add(below, hn::VecFromMask(d32, acc < hn::LoadU(d32, t + static_cast<size_t>(q) * nr)));
        }
        store_first(du8, hn::DemoteTo(du8, hn::Add(hn::Set(d32, args.threshold_count), below)), dst + c0, g.out_c - c0);
      }
    }
  }
}

// int16 sums (dw_fits_int16): twice the channels per vector of the int32 kernel. Interior pixels
// (every tap inside the input) go kDwPixels at a time through a table of tap offsets: one
// weight load serves all of them and their sums are independent chains. Border pixels tabulate
// their own taps, null outside the input.
constexpr int kDwPixels = 4;

// Codes of 16-bit sums: threshold_line_code per lane when the step has lines, else one compare
// per threshold.
template <class D16>
HWY_INLINE hn::Vec<hn::Rebind<uint8_t, D16>> dw_i16_codes(const DwArgs& args, D16 d16, hn::Vec<D16> sums, int64_t c0) {
  const hn::Rebind<uint8_t, D16> du8;
  if (args.line_inv != nullptr) {
    const hn::Half<D16> dh;
    const hn::Rebind<int32_t, decltype(dh)> d32;
    const hn::Rebind<float, decltype(dh)> df;
    const hn::Rebind<uint8_t, decltype(dh)> du8h;
    const auto top = hn::Set(df, static_cast<float>(args.threshold_count));
    const auto n = static_cast<int64_t>(hn::Lanes(d32));
    auto half = [&](hn::Vec<decltype(dh)> v, int64_t c) {
      const auto x = hn::MulAdd(hn::ConvertTo(df, hn::PromoteTo(d32, v)), hn::LoadU(df, args.line_inv + c),
                                hn::LoadU(df, args.line_off + c));
      return hn::DemoteTo(du8h, hn::ConvertTo(d32, hn::Min(hn::Max(x, hn::Zero(df)), top)));
    };
    return hn::Combine(du8, half(hn::UpperHalf(dh, sums), c0 + n), half(hn::LowerHalf(dh, sums), c0));
  }
  const auto nr = static_cast<int64_t>(hn::Lanes(d16));
  const int16_t* th = args.thresholds16 + (c0 / nr) * args.threshold_count * nr;
  auto below = hn::Zero(d16);
  for (int q = 0; q < args.threshold_count; ++q)
    below = hn::Add(below, hn::VecFromMask(d16, sums < hn::LoadU(d16, th + q * nr)));
  return hn::DemoteTo(du8, hn::Add(hn::Set(d16, static_cast<int16_t>(args.threshold_count)), below));
}

template <int P>
HWY_INLINE void dw_i16_interior(const DwArgs& args, const int64_t* offset, int64_t taps, const uint8_t* base,
                                int64_t pixel_step, int64_t c0, uint8_t* dst, int64_t dst_step) {
  static_assert(P >= 1 && P <= 4);
  const hn::ScalableTag<int16_t> d16;
  const hn::Rebind<uint8_t, decltype(d16)> du8;
  const ConvGeometry& g = *args.g;
  const int16_t* w = args.w16 + c0;
  // Named variables, not arrays: GCC keeps arrays of vectors on the stack inside the loop.
  auto s0 = hn::Zero(d16), s1 = s0, s2 = s0, s3 = s0;
  auto tap_input = [&](int p, int64_t t) {
    return hn::PromoteTo(d16, hn::LoadU(du8, base + p * pixel_step + offset[t] + c0));
  };
  for (int64_t t = 0; t < taps; ++t) {
    const auto wv = hn::LoadU(d16, w + t * args.c_padded);
    s0 = hn::Add(s0, hn::Mul(tap_input(0, t), wv));
    if constexpr (P > 1) s1 = hn::Add(s1, hn::Mul(tap_input(1, t), wv));
    if constexpr (P > 2) s2 = hn::Add(s2, hn::Mul(tap_input(2, t), wv));
    if constexpr (P > 3) s3 = hn::Add(s3, hn::Mul(tap_input(3, t), wv));
  }
  store_first(du8, dw_i16_codes(args, d16, s0, c0), dst + c0, g.out_c - c0);
  if constexpr (P > 1) store_first(du8, dw_i16_codes(args, d16, s1, c0), dst + dst_step + c0, g.out_c - c0);
  if constexpr (P > 2) store_first(du8, dw_i16_codes(args, d16, s2, c0), dst + 2 * dst_step + c0, g.out_c - c0);
  if constexpr (P > 3) store_first(du8, dw_i16_codes(args, d16, s3, c0), dst + 3 * dst_step + c0, g.out_c - c0);
}

// One pixel, any position, every channel block: taps outside the input read pad_code.
HWY_INLINE void dw_i16_border(const DwArgs& args, int64_t oy, int64_t ox) {
  const hn::ScalableTag<int16_t> d16;
  const hn::Rebind<uint8_t, decltype(d16)> du8;
  const auto nr = static_cast<int64_t>(hn::Lanes(d16));
  const ConvGeometry& g = *args.g;
  auto pixel = [&](int64_t t) -> const uint8_t* {  // the tap's input pixel, or null outside
    const int64_t iy = oy * g.stride_h - g.pad_top + (t / g.kernel_w) * g.dilation_h;
    const int64_t ix = ox * g.stride_w - g.pad_left + (t % g.kernel_w) * g.dilation_w;
    return iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w ? args.in + (iy * g.in_w + ix) * g.in_c : nullptr;
  };
  const uint8_t* tap_in[kMaxTapTable];
  const int64_t taps = g.taps();
  const bool table = taps <= kMaxTapTable;  // else computed per block
  for (int64_t t = 0; table && t < taps; ++t) tap_in[t] = pixel(t);
  const auto pad = hn::Set(d16, static_cast<int16_t>(args.pad_code));
  uint8_t* dst = args.out + (oy * g.out_w + ox) * g.out_c;
  for (int64_t c0 = 0; c0 < g.out_c; c0 += nr) {
    auto acc = hn::Zero(d16);
    for (int64_t t = 0; t < taps; ++t) {
      const uint8_t* p = table ? tap_in[t] : pixel(t);
      const auto x = p != nullptr ? hn::PromoteTo(d16, hn::LoadU(du8, p + c0)) : pad;
      acc = hn::Add(acc, hn::Mul(x, hn::LoadU(d16, args.w16 + c0 + t * args.c_padded)));
    }
    store_first(du8, dw_i16_codes(args, d16, acc, c0), dst + c0, g.out_c - c0);
  }
}

void dwconv_u8s8_i16_hwy(const DwArgs& args) {
  const hn::ScalableTag<int16_t> d16;
  const auto nr = static_cast<int64_t>(hn::Lanes(d16));
  const ConvGeometry& g = *args.g;
  const int64_t taps = g.taps();
  int64_t offset[kMaxTapTable];
  const bool table = taps <= kMaxTapTable;
  for (int64_t t = 0; table && t < taps; ++t) {
    offset[t] = ((t / g.kernel_w) * g.dilation_h * g.in_w + (t % g.kernel_w) * g.dilation_w) * g.in_c;
  }
  const int64_t y_span = (g.kernel_h - 1) * g.dilation_h;
  const int64_t x_span = (g.kernel_w - 1) * g.dilation_w;
  // Interior columns: ox * stride_w - pad_left >= 0 and + x_span < in_w.
  const int64_t ox_lo = std::min(g.out_w, (g.pad_left + g.stride_w - 1) / g.stride_w);
  const int64_t last = g.in_w - 1 - x_span + g.pad_left;  // largest ox * stride_w inside
  const int64_t ox_hi = last < 0 ? ox_lo : std::clamp(last / g.stride_w + 1, ox_lo, g.out_w);
  const int64_t pixel_step = g.stride_w * g.in_c;
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    const bool row_inside = table && iy0 >= 0 && iy0 + y_span < g.in_h;
    const int64_t lo = row_inside ? ox_lo : g.out_w;
    const int64_t hi = row_inside ? ox_hi : g.out_w;
    for (int64_t ox = 0; ox < lo; ++ox) dw_i16_border(args, oy, ox);
    for (int64_t ox = hi; ox < g.out_w; ++ox) dw_i16_border(args, oy, ox);
    for (int64_t c0 = 0; c0 < g.out_c; c0 += nr) {
      const uint8_t* base = args.in + (iy0 * g.in_w + lo * g.stride_w - g.pad_left) * g.in_c;
      uint8_t* dst = args.out + (oy * g.out_w + lo) * g.out_c;
      int64_t ox = lo;
      for (; ox + kDwPixels <= hi; ox += kDwPixels, base += kDwPixels * pixel_step, dst += kDwPixels * g.out_c) {
        dw_i16_interior<kDwPixels>(args, offset, taps, base, pixel_step, c0, dst, g.out_c);
      }
      for (; ox < hi; ++ox, base += pixel_step, dst += g.out_c)
        dw_i16_interior<1>(args, offset, taps, base, pixel_step, c0, dst, g.out_c);
    }
  }
}

// ---- max-pool ---------------------------------------------------------------------------------------

// Channels are the lanes; the channels past the last whole vector go one by one.
void maxpool_u8_hwy(const ConvGeometry& g, const uint8_t* in, int64_t oy0, int64_t oy1, uint8_t* out) {
  const hn::ScalableTag<uint8_t> du8;
  const auto nr = static_cast<int64_t>(hn::Lanes(du8));
  const int64_t c = g.in_c;
  const int64_t whole = c / nr * nr;
  for (int64_t oy = oy0; oy < oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      uint8_t* dst = out + (oy * g.out_w + ox) * c;
      const uint8_t* src[64];
      int n = 0;
      for_each_tap(g, oy, ox, [&](int64_t, int64_t iy, int64_t ix, bool inside) {
        if (inside && n < 64) src[n++] = in + (iy * g.in_w + ix) * c;
      });
      if (n == 64 || n == 0) {  // huge windows (or none): the generic kernel's way
        maxpool_u8(g, in, oy, oy + 1, out);
        break;
      }
      for (int64_t c0 = 0; c0 < whole; c0 += nr) {
        auto m = hn::LoadU(du8, src[0] + c0);
        for (int t = 1; t < n; ++t) m = hn::Max(m, hn::LoadU(du8, src[t] + c0));
        hn::StoreU(m, du8, dst + c0);
      }
      for (int64_t ch = whole; ch < c; ++ch) {
        uint8_t m = src[0][ch];
        for (int t = 1; t < n; ++t) m = std::max(m, src[t][ch]);
        dst[ch] = m;
      }
    }
  }
}

// ---- decode ---------------------------------------------------------------------------------------

void decode_u8_f32_hwy(const DecodeArgs& args) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<int32_t, decltype(df)> di;
  const hn::Rebind<uint8_t, decltype(df)> du8;
  const auto nr = static_cast<int64_t>(hn::Lanes(df));
  const auto a = hn::Set(di, args.a);
  const auto b = hn::Set(di, args.b);
  alignas(64) float tail[kMaxLanes];
  for (int64_t p = 0; p < args.pixels; ++p) {
    const uint8_t* in = args.in + p * args.channels;
    float* out = args.out + p * args.channels;
    for (int64_t c0 = 0; c0 < args.channels; c0 += nr) {
      const auto q = hn::Add(hn::Mul(hn::PromoteTo(di, hn::LoadU(du8, in + c0)), a), b);
      const auto v = hn::Mul(hn::ConvertTo(df, q), hn::LoadU(df, args.scale + c0));
      if (c0 + nr <= args.channels) {
        hn::StoreU(v, df, out + c0);
      } else {
        hn::StoreU(v, df, tail);
        std::memcpy(out + c0, tail, static_cast<size_t>(args.channels - c0) * sizeof(float));
      }
    }
  }
}

// ---- float path ----------------------------------------------------------------------------------
// A block is nr = Lanes(float) channels: read as one float vector, summed as two double vectors
// (exact float32 x float32 products, so fused and unfused multiply-adds agree), rounded back to
// one float vector for the epilogue.

using DF = hn::ScalableTag<float>;
using DH = hn::Half<DF>;
using DD = hn::Repartition<double, DF>;
using DI = hn::Repartition<int32_t, DF>;

HWY_INLINE void store_float_block(const FconvArgs& args, int64_t pixel, int64_t c0, hn::Vec<DD> lo, hn::Vec<DD> hi) {
  const DF df;
  const DH dh;
  const DD dd;
  const DI di;
  const hn::Rebind<uint8_t, DI> du8;
  const size_t nr = hn::Lanes(df);
  const int64_t n_valid = std::min<int64_t>(static_cast<int64_t>(nr), args.g->out_c - c0);
  if (args.bias != nullptr) {
    lo = hn::Add(lo, hn::LoadU(dd, args.bias + c0));
    hi = hn::Add(hi, hn::LoadU(dd, args.bias + c0 + static_cast<int64_t>(nr / 2)));
  }
  const auto y = hn::Combine(df, hn::DemoteTo(dh, hi), hn::DemoteTo(dh, lo));
  if (args.out_codes == nullptr) {
    float* dst = args.out_values + pixel * args.g->out_c + c0;
    if (n_valid == static_cast<int64_t>(nr)) {
      hn::StoreU(y, df, dst);
    } else {
      alignas(64) float values[kMaxLanes];
      hn::StoreU(y, df, values);
      std::memcpy(dst, values, static_cast<size_t>(n_valid) * sizeof(float));
    }
    return;
  }
  const float* t = args.thresholds + (c0 / static_cast<int64_t>(nr)) * args.threshold_count * static_cast<int64_t>(nr);
  uint8_t* dst = args.out_codes + pixel * args.g->out_c + c0;
#if HWY_TARGET == HWY_AVX2
  // Intrinsics, two interleaved counts: through the wrappers GCC copies the count register once
  // per threshold (the step's hottest instruction).
  if (n_valid == 8) {
    const __m256 yv = y.raw;
    __m256i even = _mm256_set1_epi32(args.threshold_count);
    __m256i odd = _mm256_setzero_si256();
    int q = 0;
    for (; q + 2 <= args.threshold_count; q += 2) {
      even = _mm256_add_epi32(even, _mm256_castps_si256(_mm256_cmp_ps(yv, _mm256_loadu_ps(t + q * 8), _CMP_LT_OQ)));
      odd = _mm256_add_epi32(odd, _mm256_castps_si256(_mm256_cmp_ps(yv, _mm256_loadu_ps(t + q * 8 + 8), _CMP_LT_OQ)));
    }
    if (q < args.threshold_count) {
      even = _mm256_add_epi32(even, _mm256_castps_si256(_mm256_cmp_ps(yv, _mm256_loadu_ps(t + q * 8), _CMP_LT_OQ)));
    }
    const __m256i codes = _mm256_add_epi32(even, odd);
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(codes), _mm256_extracti128_si256(codes, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst), _mm_packus_epi16(words, words));
    return;
  }
#endif
  auto below = hn::Zero(di);  // minus the number of thresholds above y
  for (int q = 0; q < args.threshold_count; ++q) {
    below = hn::Add(below, hn::BitCast(di, hn::VecFromMask(df, y < hn::LoadU(df, t + static_cast<size_t>(q) * nr))));
  }
  store_first(du8, hn::DemoteTo(du8, hn::Add(hn::Set(di, args.threshold_count), below)), dst, n_valid);
}

// One input vector of nr floats times weights w[0..nr) (doubles) into the block's two sums.
HWY_INLINE void madd_block(const float* x, const double* w, hn::Vec<DD>& lo, hn::Vec<DD>& hi) {
  const DF df;
  const DH dh;
  const DD dd;
  const auto v = hn::LoadU(df, x);
  const size_t half = hn::Lanes(dd);
  lo = hn::MulAdd(hn::PromoteTo(dd, hn::LowerHalf(dh, v)), hn::LoadU(dd, w), lo);
  hi = hn::MulAdd(hn::PromoteTo(dd, hn::UpperHalf(dh, v)), hn::LoadU(dd, w + half), hi);
}

// NB channel blocks of one pixel: 2 * NB independent chains of multiply-adds, so the adds
// latency does not bound the loop.
template <int NB, bool kInside>
HWY_INLINE void fconv_dw_blocks(const FconvArgs& args, int64_t oy, int64_t ox, int64_t c0) {
  const DD dd;
  const auto nr = static_cast<int64_t>(hn::Lanes(DF()));
  const ConvGeometry& g = *args.g;
  const int64_t iy0 = oy * g.stride_h - g.pad_top;
  const int64_t ix0 = ox * g.stride_w - g.pad_left;
  hn::Vec<DD> lo[NB];
  hn::Vec<DD> hi[NB];
  for (int b = 0; b < NB; ++b) lo[b] = hi[b] = hn::Zero(dd);
  for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
    const int64_t iy = iy0 + ky * g.dilation_h;
    if (!kInside && (iy < 0 || iy >= g.in_h)) continue;
    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
      const int64_t ix = ix0 + kx * g.dilation_w;
      if (!kInside && (ix < 0 || ix >= g.in_w)) continue;
      const float* x = args.in + (iy * g.in_w + ix) * g.in_c + c0;
      const double* w = args.w + (ky * g.kernel_w + kx) * args.c_padded + c0;
      for (int b = 0; b < NB; ++b) madd_block(x + b * nr, w + b * nr, lo[b], hi[b]);
    }
  }
  for (int b = 0; b < NB; ++b) store_float_block(args, oy * g.out_w + ox, c0 + b * nr, lo[b], hi[b]);
}

template <bool kInside>
HWY_INLINE void fconv_dw_pixel(const FconvArgs& args, int64_t oy, int64_t ox) {
  const auto nr = static_cast<int64_t>(hn::Lanes(DF()));
  int64_t c0 = 0;
  for (; c0 + 4 * nr <= args.g->out_c; c0 += 4 * nr) fconv_dw_blocks<4, kInside>(args, oy, ox, c0);
  for (; c0 < args.g->out_c; c0 += nr) fconv_dw_blocks<1, kInside>(args, oy, ox, c0);
}

void fconv_f64_dw_hwy(const FconvArgs& args) {
  const ConvGeometry& g = *args.g;
  const int64_t y_span = (g.kernel_h - 1) * g.dilation_h;
  const int64_t x_span = (g.kernel_w - 1) * g.dilation_w;
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    const bool rows_inside = iy0 >= 0 && iy0 + y_span < g.in_h;
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      const int64_t ix0 = ox * g.stride_w - g.pad_left;
      if (rows_inside && ix0 >= 0 && ix0 + x_span < g.in_w) {
        fconv_dw_pixel<true>(args, oy, ox);
      } else {
        fconv_dw_pixel<false>(args, oy, ox);
      }
    }
  }
}

// Dense: NB blocks of output channels share each broadcast input value; a tap's weights for
// all channels are contiguous, so the blocks are fixed offsets from one pointer.
template <int NB>
HWY_INLINE void fconv_dense_blocks(const FconvArgs& args, int64_t oy, int64_t ox, int64_t block0) {
  const DD dd;
  const auto nr = static_cast<int64_t>(hn::Lanes(DF()));
  const auto half = static_cast<int64_t>(hn::Lanes(dd));
  const ConvGeometry& g = *args.g;
  const int64_t taps = g.taps();
  hn::Vec<DD> lo[NB];
  hn::Vec<DD> hi[NB];
  for (int b = 0; b < NB; ++b) lo[b] = hi[b] = hn::Zero(dd);
  const double* w0 = args.w + block0 * nr;
  for (int64_t c = 0; c < g.in_c; ++c) {
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
      if (iy < 0 || iy >= g.in_h) continue;
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
        if (ix < 0 || ix >= g.in_w) continue;
        const auto x = hn::Set(dd, static_cast<double>(args.in[(iy * g.in_w + ix) * g.in_c + c]));
        const double* w = w0 + (c * taps + ky * g.kernel_w + kx) * args.c_padded;
        for (int b = 0; b < NB; ++b) {
          lo[b] = hn::MulAdd(x, hn::LoadU(dd, w + b * nr), lo[b]);
          hi[b] = hn::MulAdd(x, hn::LoadU(dd, w + b * nr + half), hi[b]);
        }
      }
    }
  }
  for (int b = 0; b < NB; ++b) store_float_block(args, oy * g.out_w + ox, (block0 + b) * nr, lo[b], hi[b]);
}

// The float32 filter (FconvArgs::w32): float32 sums in any order; a block whose interval
// [y - margin, y + margin] holds a threshold is summed again the reference's way.
// Block `block` of output (oy, ox) from its float32 sums.
HWY_NOINLINE void filter_store(const FconvArgs& args, int64_t oy, int64_t ox, int64_t block, hn::Vec<DF> acc) {
  const DF df;
  const DI di;
  const hn::Rebind<uint8_t, DI> du8;
  const auto nr = static_cast<int64_t>(hn::Lanes(df));
  const ConvGeometry& g = *args.g;
  const int64_t c0 = block * nr;
  const auto y = hn::Add(acc, hn::LoadU(df, args.bias32 + c0));
  uint8_t* dst = args.out_codes + (oy * g.out_w + ox) * g.out_c + c0;
  auto store = [&](hn::Vec<DI> code) { store_first(du8, hn::DemoteTo(du8, code), dst, g.out_c - c0); };
  {
    // The thresholds' straight-line fit: no threshold near y in any lane decides all of them.
    const auto z = hn::Mul(hn::Sub(y, hn::LoadU(df, args.fit_a + c0)), hn::LoadU(df, args.fit_inv + c0));
    const auto rho = hn::LoadU(df, args.fit_rho + c0);
    const auto bottom = hn::Set(df, -1.0F);
    const auto top = hn::LoadU(df, args.fit_top + c0);
    const auto k_lo = hn::Min(hn::Max(hn::Floor(hn::Sub(z, rho)), bottom), top);
    const auto k_hi = hn::Min(hn::Max(hn::Floor(hn::Add(z, rho)), bottom), top);
    if (hn::AllTrue(df, hn::And(hn::Eq(k_lo, k_hi), hn::Eq(z, z)))) {
      store(hn::Add(hn::ConvertTo(di, k_lo), hn::Set(di, 1)));
      return;
    }
  }
  const auto e = hn::LoadU(df, args.margin + c0);
  const auto lo = hn::Sub(y, e);
  const auto hi = hn::Add(y, e);
  const float* t = args.thresholds + block * args.threshold_count * nr;
  auto n_lo = hn::Zero(di);  // minus the thresholds <= lo
  auto n_hi = hn::Zero(di);
  for (int q = 0; q < args.threshold_count; ++q) {
    const auto tq = hn::LoadU(df, t + q * nr);
    n_lo = hn::Add(n_lo, hn::BitCast(di, hn::VecFromMask(df, tq <= lo)));
    n_hi = hn::Add(n_hi, hn::BitCast(di, hn::VecFromMask(df, tq <= hi)));
  }
  if (!hn::AllTrue(di, hn::Eq(n_lo, n_hi))) {
    fconv_dense_blocks<1>(args, oy, ox, block);
    return;
  }
  store(hn::Neg(n_lo));
}

// Taps of an interior pixel: input offsets from its window's corner and weight offsets.
struct FilterTaps {
  std::vector<int64_t> in, w;
};

// NP neighbouring interior pixels, NB channel blocks: NP * NB register sums.
template <int NB, int NP>
HWY_INLINE void filter_interior(const FconvArgs& args, const FilterTaps& taps, int64_t oy, int64_t ox, int64_t block0) {
  const DF df;
  const auto nr = static_cast<int64_t>(hn::Lanes(df));
  const ConvGeometry& g = *args.g;
  hn::Vec<DF> acc[NP][NB];
  const float* base[NP];
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
    base[p] = args.in + ((oy * g.stride_h - g.pad_top) * g.in_w + (ox + p) * g.stride_w - g.pad_left) * g.in_c;
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) acc[p][b] = hn::Zero(df);
  }
  const float* w0 = args.w32 + block0 * nr;
  const auto k = static_cast<int64_t>(taps.in.size());
  for (int64_t i = 0; i < k; ++i) {
    const float* w = w0 + taps.w[static_cast<size_t>(i)];
    const int64_t off = taps.in[static_cast<size_t>(i)];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      const auto x = hn::Set(df, base[p][off]);
      // Weights as memory operands: NP * NB sums and the broadcasts fill the registers.
#pragma GCC unroll 4
      for (int b = 0; b < NB; ++b) acc[p][b] = hn::MulAdd(x, hn::LoadU(df, w + b * nr), acc[p][b]);
    }
  }
#pragma GCC unroll 4
  for (int p = 0; p < NP; ++p) {
#pragma GCC unroll 4
    for (int b = 0; b < NB; ++b) filter_store(args, oy, ox + p, block0 + b, acc[p][b]);
  }
}

// Four interior pixels times two blocks, the sums as named variables: GCC keeps an array of
// them partly in memory.
HWY_INLINE void filter_interior_4x2(const FconvArgs& args, const FilterTaps& taps, int64_t oy, int64_t ox, int64_t block0) {
  const DF df;
  const auto nr = static_cast<int64_t>(hn::Lanes(df));
  const ConvGeometry& g = *args.g;
  const float* in0 = args.in + ((oy * g.stride_h - g.pad_top) * g.in_w + ox * g.stride_w - g.pad_left) * g.in_c;
  const int64_t step = g.stride_w * g.in_c;
  const float* in1 = in0 + step;
  const float* in2 = in1 + step;
  const float* in3 = in2 + step;
  auto a0 = hn::Zero(df), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const float* w0 = args.w32 + block0 * nr;
  const auto k = static_cast<int64_t>(taps.in.size());
  for (int64_t i = 0; i < k; ++i) {
    const float* w = w0 + taps.w[static_cast<size_t>(i)];
    const int64_t off = taps.in[static_cast<size_t>(i)];
    const auto wa = hn::LoadU(df, w);
    const auto wb = hn::LoadU(df, w + nr);
    const auto x0 = hn::Set(df, in0[off]);
    a0 = hn::MulAdd(x0, wa, a0);
    b0 = hn::MulAdd(x0, wb, b0);
    const auto x1 = hn::Set(df, in1[off]);
    a1 = hn::MulAdd(x1, wa, a1);
    b1 = hn::MulAdd(x1, wb, b1);
    const auto x2 = hn::Set(df, in2[off]);
    a2 = hn::MulAdd(x2, wa, a2);
    b2 = hn::MulAdd(x2, wb, b2);
    const auto x3 = hn::Set(df, in3[off]);
    a3 = hn::MulAdd(x3, wa, a3);
    b3 = hn::MulAdd(x3, wb, b3);
  }
  filter_store(args, oy, ox, block0, a0);
  filter_store(args, oy, ox, block0 + 1, b0);
  filter_store(args, oy, ox + 1, block0, a1);
  filter_store(args, oy, ox + 1, block0 + 1, b1);
  filter_store(args, oy, ox + 2, block0, a2);
  filter_store(args, oy, ox + 2, block0 + 1, b2);
  filter_store(args, oy, ox + 3, block0, a3);
  filter_store(args, oy, ox + 3, block0 + 1, b3);
}

// A pixel whose window leaves the input: taps tested one by one.
template <int NB>
HWY_INLINE void filter_border(const FconvArgs& args, int64_t oy, int64_t ox, int64_t block0) {
  const DF df;
  const auto nr = static_cast<int64_t>(hn::Lanes(df));
  const ConvGeometry& g = *args.g;
  const int64_t taps = g.taps();
  hn::Vec<DF> acc[NB];
  for (int b = 0; b < NB; ++b) acc[b] = hn::Zero(df);
  for (int64_t c = 0; c < g.in_c; ++c) {
    for_each_tap(g, oy, ox, [&](int64_t tap, int64_t iy, int64_t ix, bool inside) {
      if (!inside) return;
      const auto x = hn::Set(df, args.in[(iy * g.in_w + ix) * g.in_c + c]);
      const float* w = args.w32 + block0 * nr + (c * taps + tap) * args.c_padded;
      for (int b = 0; b < NB; ++b) acc[b] = hn::MulAdd(x, hn::LoadU(df, w + b * nr), acc[b]);
    });
  }
  for (int b = 0; b < NB; ++b) filter_store(args, oy, ox, block0 + b, acc[b]);
}

void fconv_filter_dense(const FconvArgs& args) {
  const auto nr = static_cast<int64_t>(hn::Lanes(DF()));
  const ConvGeometry& g = *args.g;
  const int64_t blocks = (g.out_c + nr - 1) / nr;
  FilterTaps taps;
  for (int64_t c = 0; c < g.in_c; ++c) {
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        taps.in.push_back((ky * g.dilation_h * g.in_w + kx * g.dilation_w) * g.in_c + c);
        taps.w.push_back((c * g.taps() + ky * g.kernel_w + kx) * args.c_padded);
      }
    }
  }
  // Interior output columns [x0, x1): windows inside the input.
  const int64_t x_span = (g.kernel_w - 1) * g.dilation_w;
  const int64_t y_span = (g.kernel_h - 1) * g.dilation_h;
  int64_t x0 = 0;
  while (x0 < g.out_w && x0 * g.stride_w - g.pad_left < 0) ++x0;
  int64_t x1 = x0;
  while (x1 < g.out_w && x1 * g.stride_w - g.pad_left + x_span < g.in_w) ++x1;
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    const bool rows_inside = iy0 >= 0 && iy0 + y_span < g.in_h;
    for (int64_t ox = 0; ox < g.out_w;) {
      // Four pixels times two blocks: eight independent sums.
      if (rows_inside && ox >= x0 && ox + 4 <= x1) {
        int64_t b = 0;
        for (; b + 2 <= blocks; b += 2) filter_interior_4x2(args, taps, oy, ox, b);
        for (; b < blocks; ++b) filter_interior<1, 4>(args, taps, oy, ox, b);
        ox += 4;
        continue;
      }
      if (rows_inside && ox >= x0 && ox < x1) {
        for (int64_t b = 0; b < blocks; ++b) filter_interior<1, 1>(args, taps, oy, ox, b);
        ++ox;
        continue;
      }
      int64_t b = 0;
      for (; b + 4 <= blocks; b += 4) filter_border<4>(args, oy, ox, b);
      for (; b < blocks; ++b) filter_border<1>(args, oy, ox, b);
      ++ox;
    }
  }
}

void fconv_f64_dense_hwy(const FconvArgs& args) {
  const auto nr = static_cast<int64_t>(hn::Lanes(DF()));
  const ConvGeometry& g = *args.g;
  const int64_t blocks = (g.out_c + nr - 1) / nr;
  if (args.w32 != nullptr && args.out_codes != nullptr) {
    fconv_filter_dense(args);
    return;
  }
  for (int64_t oy = args.oy0; oy < args.oy1; ++oy) {
    for (int64_t ox = 0; ox < g.out_w; ++ox) {
      int64_t b = 0;
      for (; b + 4 <= blocks; b += 4) fconv_dense_blocks<4>(args, oy, ox, b);
      for (; b < blocks; ++b) fconv_dense_blocks<1>(args, oy, ox, b);
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR

std::vector<DwKernel> dwconv_hwy_entries(int64_t* target) {
  *target = HWY_TARGET;
#if HWY_TARGET == HWY_SCALAR
  return {};
#else
  const int nr = static_cast<int>(hn::Lanes(hn::ScalableTag<int32_t>()));
  const std::string isa = hwy_target_suffix(HWY_TARGET);
  return {{"dwconv_u8s8_" + std::to_string(nr) + "c__" + isa, dwconv_u8s8_hwy, nr, false},
          {"dwconv_u8s8_" + std::to_string(2 * nr) + "c_i16__" + isa, dwconv_u8s8_i16_hwy, 2 * nr, true}};
#endif
}

std::vector<MaxPoolKernel> maxpool_hwy_entries(int64_t* target) {
  *target = HWY_TARGET;
#if HWY_TARGET == HWY_SCALAR
  return {};
#else
  const int nr = static_cast<int>(hn::Lanes(hn::ScalableTag<uint8_t>()));
  return {{"maxpool_u8_" + std::to_string(nr) + "c__" + hwy_target_suffix(HWY_TARGET), maxpool_u8_hwy}};
#endif
}

std::vector<DecodeKernel> decode_hwy_entries(int64_t* target) {
  *target = HWY_TARGET;
#if HWY_TARGET == HWY_SCALAR
  return {};
#else
  const int nr = static_cast<int>(hn::Lanes(hn::ScalableTag<float>()));
  return {{"decode_u8_f32_" + std::to_string(nr) + "c__" + hwy_target_suffix(HWY_TARGET), decode_u8_f32_hwy, nr}};
#endif
}

std::vector<FconvKernel> fconv_hwy_entries(int64_t* target) {
  *target = HWY_TARGET;
#if HWY_TARGET == HWY_SCALAR
  return {};
#else
  const int nr = static_cast<int>(hn::Lanes(DF()));
  const std::string tile = std::to_string(nr) + "c__" + hwy_target_suffix(HWY_TARGET);
  return {{"fconv_f64_dense_" + tile, fconv_f64_dense_hwy, nr, false}, {"fconv_f64_dw_" + tile, fconv_f64_dw_hwy, nr, true}};
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace dnnsplit::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace dnnsplit::kernels {

HWY_EXPORT(dwconv_hwy_entries);
HWY_EXPORT(fconv_hwy_entries);
HWY_EXPORT(decode_hwy_entries);
HWY_EXPORT(maxpool_hwy_entries);

DwKernel dwconv_generic_kernel();
DecodeKernel decode_generic_kernel();
MaxPoolKernel maxpool_generic_kernel();

const std::vector<MaxPoolKernel>& maxpool_kernels() {
  static const std::vector<MaxPoolKernel> list = [] {
    std::vector<MaxPoolKernel> out{maxpool_generic_kernel()};
    for (auto& k : collect_hwy_kernels<MaxPoolKernel>(HWY_DISPATCH_TABLE(maxpool_hwy_entries))) out.push_back(std::move(k));
    return out;
  }();
  return list;
}

const std::vector<DecodeKernel>& decode_kernels() {
  static const std::vector<DecodeKernel> list = [] {
    std::vector<DecodeKernel> out{decode_generic_kernel()};
    for (auto& k : collect_hwy_kernels<DecodeKernel>(HWY_DISPATCH_TABLE(decode_hwy_entries))) out.push_back(std::move(k));
    return out;
  }();
  return list;
}
FconvKernel fconv_generic_kernel(bool depthwise);

const std::vector<DwKernel>& dwconv_kernels() {
  static const std::vector<DwKernel> list = [] {
    std::vector<DwKernel> out{dwconv_generic_kernel()};
    for (auto& k : collect_hwy_kernels<DwKernel>(HWY_DISPATCH_TABLE(dwconv_hwy_entries))) out.push_back(std::move(k));
    return out;
  }();
  return list;
}

const std::vector<FconvKernel>& fconv_kernels(bool depthwise) {
  static const auto lists = [] {
    std::vector<FconvKernel> dense{fconv_generic_kernel(false)};
    std::vector<FconvKernel> dw{fconv_generic_kernel(true)};
    for (auto& k : collect_hwy_kernels<FconvKernel>(HWY_DISPATCH_TABLE(fconv_hwy_entries))) {
      (k.depthwise ? dw : dense).push_back(std::move(k));
    }
    return std::make_pair(dense, dw);
  }();
  return depthwise ? lists.second : lists.first;
}

}  // namespace dnnsplit::kernels
#endif  // HWY_ONCE
