// Window kernels against naive references written here: conv via im2col + qgemm, max-pool, the
// depthwise integer family and the float-path family (double sums in the reference engine's
// order, padding taps included), each kernel of each list, over channel counts around the
// vector widths, strides, paddings and kernel sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "conv_kernels.h"
#include "qgemm.h"

namespace dnnsplit::kernels {
namespace {

ConvGeometry geometry(int64_t h, int64_t w, int64_t c, int64_t oc, int64_t k, int64_t stride, int64_t pad) {
  ConvGeometry g;
  g.in_h = h;
  g.in_w = w;
  g.in_c = c;
  g.out_c = oc;
  g.kernel_h = g.kernel_w = k;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = pad;
  g.out_h = (h + 2 * pad - k) / stride + 1;
  g.out_w = (w + 2 * pad - k) / stride + 1;
  return g;
}

std::string describe(const ConvGeometry& g) {
  return std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" + std::to_string(g.in_c) + " -> " +
         std::to_string(g.out_c) + " k" + std::to_string(g.kernel_h) + " s" + std::to_string(g.stride_h) + " p" +
         std::to_string(g.pad_top);
}

// Input value at (iy, ix, c) with zero (the pad value) outside.
template <typename T>
T at(const std::vector<T>& in, const ConvGeometry& g, int64_t iy, int64_t ix, int64_t c, T pad) {
  if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return pad;
  return in[static_cast<size_t>((iy * g.in_w + ix) * g.in_c + c)];
}

std::vector<uint8_t> random_codes(size_t n, int max, std::mt19937& rng) {
  std::vector<uint8_t> v(n + kReadSlack, 0x5A);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(rng() % (max + 1));
  return v;
}

const ConvGeometry kGeometries[] = {
    geometry(5, 7, 3, 5, 3, 1, 0),     geometry(6, 6, 8, 9, 3, 2, 1), geometry(4, 5, 17, 16, 1, 1, 0),
    geometry(7, 4, 4, 33, 3, 1, 1),    geometry(9, 9, 1, 3, 3, 2, 0), geometry(3, 3, 32, 8, 3, 1, 1),
    geometry(8, 8, 9, 4, 2, 2, 0),     geometry(1, 1, 5, 7, 1, 1, 0), geometry(13, 19, 3, 32, 3, 2, 1),
    geometry(5, 23, 40, 40, 3, 1, 1),   // interior pixels in groups of 4 plus one, a channel tail
    geometry(10, 11, 17, 17, 9, 1, 4),  // 81 taps: more than the kernels tabulate
};

TEST(ConvKernels, Im2colQgemmMatchesNaiveConv) {
  std::mt19937 rng(7);
  for (const auto& g : kGeometries) {
    SCOPED_TRACE(describe(g));
    const auto in = random_codes(static_cast<size_t>(g.in_h * g.in_w * g.in_c), 15, rng);
    const int64_t k = g.taps() * g.in_c;
    std::vector<int8_t> w(static_cast<size_t>(g.out_c * k));  // [oc][ky][kx][c]
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 15) - 7);
    const uint8_t pad_code = 3;  // a code of zero other than 0, as offset codes have
    for (const auto& kernel : qgemm_kernels()) {
      SCOPED_TRACE(kernel.name);
      const int64_t kp = round_up(k, kernel.kr);
      const int64_t pixels = g.out_h * g.out_w;
      std::vector<uint8_t> a(static_cast<size_t>(pixels * kp) + kReadSlack, 0);
      // Two calls over a split of the pixels, as the plan does per row block.
      const int64_t split = pixels / 2;
      im2col_u8(g, in.data(), 0, split, pad_code, a.data(), static_cast<size_t>(kp));
      im2col_u8(g, in.data(), split, pixels, pad_code, a.data() + split * kp, static_cast<size_t>(kp));
      const auto packed = pack_qgemm_weights(w.data(), g.out_c, k, kernel.nr, kernel.kr);
      std::vector<int32_t> c(static_cast<size_t>(pixels * g.out_c));
      QGemmArgs args;
      args.a = a.data();
      args.lda = static_cast<size_t>(kp);
      args.m = pixels;
      args.w = packed.data();
      args.n = g.out_c;
      args.k_padded = kp;
      args.k_chunk = qgemm_k_chunk(kernel, 15, 7, kp);
      args.c = c.data();
      args.ldc = static_cast<size_t>(g.out_c);
      kernel.fn(args);
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        for (int64_t ox = 0; ox < g.out_w; ++ox) {
          for (int64_t oc = 0; oc < g.out_c; ++oc) {
            int64_t s = 0;
            for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
              for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                for (int64_t ch = 0; ch < g.in_c; ++ch) {
                  const int64_t x = at<uint8_t>(in, g, oy * g.stride_h - g.pad_top + ky, ox * g.stride_w - g.pad_left + kx, ch, pad_code);
                  s += x * w[static_cast<size_t>(oc * k + (ky * g.kernel_w + kx) * g.in_c + ch)];
                }
              }
            }
            ASSERT_EQ(c[static_cast<size_t>((oy * g.out_w + ox) * g.out_c + oc)], s) << oy << "," << ox << "," << oc;
          }
        }
      }
    }
  }
}

