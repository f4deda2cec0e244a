// Every bgemm kernel against a naive +-1 dot product written here, over tile edges (m around mr,
// n around nr), k around whole words and beyond the 31-word byte-count chunk, padding bits; and
// bit packing against a naive loop.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "bgemm.h"
#include "qgemm.h"

namespace dnnsplit::kernels {
namespace {

// +-1 values as bits: bit = 1 for +1. Row-major [rows][k_bits].
std::vector<int> random_signs(size_t n, std::mt19937& rng) {
  std::vector<int> v(n);
  for (auto& x : v) x = rng() % 2 ? 1 : -1;
  return v;
}

std::vector<uint64_t> to_words(const std::vector<int>& signs, int64_t rows, int64_t k_bits, int64_t k_words) {
  std::vector<uint64_t> words(static_cast<size_t>(rows * k_words), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < k_bits; ++k) {
      if (signs[static_cast<size_t>(r * k_bits + k)] > 0) words[static_cast<size_t>(r * k_words + k / 64)] |= uint64_t{1} << (k % 64);
    }
  }
  return words;
}

TEST(Bgemm, ListStartsWithGeneric) {
  const auto& list = bgemm_kernels();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list.front().name, "bgemm_b1_1x1c64__generic");
  for (const auto& k : list) std::printf("  bgemm kernel %s\n", k.name.c_str());
#if defined(__x86_64__)
  EXPECT_GE(list.size(), 3u);
#endif
}

TEST(Bgemm, TileEdgesAndLongRowsEveryKernel) {
  std::mt19937 rng(5);
  for (const auto& kernel : bgemm_kernels()) {
    for (int64_t m : {1, 2, 3, 4, 5, 9}) {
      for (int64_t n : {1, 3, 4, 8, 9, 17}) {
        for (int64_t k_bits : {1, 63, 64, 65, 576, 31 * 64 + 5, 64 * 64}) {
          SCOPED_TRACE(kernel.name + " m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k_bits));
          const int64_t k_words = (k_bits + 63) / 64;
          const auto a = random_signs(static_cast<size_t>(m * k_bits), rng);
          const auto w = random_signs(static_cast<size_t>(n * k_bits), rng);
          std::vector<int32_t> expect(static_cast<size_t>(m * n));
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) {
              int32_t s = 0;
              for (int64_t k = 0; k < k_bits; ++k) s += a[static_cast<size_t>(i * k_bits + k)] * w[static_cast<size_t>(j * k_bits + k)];
              expect[static_cast<size_t>(i * n + j)] = s;
            }
          }
          // Rows with a wider stride than k_words, as im2col buffers.
          const auto aw = to_words(a, m, k_bits, k_words);
          const size_t lda = static_cast<size_t>(k_words + 2);
          std::vector<uint64_t> rows(static_cast<size_t>(m) * lda, ~uint64_t{0});
          for (int64_t i = 0; i < m; ++i) std::copy_n(aw.begin() + i * k_words, k_words, rows.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(i) * lda));
          const auto packed = pack_bgemm_weights(to_words(w, n, k_bits, k_words).data(), n, k_words, kernel.nr);
          BGemmArgs args;
          args.a = rows.data();
          args.lda = lda;
          args.m = m;
          args.w = packed.data();
          args.n = n;
          args.k_words = k_words;
          args.k_bits = static_cast<int32_t>(k_bits);
          std::vector<int32_t> c(static_cast<size_t>(m * n), -99);
          args.c = c.data();
          args.ldc = static_cast<size_t>(n);
          kernel.fn(args);
          ASSERT_EQ(c, expect);
          // One threshold per channel (a bipolar output), at values that occur.
          std::vector<int32_t> t(static_cast<size_t>(n));
          for (int64_t j = 0; j < n; ++j) t[static_cast<size_t>(j)] = expect[static_cast<size_t>((rng() % m) * n + j)];
          const auto tp = pack_thresholds(t.data(), n, 1, kernel.nr);
          std::vector<uint8_t> codes(static_cast<size_t>(m * n), 0xEE);
          args.c = nullptr;
          args.out = codes.data();
          args.ldo = static_cast<size_t>(n);
          args.thresholds = tp.data();
          args.threshold_count = 1;
          kernel.fn(args);
          for (size_t i = 0; i < codes.size(); ++i) {
            ASSERT_EQ(codes[i], expect[i] >= t[i % static_cast<size_t>(n)] ? 1 : 0) << "at " << i;
          }
        }
      }
    }
  }
}

TEST(Bgemm, PackBitsMatchesNaive) {
  std::mt19937 rng(9);
  for (int64_t c : {1, 7, 31, 32, 33, 64, 100, 256}) {
    const int64_t pixels = 5;
    const int64_t words = (c + 63) / 64 + 1;  // one spare word: must come out zero
    std::vector<uint8_t> codes(static_cast<size_t>(pixels * c) + 64, 1);
    for (int64_t i = 0; i < pixels * c; ++i) codes[static_cast<size_t>(i)] = static_cast<uint8_t>(rng() % 2);
    std::vector<uint64_t> bits(static_cast<size_t>(pixels * words), ~uint64_t{0});
    pack_bits_u8(codes.data(), pixels, c, words, bits.data());
    for (int64_t p = 0; p < pixels; ++p) {
      for (int64_t w = 0; w < words; ++w) {
        uint64_t expect = 0;
        for (int64_t ch = w * 64; ch < std::min(c, (w + 1) * 64); ++ch) {
          if (codes[static_cast<size_t>(p * c + ch)] != 0) expect |= uint64_t{1} << (ch % 64);
        }
        ASSERT_EQ(bits[static_cast<size_t>(p * words + w)], expect) << "c=" << c << " pixel " << p << " word " << w;
      }
    }
  }
}

}  // namespace
}  // namespace dnnsplit::kernels
