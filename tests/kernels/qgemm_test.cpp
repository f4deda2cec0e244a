// Every qgemm kernel against a naive int64 product written here, over tile edges (m around mr,
// n around nr, k around kr), operand ranges at their bounds and forced int16 chunking.
#include "qgemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace dnnsplit::kernels {
namespace {

struct Case {
  int64_t m, n, k;
  int a_max, w_max;
};

std::vector<int64_t> naive_product(const std::vector<uint8_t>& a, const std::vector<int8_t>& w, const Case& c) {
  std::vector<int64_t> out(static_cast<size_t>(c.m * c.n), 0);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      int64_t s = 0;
      for (int64_t q = 0; q < c.k; ++q) s += int64_t{a[static_cast<size_t>(i * c.k + q)]} * w[static_cast<size_t>(j * c.k + q)];
      out[static_cast<size_t>(i * c.n + j)] = s;
    }
  }
  return out;
}

struct Inputs {
  std::vector<uint8_t> a;  // m x k, dense
  std::vector<int8_t> w;   // n x k
};

Inputs random_inputs(const Case& c, uint32_t seed) {
  std::mt19937 rng(seed);
  Inputs in;
  std::uniform_int_distribution<int> ad(0, c.a_max);
  std::uniform_int_distribution<int> wd(-c.w_max, c.w_max);
  in.a.resize(static_cast<size_t>(c.m * c.k));
  in.w.resize(static_cast<size_t>(c.n * c.k));
  // Extremes first so the int16 bounds are really exercised.
  for (size_t i = 0; i < in.a.size(); ++i) in.a[i] = static_cast<uint8_t>(i % 3 == 0 ? c.a_max : ad(rng));
  for (size_t i = 0; i < in.w.size(); ++i) in.w[i] = static_cast<int8_t>(i % 3 == 0 ? (i % 2 ? c.w_max : -c.w_max) : wd(rng));
  return in;
}

// A padded to k_padded columns (zeros) with a row stride wider than that, as im2col buffers are.
std::vector<uint8_t> padded_rows(const Inputs& in, const Case& c, int64_t kp, size_t lda) {
  std::vector<uint8_t> a(static_cast<size_t>(c.m) * lda + 64, 0xEE);
  for (int64_t i = 0; i < c.m; ++i) {
    std::fill_n(a.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(i) * lda), kp, 0);
    std::copy_n(in.a.begin() + i * c.k, c.k, a.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(i) * lda));
  }
  return a;
}