// Implicit rows: one call per output row, A read straight from the NHWC input through one
// segment per kernel row, as the plan runs unpadded convolutions.
TEST(ConvKernels, ImplicitRowsQgemmMatchesNaiveConv) {
  std::mt19937 rng(8);
  const ConvGeometry cases[] = {geometry(7, 9, 4, 17, 3, 1, 0), geometry(9, 8, 8, 16, 3, 2, 0), geometry(6, 6, 12, 5, 2, 1, 0),
                                geometry(5, 11, 64, 33, 3, 1, 0)};
  for (const auto& g : cases) {
    SCOPED_TRACE(describe(g));
    const auto in = random_codes(static_cast<size_t>(g.in_h * g.in_w * g.in_c), 2, rng);
    const int64_t k = g.taps() * g.in_c;
    std::vector<int8_t> w(static_cast<size_t>(g.out_c * k));
    for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % 3) - 1);
    std::vector<int64_t> offsets;
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) offsets.push_back(ky * g.in_w * g.in_c);
    for (const auto& kernel : qgemm_kernels()) {
      SCOPED_TRACE(kernel.name);
      const int64_t seg = g.kernel_w * g.in_c;
      ASSERT_EQ(seg % kernel.kr, 0);
      const auto packed = pack_qgemm_weights(w.data(), g.out_c, k, kernel.nr, kernel.kr);
      std::vector<int32_t> c(static_cast<size_t>(g.out_h * g.out_w * g.out_c));
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        QGemmArgs args;
        args.a = in.data() + oy * g.stride_h * g.in_w * g.in_c;
        args.lda = static_cast<size_t>(g.stride_w * g.in_c);
        args.m = g.out_w;
        args.w = packed.data();
        args.n = g.out_c;
        args.k_padded = k;
        args.k_chunk = kernel.kr * 2;  // chunks that split segments
        args.segments = static_cast<int>(g.kernel_h);
        args.seg_len = seg;
        args.seg_offset = offsets.data();
        args.c = c.data() + oy * g.out_w * g.out_c;
        args.ldc = static_cast<size_t>(g.out_c);
        kernel.fn(args);
      }
      for (int64_t oy = 0; oy < g.out_h; ++oy) {
        for (int64_t ox = 0; ox < g.out_w; ++ox) {
          for (int64_t oc = 0; oc < g.out_c; ++oc) {
            int64_t s = 0;
            for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
              for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
                for (int64_t ch = 0; ch < g.in_c; ++ch) {
                  s += at<uint8_t>(in, g, oy * g.stride_h + ky, ox * g.stride_w + kx, ch, 0) *
                       int64_t{w[static_cast<size_t>(oc * k + (ky * g.kernel_w + kx) * g.in_c + ch)]};
                }
              }
            }
            ASSERT_EQ(c[static_cast<size_t>((oy * g.out_w + ox) * g.out_c + oc)], s) << oy << "," << ox << "," << oc;
          }
        }
      }
    }
  }
}