void check_kernel(const QGemmKernel& kernel, const Case& c, bool force_small_chunk, uint32_t seed) {
  SCOPED_TRACE(kernel.name + " m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
               " a_max=" + std::to_string(c.a_max) + " w_max=" + std::to_string(c.w_max) +
               (force_small_chunk ? " small chunks" : ""));
  const Inputs in = random_inputs(c, seed);
  const auto expect = naive_product(in.a, in.w, c);
  const int64_t kp = round_up(c.k, kernel.kr);
  const size_t lda = static_cast<size_t>(kp + 8);
  const auto a = padded_rows(in, c, kp, lda);
  const auto w = pack_qgemm_weights(in.w.data(), c.n, c.k, kernel.nr, kernel.kr);
  int64_t chunk = qgemm_k_chunk(kernel, c.a_max, c.w_max, kp);
  ASSERT_GT(chunk, 0);
  if (force_small_chunk) chunk = kernel.kr;

  QGemmArgs args;
  args.a = a.data();
  args.lda = lda;
  args.m = c.m;
  args.w = w.data();
  args.n = c.n;
  args.k_padded = kp;
  args.k_chunk = chunk;
  const size_t ldc = static_cast<size_t>(c.n + 3);
  std::vector<int32_t> out(static_cast<size_t>(c.m) * ldc, -7);
  args.c = out.data();
  args.ldc = ldc;
  kernel.fn(args);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      ASSERT_EQ(out[static_cast<size_t>(i) * ldc + static_cast<size_t>(j)], expect[static_cast<size_t>(i * c.n + j)])
          << "at row " << i << " channel " << j;
    }
    for (size_t j = static_cast<size_t>(c.n); j < ldc; ++j) ASSERT_EQ(out[static_cast<size_t>(i) * ldc + j], -7);
  }

  // Threshold epilogue: 1, 2, 3 or 15 ascending thresholds per channel (the kernels specialise
  // the small counts) spread around the values.
  const int kCount = std::array<int, 4>{1, 2, 3, 15}[seed % 4];
  std::vector<int32_t> t(static_cast<size_t>(c.n * kCount));
  std::mt19937 rng(seed + 1);
  for (int64_t j = 0; j < c.n; ++j) {
    std::vector<int32_t> col;
    for (int64_t i = 0; i < c.m; ++i) col.push_back(static_cast<int32_t>(expect[static_cast<size_t>(i * c.n + j)]));
    for (int q = 0; q < kCount; ++q) {
      t[static_cast<size_t>(j * kCount + q)] = col[rng() % col.size()] + static_cast<int32_t>(rng() % 3) - 1;
    }
    std::sort(t.begin() + j * kCount, t.begin() + (j + 1) * kCount);
  }
  const auto packed_t = pack_thresholds(t.data(), c.n, kCount, kernel.nr);
  const size_t ldo = static_cast<size_t>(c.n + 5);
  std::vector<uint8_t> codes(static_cast<size_t>(c.m) * ldo, 0xAB);
  args.c = nullptr;
  args.out = codes.data();
  args.ldo = ldo;
  args.thresholds = packed_t.data();
  args.threshold_count = kCount;
  // Then, where sums and thresholds fit int16 and the kernel has 16-channel blocks, the same
  // thresholds as int16 (kernels that do not use them must ignore them).
  auto in16 = [](int64_t v) { return v >= INT16_MIN && v < INT16_MAX; };
  const bool fits16 = kernel.nr == 16 && std::all_of(expect.begin(), expect.end(), in16) &&
                      std::all_of(t.begin(), t.end(), [&](int32_t v) { return in16(v); });
  const auto packed_t16 = fits16 ? pack_thresholds_i16(t.data(), c.n, kCount) : std::vector<int16_t>{};
  // Runs the kernel into fresh codes; each must be the count of thresholds (given [n][kCount])
  // at or below its sum, and the bytes past n untouched.
  auto run_and_check_codes = [&](const std::vector<int32_t>& thresholds) {
    std::fill(codes.begin(), codes.end(), 0xAB);
    kernel.fn(args);
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        const int64_t s = expect[static_cast<size_t>(i * c.n + j)];
        int code = 0;
        for (int q = 0; q < kCount; ++q) code += s >= thresholds[static_cast<size_t>(j * kCount + q)] ? 1 : 0;
        ASSERT_EQ(codes[static_cast<size_t>(i) * ldo + static_cast<size_t>(j)], code) << "at row " << i << " channel " << j;
      }
      for (size_t j = static_cast<size_t>(c.n); j < ldo; ++j) ASSERT_EQ(codes[static_cast<size_t>(i) * ldo + j], 0xAB);
    }
  };
  for (const bool int16 : {false, true}) {
    if (int16 && !fits16) continue;
    SCOPED_TRACE(int16 ? "int16 thresholds" : "int32 thresholds");
    args.thresholds16 = int16 ? packed_t16.data() : nullptr;
    run_and_check_codes(t);
    if (::testing::Test::HasFatalFailure()) return;
  }

  // Evenly spaced thresholds (a BatchNorm and a uniform quantizer folded), also repeated ones
  // (steps below 1), with their lines: kernels that use lines give the count all the same.
  if (kCount < kMinLineThresholds) return;
  std::vector<int32_t> even(t.size());
  for (int64_t j = 0; j < c.n; ++j) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t i = 0; i < c.m; ++i) {
      lo = std::min(lo, expect[static_cast<size_t>(i * c.n + j)]);
      hi = std::max(hi, expect[static_cast<size_t>(i * c.n + j)]);
    }
    const double step =
        std::max(0.35, static_cast<double>(hi - lo + 2) / kCount) * (1.0 + 0.013 * static_cast<double>(j % 7));
    const double start = static_cast<double>(lo) - 1.0 + 0.37 * static_cast<double>(j % 3);
    for (int q = 0; q < kCount; ++q)
      even[static_cast<size_t>(j * kCount + q)] = static_cast<int32_t>(std::ceil(start + q * step));
  }
  const auto lines = fit_threshold_lines(even.data(), c.n, kCount, round_up(c.n, 16));
  ASSERT_TRUE(lines.has_value()) << "evenly spaced thresholds have lines";
  const auto packed_even = pack_thresholds(even.data(), c.n, kCount, kernel.nr);
  SCOPED_TRACE("evenly spaced thresholds with lines");
  args.thresholds = packed_even.data();
  args.thresholds16 = nullptr;
  args.line_inv = lines->inv.data();
  args.line_off = lines->off.data();
  run_and_check_codes(even);
}