// Every max-pool kernel; channel counts around the vector widths exercise the tails.
TEST(ConvKernels, MaxPoolMatchesNaive) {
  std::mt19937 rng(3);
  const ConvGeometry pools[] = {geometry(6, 6, 64, 64, 2, 2, 0), geometry(5, 7, 3, 3, 2, 2, 0),
                                geometry(7, 7, 9, 9, 3, 2, 1),   geometry(4, 4, 1, 1, 3, 1, 1),
                                geometry(5, 6, 45, 45, 2, 2, 0), geometry(6, 5, 33, 33, 3, 1, 1)};
  for (const auto& g : pools) {
    SCOPED_TRACE(describe(g));
    const auto in = random_codes(static_cast<size_t>(g.in_h * g.in_w * g.in_c), 255, rng);
    std::vector<uint8_t> expect(static_cast<size_t>(g.out_h * g.out_w * g.in_c));
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        for (int64_t ch = 0; ch < g.in_c; ++ch) {
          int best = -1;
          for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
              const int64_t iy = oy * g.stride_h - g.pad_top + ky;
              const int64_t ix = ox * g.stride_w - g.pad_left + kx;
              if (iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w) best = std::max<int>(best, at<uint8_t>(in, g, iy, ix, ch, 0));
            }
          }
          expect[static_cast<size_t>((oy * g.out_w + ox) * g.in_c + ch)] = static_cast<uint8_t>(best);
        }
      }
    }
    for (const auto& kernel : maxpool_kernels()) {
      std::vector<uint8_t> out(expect.size());
      kernel.fn(g, in.data(), 0, 1, out.data());
      kernel.fn(g, in.data(), 1, g.out_h, out.data());
      EXPECT_EQ(out, expect) << kernel.name;
    }
  }
}

ConvGeometry depthwise(ConvGeometry g) {
  g.out_c = g.in_c;
  return g;
}

TEST(ConvKernels, DepthwiseIntegerEveryKernel) {
  std::mt19937 rng(11);
  for (const auto& base : kGeometries) {
    const ConvGeometry g = depthwise(base);
    SCOPED_TRACE(describe(g));
    const auto in = random_codes(static_cast<size_t>(g.in_h * g.in_w * g.in_c), 15, rng);
    std::vector<int32_t> w(static_cast<size_t>(g.taps() * g.in_c));
    for (auto& v : w) v = static_cast<int32_t>(rng() % 15) - 7;
    constexpr int kCount = 15;
    std::vector<int32_t> t(static_cast<size_t>(g.in_c * kCount));
    for (int64_t ch = 0; ch < g.in_c; ++ch) {
      for (int q = 0; q < kCount; ++q) t[static_cast<size_t>(ch * kCount + q)] = (q - 7) * 9 + static_cast<int>(ch % 5);
    }
    const uint8_t pad_code = 2;
    std::vector<uint8_t> expect(static_cast<size_t>(g.out_h * g.out_w * g.in_c));
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        for (int64_t ch = 0; ch < g.in_c; ++ch) {
          int64_t s = 0;
          for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
            for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
              s += at<uint8_t>(in, g, oy * g.stride_h - g.pad_top + ky, ox * g.stride_w - g.pad_left + kx, ch, pad_code) *
                   int64_t{w[static_cast<size_t>((ky * g.kernel_w + kx) * g.in_c + ch)]};
            }
          }
          int code = 0;
          for (int q = 0; q < kCount; ++q) code += s >= t[static_cast<size_t>(ch * kCount + q)];
          expect[static_cast<size_t>((oy * g.out_w + ox) * g.in_c + ch)] = static_cast<uint8_t>(code);
        }
      }
    }
    for (const auto& kernel : dwconv_kernels()) {
      SCOPED_TRACE(kernel.name);
      const int64_t cp = round_up(g.in_c, kernel.nr);
      std::vector<int32_t> wp(static_cast<size_t>(g.taps() * cp), 0);
      for (int64_t tap = 0; tap < g.taps(); ++tap) {
        std::copy_n(w.begin() + tap * g.in_c, g.in_c, wp.begin() + tap * cp);
      }
      const auto tp = pack_thresholds(t.data(), g.in_c, kCount, kernel.nr);
      std::vector<uint8_t> out(expect.size(), 0xCC);
      DwArgs args;
      args.g = &g;
      args.in = in.data();
      args.pad_code = pad_code;
      args.w = wp.data();
      args.c_padded = cp;
      args.out = out.data();
      args.thresholds = tp.data();
      args.threshold_count = kCount;
      args.oy0 = 0;
      args.oy1 = g.out_h;
      const auto w16 = narrow_int16(wp);
      const auto t16 = narrow_int16(tp);
      if (kernel.int16_sums) {
        ASSERT_TRUE(dw_fits_int16(wp, g.taps(), cp, 15));
        args.w16 = w16.data();
        args.thresholds16 = t16.data();
      }
      kernel.fn(args);
      ASSERT_EQ(out, expect);
      // The thresholds are evenly spaced: with their lines the codes stay the same.
      const auto lines = fit_threshold_lines(t.data(), g.in_c, kCount, cp);
      ASSERT_TRUE(lines.has_value());
      args.line_inv = lines->inv.data();
      args.line_off = lines->off.data();
      std::fill(out.begin(), out.end(), 0xCC);
      kernel.fn(args);
      ASSERT_EQ(out, expect) << "with lines";
    }
  }
}