TEST(Qgemm, ListStartsWithGenericAndHasSimd) {
  const auto& list = qgemm_kernels();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list.front().name, "qgemm_u8s8_1x1c1__generic");
  for (const auto& k : list) std::printf("  qgemm kernel %s\n", k.name.c_str());
#if defined(__x86_64__)
  EXPECT_GE(list.size(), 3u) << "expected SIMD kernels on x86-64";
#endif
}

TEST(Qgemm, TileEdgesEveryKernel) {
  uint32_t seed = 1;
  for (const auto& kernel : qgemm_kernels()) {
    for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 11, 13}) {
      for (int64_t n : {1, 7, 8, 9, 16, 17, 32, 33}) {
        for (int64_t k : {1, 3, 4, 5, 8, 27, 36}) {
          check_kernel(kernel, {m, n, k, 2, 1}, false, seed++);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(Qgemm, OperandRangesAndChunking) {
  uint32_t seed = 100;
  const Case ranges[] = {{5, 19, 576, 2, 1}, {6, 40, 1024, 15, 7}, {9, 64, 300, 255, 1}, {4, 10, 130, 255, 64},
                         {7, 24, 513, 15, 127}, {3, 5, 4000, 1, 1}};
  for (const auto& kernel : qgemm_kernels()) {
    for (const auto& c : ranges) {
      check_kernel(kernel, c, false, seed++);
      check_kernel(kernel, c, true, seed++);
      if (HasFatalFailure()) return;
    }
  }
}

// The line of a channel decides every accumulator value exactly as counting does, checked
// here over every value from well below the first threshold to well above the last.
TEST(Qgemm, ThresholdLinesEqualTheCountEverywhere) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    const int count = 4 + static_cast<int>(rng() % 12);
    const double step = 0.3 + (rng() % 10000) / 10000.0 * (trial % 3 == 0 ? 3.0 : 400.0);
    const double start = (static_cast<double>(rng() % 2000001) - 1000000.0) / 7.0;
    std::vector<int32_t> t(static_cast<size_t>(count));
    for (int q = 0; q < count; ++q) t[static_cast<size_t>(q)] = static_cast<int32_t>(std::ceil(start + q * step));
    const auto lines = fit_threshold_lines(t.data(), 1, count, 16);
    ASSERT_TRUE(lines.has_value()) << "trial " << trial << " step " << step << " start " << start;
    EXPECT_EQ(lines->inv.size(), 16u);
    EXPECT_EQ(threshold_line_code(lines->inv[1], lines->off[1], count, 12345), 0) << "padded channels give 0";
    const int64_t margin = 3 + static_cast<int64_t>(step * 2);
    for (int64_t acc = int64_t{t.front()} - margin; acc <= int64_t{t.back()} + margin; ++acc) {
      int expect = 0;
      for (int32_t v : t) expect += acc >= v ? 1 : 0;
      ASSERT_EQ(threshold_line_code(lines->inv[0], lines->off[0], count, acc), expect)
          << "trial " << trial << " acc " << acc;
    }
  }
}

TEST(Qgemm, ThresholdLinesRefuseWhatNoLineDecides) {
  const std::vector<int32_t> uneven = {0, 1, 2, 50, 51, 52};  // a jump no line follows
  EXPECT_FALSE(fit_threshold_lines(uneven.data(), 1, 6, 16).has_value());
  const std::vector<int32_t> never = {0, 10, 20, INT32_MAX};  // "never" sentinel
  EXPECT_FALSE(fit_threshold_lines(never.data(), 1, 4, 16).has_value());
  // One channel without a line: no lines for the layer.
  const std::vector<int32_t> two = {0, 10, 20, 30, 0, 1, 2, 90};
  EXPECT_FALSE(fit_threshold_lines(two.data(), 2, 4, 16).has_value());
  EXPECT_TRUE(fit_threshold_lines(two.data(), 1, 4, 16).has_value());
}

TEST(Qgemm, ChunkBound) {
  for (const auto& kernel : qgemm_kernels()) {
    if (!kernel.int16_partial_sums) {
      EXPECT_EQ(qgemm_k_chunk(kernel, 255, 128, 1000), 1000);
      continue;
    }
    EXPECT_EQ(qgemm_k_chunk(kernel, 255, 127, 64), 0) << "one pair can overflow int16";
    const int64_t chunk = qgemm_k_chunk(kernel, 15, 7, 4096);
    EXPECT_EQ(chunk % kernel.kr, 0);
    EXPECT_LE(chunk / kernel.kr * 2 * 15 * 7, 32767);
    EXPECT_GT((chunk / kernel.kr + 1) * 2 * 15 * 7, 32767);
  }
}

}  // namespace
}  // namespace dnnsplit::kernels