TEST(ConvKernels, DepthwiseInt16Bound) {
  // 15 * (7 + 7 + ...) for 9 taps fits; 255 * 127 * 2 does not.
  EXPECT_TRUE(dw_fits_int16(std::vector<int32_t>(9, -7), 9, 1, 15));
  EXPECT_FALSE(dw_fits_int16({127, -127}, 2, 1, 255));
  EXPECT_TRUE(dw_fits_int16({127, 1}, 1, 2, 255));  // per channel: 255 * 127 = 32385
  EXPECT_EQ(narrow_int16({40000, -5, INT32_MAX}), (std::vector<int16_t>{32767, -5, 32767}));
}

// The reference engine's float path for one output: terms in input channel, ky, kx order, padding
// taps adding an exact 0 * w, then the bias, one rounding.
float reference_float_conv(const std::vector<float>& in, const ConvGeometry& g, const std::vector<float>& w_oihw,
                           int64_t oy, int64_t ox, int64_t oc, bool dw, double bias) {
  double acc = 0.0;
  const int64_t cin = dw ? 1 : g.in_c;
  for (int64_t cl = 0; cl < cin; ++cl) {
    const int64_t ch = dw ? oc : cl;
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        const double x = at<float>(in, g, oy * g.stride_h - g.pad_top + ky, ox * g.stride_w - g.pad_left + kx, ch, 0.0F);
        acc += x * static_cast<double>(w_oihw[static_cast<size_t>(((oc * cin + cl) * g.kernel_h + ky) * g.kernel_w + kx)]);
      }
    }
  }
  acc += bias;
  return static_cast<float>(acc);
}

void check_float_family(bool dw) {
  std::mt19937 rng(dw ? 5 : 6);
  std::uniform_real_distribution<float> xd(-3.0F, 3.0F);
  for (const auto& base : kGeometries) {
    const ConvGeometry g = dw ? depthwise(base) : base;
    SCOPED_TRACE(describe(g));
    // Values with full float32 mantissas, so double sums really round.
    std::vector<float> in(static_cast<size_t>(g.in_h * g.in_w * g.in_c) + kReadSlack / 4, 0.0F);
    for (size_t i = 0; i + kReadSlack / 4 < in.size(); ++i) in[i] = xd(rng) * 1.37e-3F + (rng() % 7 == 0 ? 1e4F : 0.0F);
    const int64_t cin = dw ? 1 : g.in_c;
    std::vector<float> w(static_cast<size_t>(g.out_c * cin * g.taps()));
    for (auto& v : w) v = xd(rng);
    std::vector<double> bias(static_cast<size_t>(g.out_c));
    for (auto& b : bias) b = static_cast<float>(xd(rng));
    const int kCount = std::array<int, 3>{1, 3, 15}[static_cast<size_t>(g.in_c + g.out_c) % 3];
    std::vector<float> expect(static_cast<size_t>(g.out_h * g.out_w * g.out_c));
    for (int64_t oy = 0; oy < g.out_h; ++oy) {
      for (int64_t ox = 0; ox < g.out_w; ++ox) {
        for (int64_t oc = 0; oc < g.out_c; ++oc) {
          expect[static_cast<size_t>((oy * g.out_w + ox) * g.out_c + oc)] =
              reference_float_conv(in, g, w, oy, ox, oc, dw, bias[static_cast<size_t>(oc)]);
        }
      }
    }
    // Thresholds taken from the results themselves, so ties (y == T) occur.
    std::vector<float> t(static_cast<size_t>(g.out_c * kCount));
    for (int64_t oc = 0; oc < g.out_c; ++oc) {
      for (int q = 0; q < kCount; ++q) t[static_cast<size_t>(oc * kCount + q)] = expect[rng() % (expect.size() / g.out_c) * g.out_c + oc];
      std::sort(t.begin() + oc * kCount, t.begin() + (oc + 1) * kCount);
    }
    std::vector<float> even(t.size());
    for (int64_t oc = 0; oc < g.out_c; ++oc) {
      float lo = std::numeric_limits<float>::infinity();
      float hi = -lo;
      for (size_t i = static_cast<size_t>(oc); i < expect.size(); i += static_cast<size_t>(g.out_c)) {
        lo = std::min(lo, expect[i]);
        hi = std::max(hi, expect[i]);
      }
      for (int q = 0; q < kCount; ++q) {
        even[static_cast<size_t>(oc * kCount + q)] = lo + (hi - lo) * static_cast<float>(q + 1) / static_cast<float>(kCount + 1);
      }
      even[static_cast<size_t>(oc * kCount + kCount / 2)] = expect[static_cast<size_t>(oc)];  // a tie
      std::sort(even.begin() + oc * kCount, even.begin() + (oc + 1) * kCount);
    }
    double in_bound = 0.0;
    for (float v : in) in_bound = std::max(in_bound, std::fabs(static_cast<double>(v)));
    for (const auto& kernel : fconv_kernels(dw)) {
      SCOPED_TRACE(kernel.name);
      const int64_t cp = round_up(g.out_c, kernel.nr);
      std::vector<double> wp;
      if (dw) {
        wp.assign(static_cast<size_t>(g.taps() * cp), 0.0);
        for (int64_t oc = 0; oc < g.out_c; ++oc) {
          for (int64_t tap = 0; tap < g.taps(); ++tap) wp[static_cast<size_t>(tap * cp + oc)] = w[static_cast<size_t>(oc * g.taps() + tap)];
        }
      } else {
        wp.assign(static_cast<size_t>(cp * g.in_c * g.taps()), 0.0);
        for (int64_t oc = 0; oc < g.out_c; ++oc) {
          for (int64_t c = 0; c < g.in_c; ++c) {
            for (int64_t tap = 0; tap < g.taps(); ++tap) {
              wp[static_cast<size_t>((c * g.taps() + tap) * cp + oc)] = w[static_cast<size_t>((oc * g.in_c + c) * g.taps() + tap)];
            }
          }
        }
      }
      std::vector<double> bp(static_cast<size_t>(cp), 0.0);
      std::copy(bias.begin(), bias.end(), bp.begin());
      FconvArgs args;
      args.g = &g;
      args.in = in.data();
      args.w = wp.data();
      args.bias = bp.data();
      args.c_padded = cp;
      args.oy0 = 0;
      args.oy1 = g.out_h;
      std::vector<float> values(expect.size());
      args.out_values = values.data();
      kernel.fn(args);
      for (size_t i = 0; i < expect.size(); ++i) {
        ASSERT_EQ(std::bit_cast<uint32_t>(values[i]), std::bit_cast<uint32_t>(expect[i])) << "at " << i;
      }
      // Thresholds from the results (ties), then evenly spaced ones with a result among them
      // (the float32 filter's straight-line fit), without and with the filter.
      for (const auto* thresholds : {&t, &even}) {
        const auto tp = pack_float_thresholds(thresholds->data(), g.out_c, kCount, kernel.nr);
        // The filter is for dense SIMD kernels only.
        const auto filter = dw ? std::nullopt : make_fconv_filter(g, wp, bp, cp, in_bound, *thresholds, kCount);
        ASSERT_TRUE(dw || filter.has_value());
        for (const bool with_filter : {false, true}) {
          if (with_filter && (dw || kernel.nr == 1)) continue;
          SCOPED_TRACE(with_filter ? "float32 filter" : "double sums");
          args.w32 = nullptr;
          if (with_filter) use_fconv_filter(args, *filter);
          std::vector<uint8_t> codes(expect.size(), 0xCC);
          args.out_values = nullptr;
          args.out_codes = codes.data();
          args.thresholds = tp.data();
          args.threshold_count = kCount;
          kernel.fn(args);
          for (size_t i = 0; i < expect.size(); ++i) {
            const auto oc = static_cast<int64_t>(i % static_cast<size_t>(g.out_c));
            int code = 0;
            for (int q = 0; q < kCount; ++q) code += expect[i] >= (*thresholds)[static_cast<size_t>(oc * kCount + q)];
            ASSERT_EQ(codes[i], code) << "at " << i;
          }
        }
      }
    }
  }
}

TEST(ConvKernels, FloatPathDenseEveryKernel) { check_float_family(false); }
TEST(ConvKernels, FloatPathDepthwiseEveryKernel) { check_float_family(true); }

}  // namespace
}  // namespace dnnsplit::kernels
