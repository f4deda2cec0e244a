// SIMD qgemm kernels, compiled once per Highway target (AVX2 and SSE4 on x86, NEON on Arm, and
// EMU128 as the portable fallback). Layout "c4": a 32-bit lane holds 4 consecutive k of one
// output channel, so one broadcast of 4 activation bytes meets nr channels at once; u8 x s8
// products are summed pairwise into int16 lanes (vpmaddubsw on x86) and widened to int32
// every k_chunk, which qgemm_k_chunk bounds so no int16 sum can overflow.
#include <algorithm>
#include <cstring>
#include <type_traits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "qgemm_u8s8_hwy.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "hwy_list.h"
#include "qgemm.h"

HWY_BEFORE_NAMESPACE();
namespace dnnsplit::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D32 = hn::ScalableTag<int32_t>;
using D16 = hn::Repartition<int16_t, D32>;
using D8 = hn::Repartition<int8_t, D32>;
using DU8 = hn::Repartition<uint8_t, D32>;

#if HWY_TARGET != HWY_SCALAR  // HWY_SCALAR has one lane per vector: the generic kernel covers it

// x86 has the instruction; elsewhere (NEON) the portable form below is used.
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
constexpr bool kHasNativePairs = true;
#else
constexpr bool kHasNativePairs = false;
#endif

// a[2i] * b[2i] + a[2i+1] * b[2i+1] into int16 lane i; the caller rules out overflow, so the
// portable form (no saturation) agrees with vpmaddubsw.
template <bool kNative>
HWY_INLINE hn::Vec<D16> mul_pairs_u8s8(hn::Vec<DU8> a, hn::Vec<D8> b) {
#if HWY_TARGET == HWY_AVX2
  if constexpr (kNative) return hn::Vec<D16>{_mm256_maddubs_epi16(a.raw, b.raw)};
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  if constexpr (kNative) return hn::Vec<D16>{_mm_maddubs_epi16(a.raw, b.raw)};
#endif
  const D16 d16;
  const hn::Repartition<uint16_t, D32> du16;
  const auto au = hn::BitCast(du16, a);
  const auto a_even = hn::BitCast(d16, hn::And(au, hn::Set(du16, 0x00FF)));
  const auto a_odd = hn::BitCast(d16, hn::ShiftRight<8>(au));
  const auto bi = hn::BitCast(d16, b);
  const auto b_even = hn::ShiftRight<8>(hn::ShiftLeft<8>(bi));
  const auto b_odd = hn::ShiftRight<8>(bi);
  return hn::Add(hn::Mul(a_even, b_even), hn::Mul(a_odd, b_odd));
}

constexpr size_t kMaxNr = 2 * HWY_MAX_BYTES / 4;

// acc (MR rows x nr, row stride nr) = A rows x one packed weight block. The partial sums are
// named variables, not an array: GCC keeps arrays of vectors in registers only with a copy per
// accumulator and iteration.
// Calls fn(row_base, k_begin, k_end) for the parts of [k0, k1) in each segment, with row_base
// shifted so that row_base + k addresses byte k of the first row.
template <typename F>
HWY_INLINE void for_segments(const QGemmArgs& args, const uint8_t* a, int64_t k0, int64_t k1, F&& fn) {
  if (args.segments <= 1) {
    fn(a, k0, k1);
    return;
  }
  for (int sgm = 0; sgm < args.segments; ++sgm) {
    const int64_t begin = std::max(k0, sgm * args.seg_len);
    const int64_t end = std::min(k1, (sgm + 1) * args.seg_len);
    if (begin < end) fn(a + args.seg_offset[sgm] - sgm * args.seg_len, begin, end);
  }
}

#if HWY_TARGET == HWY_AVX2
// The AVX2 inner loop in intrinsics: through Highway's wrappers GCC 12 allocates the
// accumulators with a register copy each per iteration (25% more instructions); compiled on its
// own (not inlined) it gets the clean loop. Up to 6 rows: 12 accumulators, 2 weight vectors and
// a broadcast fill the 16 registers (measured: as fast as 4 rows on CNV's convs, which are
// bound by the two vpmaddubsw per cycle, a few percent faster on MobileNet's pointwise ones).
// Writes s[0 .. 2 * MR).
template <int MR>
HWY_NOINLINE void tile_u8s8_avx2(const QGemmArgs& args, const uint8_t* a_row0, size_t lda, const int8_t* w, int64_t k0,
                                 int64_t k1, __m256i* s) {
  static_assert(MR >= 1 && MR <= 6);
  __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
  __m256i s40 = s00, s41 = s00, s50 = s00, s51 = s00;
  // always_inline: a lambda GCC leaves out of line keeps the accumulators in memory.
  for_segments(
      args, a_row0, k0, k1, [&](const uint8_t* a, int64_t kb, int64_t ke) __attribute__((always_inline)) {
        const int8_t* wp = w + kb * 16;
        auto row = [&](int r, int64_t k) __attribute__((always_inline)) {
          uint32_t q;
          std::memcpy(&q, a + static_cast<size_t>(r) * lda + static_cast<size_t>(k), 4);
          return _mm256_set1_epi32(static_cast<int32_t>(q));
        };
#pragma GCC unroll 2
        for (int64_t k = kb; k < ke; k += 4, wp += 64) {
          const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp));
          const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 32));
          __m256i b = row(0, k);
          s00 = _mm256_add_epi16(s00, _mm256_maddubs_epi16(b, w0));
          s01 = _mm256_add_epi16(s01, _mm256_maddubs_epi16(b, w1));
          if constexpr (MR > 1) {
            b = row(1, k);
            s10 = _mm256_add_epi16(s10, _mm256_maddubs_epi16(b, w0));
            s11 = _mm256_add_epi16(s11, _mm256_maddubs_epi16(b, w1));
          }
          if constexpr (MR > 2) {
            b = row(2, k);
            s20 = _mm256_add_epi16(s20, _mm256_maddubs_epi16(b, w0));
            s21 = _mm256_add_epi16(s21, _mm256_maddubs_epi16(b, w1));
          }
          if constexpr (MR > 3) {
            b = row(3, k);
            s30 = _mm256_add_epi16(s30, _mm256_maddubs_epi16(b, w0));
            s31 = _mm256_add_epi16(s31, _mm256_maddubs_epi16(b, w1));
          }
          if constexpr (MR > 4) {
            b = row(4, k);
            s40 = _mm256_add_epi16(s40, _mm256_maddubs_epi16(b, w0));
            s41 = _mm256_add_epi16(s41, _mm256_maddubs_epi16(b, w1));
          }
          if constexpr (MR > 5) {
            b = row(5, k);
            s50 = _mm256_add_epi16(s50, _mm256_maddubs_epi16(b, w0));
            s51 = _mm256_add_epi16(s51, _mm256_maddubs_epi16(b, w1));
          }
        }
      });
  s[0] = s00, s[1] = s01;
  if constexpr (MR > 1) s[2] = s10, s[3] = s11;
  if constexpr (MR > 2) s[4] = s20, s[5] = s21;
  if constexpr (MR > 3) s[6] = s30, s[7] = s31;
  if constexpr (MR > 4) s[8] = s40, s[9] = s41;
  if constexpr (MR > 5) s[10] = s50, s[11] = s51;
}
#endif

template <int MR, bool kNative>
HWY_INLINE void tile_u8s8(const QGemmArgs& args, const uint8_t* a, size_t lda, const int8_t* w, int64_t kp, int64_t k_chunk,
                          int32_t* acc) {
  static_assert(MR >= 1 && MR <= 4);
  const D32 d32;
  const D16 d16;
  const D8 d8;
  const DU8 du8;
  const hn::Repartition<uint32_t, D32> du32;
  const size_t lanes = hn::Lanes(d32);
  const size_t nr = 2 * lanes;
  const size_t bytes = hn::Lanes(d8);
  for (size_t i = 0; i < MR * nr; i += lanes) hn::StoreU(hn::Zero(d32), d32, acc + i);
  const auto ones = hn::Set(d16, 1);
  auto broadcast = [&](const uint8_t* row, int64_t k) {
    uint32_t quad;
    std::memcpy(&quad, row + k, 4);
    return hn::BitCast(du8, hn::Set(du32, quad));
  };
  auto widen_into = [&](int32_t* row, hn::Vec<D16> s0, hn::Vec<D16> s1) {
    auto odd0 = hn::Zero(d32);
    auto odd1 = hn::Zero(d32);
    const auto lo = hn::ReorderWidenMulAccumulate(d32, s0, ones, hn::Zero(d32), odd0);
    const auto hi = hn::ReorderWidenMulAccumulate(d32, s1, ones, hn::Zero(d32), odd1);
    hn::StoreU(hn::Add(hn::LoadU(d32, row), hn::RearrangeToOddPlusEven(lo, odd0)), d32, row);
    hn::StoreU(hn::Add(hn::LoadU(d32, row + lanes), hn::RearrangeToOddPlusEven(hi, odd1)), d32, row + lanes);
  };
  for (int64_t k0 = 0; k0 < kp; k0 += k_chunk) {
    const int64_t k1 = std::min(kp, k0 + k_chunk);
    auto s00 = hn::Zero(d16), s01 = hn::Zero(d16), s10 = hn::Zero(d16), s11 = hn::Zero(d16);
    auto s20 = hn::Zero(d16), s21 = hn::Zero(d16), s30 = hn::Zero(d16), s31 = hn::Zero(d16);
#if HWY_TARGET == HWY_AVX2
    if constexpr (kNative) {
      __m256i s[8] = {};
      tile_u8s8_avx2<MR>(args, a, lda, w, k0, k1, s);
      s00 = hn::Vec<D16>{s[0]}, s01 = hn::Vec<D16>{s[1]}, s10 = hn::Vec<D16>{s[2]}, s11 = hn::Vec<D16>{s[3]};
      s20 = hn::Vec<D16>{s[4]}, s21 = hn::Vec<D16>{s[5]}, s30 = hn::Vec<D16>{s[6]}, s31 = hn::Vec<D16>{s[7]};
    } else
#endif
    {
      for_segments(args, a, k0, k1, [&](const uint8_t* base, int64_t kb, int64_t ke) {
        const uint8_t* a0 = base;
        const uint8_t* a1 = base + (MR > 1 ? lda : 0);
        const uint8_t* a2 = base + (MR > 2 ? 2 * lda : 0);
        const uint8_t* a3 = base + (MR > 3 ? 3 * lda : 0);
        const int8_t* wp = w + kb * static_cast<int64_t>(nr);
        for (int64_t k = kb; k < ke; k += 4, wp += 2 * bytes) {
          const auto w0 = hn::LoadU(d8, wp);
          const auto w1 = hn::LoadU(d8, wp + bytes);
          auto b = broadcast(a0, k);
          s00 = hn::Add(s00, mul_pairs_u8s8<kNative>(b, w0));
          s01 = hn::Add(s01, mul_pairs_u8s8<kNative>(b, w1));
          if constexpr (MR > 1) {
            b = broadcast(a1, k);
            s10 = hn::Add(s10, mul_pairs_u8s8<kNative>(b, w0));
            s11 = hn::Add(s11, mul_pairs_u8s8<kNative>(b, w1));
          }
          if constexpr (MR > 2) {
            b = broadcast(a2, k);
            s20 = hn::Add(s20, mul_pairs_u8s8<kNative>(b, w0));
            s21 = hn::Add(s21, mul_pairs_u8s8<kNative>(b, w1));
          }
          if constexpr (MR > 3) {
            b = broadcast(a3, k);
            s30 = hn::Add(s30, mul_pairs_u8s8<kNative>(b, w0));
            s31 = hn::Add(s31, mul_pairs_u8s8<kNative>(b, w1));
          }
        }
      });
    }
    widen_into(acc, s00, s01);
    if constexpr (MR > 1) widen_into(acc + nr, s10, s11);
    if constexpr (MR > 2) widen_into(acc + 2 * nr, s20, s21);
    if constexpr (MR > 3) widen_into(acc + 3 * nr, s30, s31);
  }
}

// Writes rows of acc (valid channels [0, n_valid) of this block) through the epilogue.
HWY_INLINE void epilogue_u8s8(const QGemmArgs& args, const int32_t* acc, int rows, int64_t row0, int64_t col0,
                              int64_t n_valid, const int32_t* thresholds) {
  const D32 d32;
  const hn::Rebind<uint8_t, D32> du8q;
  const size_t lanes = hn::Lanes(d32);
  const size_t nr = 2 * lanes;
  for (int r = 0; r < rows; ++r) {
    const int32_t* row = acc + static_cast<size_t>(r) * nr;
    const auto at = static_cast<size_t>(row0 + r);
    if (args.c != nullptr) {
      std::memcpy(args.c + at * args.ldc + static_cast<size_t>(col0), row, static_cast<size_t>(n_valid) * 4);
      continue;
    }
    alignas(64) uint8_t codes[kMaxNr];
    uint8_t* dst = args.out + at * args.ldo + static_cast<size_t>(col0);
    const bool full = n_valid == static_cast<int64_t>(nr);  // store straight to the output
    for (size_t j = 0; j < nr; j += lanes) {
      const auto v = hn::LoadU(d32, row + j);
      auto below = hn::Zero(d32);  // minus the number of thresholds above v
      for (int t = 0; t < args.threshold_count; ++t) {
        below = hn::Add(below, hn::VecFromMask(d32, v < hn::LoadU(d32, thresholds + static_cast<size_t>(t) * nr + j)));
      }
      const auto code = hn::Add(hn::Set(d32, args.threshold_count), below);
      hn::StoreU(hn::DemoteTo(du8q, code), du8q, (full ? dst : codes) + j);
    }
    if (!full) std::memcpy(dst, codes, static_cast<size_t>(n_valid));
  }
}

#if HWY_TARGET == HWY_AVX2
// One k chunk and a code output: from the int16 partial sums straight to the stored codes, in
// registers (vpmaddwd to int32, one compare per threshold, two packs to 16 bytes).
// With thr16 (int16 thresholds, pack_thresholds_i16) the sums are packed to int16 first and
// all 16 channels are compared at once, half the compares of the int32 way.
// Thresholds are the outer loop and rows the inner one: each threshold is loaded once for all
// rows, and the rows' counts are independent chains (one add per cycle each would otherwise
// bound a 15-threshold epilogue).
HWY_INLINE void store_codes_avx2(const QGemmArgs& args, __m256i packed, int64_t row, int64_t col0, int64_t n_valid) {
  const __m256i words = _mm256_permute4x64_epi64(packed, 0xD8);
  const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
  uint8_t* dst = args.out + static_cast<size_t>(row) * args.ldo + static_cast<size_t>(col0);
  if (n_valid == 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), bytes);
  } else {
    alignas(16) uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
    std::memcpy(dst, tmp, static_cast<size_t>(n_valid));
  }
}

template <int MR, int kCount>  // kCount < 0: args.threshold_count
HWY_INLINE void codes_from_partials_avx2(const QGemmArgs& args, const __m256i* s, int64_t row0, int64_t col0,
                                         int64_t n_valid, const int32_t* thr, const int16_t* thr16) {
  const __m256i ones = _mm256_set1_epi16(1);
  const int count = kCount >= 0 ? kCount : args.threshold_count;
  if (kCount < 0 && args.line_inv != nullptr) {  // threshold_line_code, 8 channels per vector
    const __m256 inv0 = _mm256_loadu_ps(args.line_inv + col0), inv1 = _mm256_loadu_ps(args.line_inv + col0 + 8);
    const __m256 off0 = _mm256_loadu_ps(args.line_off + col0), off1 = _mm256_loadu_ps(args.line_off + col0 + 8);
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(static_cast<float>(count));
    auto codes = [&](__m256i sums, __m256 inv, __m256 off) __attribute__((always_inline)) {
      const __m256 x = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(sums, ones)), inv, off);
      return _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(x, zero), top));
    };
    for (int r = 0; r < MR; ++r) {
      store_codes_avx2(args, _mm256_packs_epi32(codes(s[2 * r], inv0, off0), codes(s[2 * r + 1], inv1, off1)), row0 + r,
                       col0, n_valid);
    }
    return;
  }
  if (thr16 != nullptr) {
    // Named variables, not arrays: GCC keeps arrays of vectors on the stack inside the loop.
    auto sums = [&](int r) {
      return r < MR ? _mm256_packs_epi32(_mm256_madd_epi16(s[2 * r], ones), _mm256_madd_epi16(s[2 * r + 1], ones))
                    : _mm256_setzero_si256();
    };
    const __m256i v0 = sums(0), v1 = sums(1), v2 = sums(2), v3 = sums(3), v4 = sums(4), v5 = sums(5);
    __m256i c0 = _mm256_set1_epi16(static_cast<int16_t>(count)), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    for (int t = 0; t < count; ++t) {  // minus one per threshold above the sum
      const __m256i th = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(thr16 + t * 16));
      c0 = _mm256_add_epi16(c0, _mm256_cmpgt_epi16(th, v0));
      if constexpr (MR > 1) c1 = _mm256_add_epi16(c1, _mm256_cmpgt_epi16(th, v1));
      if constexpr (MR > 2) c2 = _mm256_add_epi16(c2, _mm256_cmpgt_epi16(th, v2));
      if constexpr (MR > 3) c3 = _mm256_add_epi16(c3, _mm256_cmpgt_epi16(th, v3));
      if constexpr (MR > 4) c4 = _mm256_add_epi16(c4, _mm256_cmpgt_epi16(th, v4));
      if constexpr (MR > 5) c5 = _mm256_add_epi16(c5, _mm256_cmpgt_epi16(th, v5));
    }
    store_codes_avx2(args, c0, row0, col0, n_valid);
    if constexpr (MR > 1) store_codes_avx2(args, c1, row0 + 1, col0, n_valid);
    if constexpr (MR > 2) store_codes_avx2(args, c2, row0 + 2, col0, n_valid);
    if constexpr (MR > 3) store_codes_avx2(args, c3, row0 + 3, col0, n_valid);
    if constexpr (MR > 4) store_codes_avx2(args, c4, row0 + 4, col0, n_valid);
    if constexpr (MR > 5) store_codes_avx2(args, c5, row0 + 5, col0, n_valid);
    return;
  }
  for (int r = 0; r < MR; ++r) {
    const __m256i v0 = _mm256_madd_epi16(s[2 * r], ones);
    const __m256i v1 = _mm256_madd_epi16(s[2 * r + 1], ones);
    __m256i c0 = _mm256_set1_epi32(count);
    __m256i c1 = c0;
    for (int t = 0; t < count; ++t) {
      c0 = _mm256_add_epi32(c0,
                            _mm256_cmpgt_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(thr + t * 16)), v0));
      c1 = _mm256_add_epi32(
          c1, _mm256_cmpgt_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(thr + t * 16 + 8)), v1));
    }
    store_codes_avx2(args, _mm256_packs_epi32(c0, c1), row0 + r, col0, n_valid);
  }
}

template <int MR>
HWY_INLINE void tile_codes_avx2(const QGemmArgs& args, int64_t row0, const int8_t* w, int64_t col0, int64_t n_valid,
                                const int32_t* thr, const int16_t* thr16) {
  __m256i s[12];
  tile_u8s8_avx2<MR>(args, args.a + static_cast<size_t>(row0) * args.lda, args.lda, w, 0, args.k_padded, s);
  switch (args.threshold_count) {
    case 1: codes_from_partials_avx2<MR, 1>(args, s, row0, col0, n_valid, thr, nullptr); break;
    case 2: codes_from_partials_avx2<MR, 2>(args, s, row0, col0, n_valid, thr, nullptr); break;
    default: codes_from_partials_avx2<MR, -1>(args, s, row0, col0, n_valid, thr, thr16); break;
  }
}
#endif

// The rows left after the whole tiles, 0 <= rows <= kMax, as one narrower tile:
// fn(std::integral_constant<int, rows>) unless rows is 0.
template <int kMax, class F>
HWY_INLINE void with_tail_rows(int64_t rows, F&& fn) {
  if constexpr (kMax >= 1) {
    if (rows == kMax) {
      fn(std::integral_constant<int, kMax>{});
    } else {
      with_tail_rows<kMax - 1>(rows, fn);
    }
  }
}

template <int MR, bool kNative>
void qgemm_u8s8_hwy(const QGemmArgs& args) {
#if HWY_TARGET == HWY_AVX2
  if (kNative && MR == 4 && args.out != nullptr && args.k_chunk >= args.k_padded) {
    const int64_t blocks = (args.n + 15) / 16;
    for (int64_t b = 0; b < blocks; ++b) {
      const int8_t* w = args.w + b * args.k_padded * 16;
      const int32_t* thr = args.thresholds + b * args.threshold_count * 16;
      const int16_t* thr16 = args.thresholds16 == nullptr ? nullptr : args.thresholds16 + b * args.threshold_count * 16;
      const int64_t col0 = b * 16;
      const int64_t n_valid = std::min<int64_t>(16, args.n - col0);
      int64_t i = 0;
      for (; i + 6 <= args.m; i += 6) tile_codes_avx2<6>(args, i, w, col0, n_valid, thr, thr16);
      with_tail_rows<5>(args.m - i, [&](auto rows) {
        tile_codes_avx2<decltype(rows)::value>(args, i, w, col0, n_valid, thr, thr16);
      });
    }
    return;
  }
#endif
  const D32 d32;
  const size_t nr = 2 * hn::Lanes(d32);
  const int64_t blocks = (args.n + static_cast<int64_t>(nr) - 1) / static_cast<int64_t>(nr);
  alignas(64) int32_t acc[MR * kMaxNr];
  for (int64_t b = 0; b < blocks; ++b) {
    const int8_t* w = args.w + b * args.k_padded * static_cast<int64_t>(nr);
    const int32_t* thr =
        args.thresholds == nullptr ? nullptr : args.thresholds + b * args.threshold_count * static_cast<int64_t>(nr);
    const int64_t col0 = b * static_cast<int64_t>(nr);
    const int64_t n_valid = std::min<int64_t>(static_cast<int64_t>(nr), args.n - col0);
    int64_t i = 0;
    for (; i + MR <= args.m; i += MR) {
      tile_u8s8<MR, kNative>(args, args.a + static_cast<size_t>(i) * args.lda, args.lda, w, args.k_padded, args.k_chunk, acc);
      epilogue_u8s8(args, acc, MR, i, col0, n_valid, thr);
    }
    // Row tail: one narrower tile, so short rows (implicit conv rows of 3 or 10 pixels) keep
    // most of the weight reuse.
    with_tail_rows<MR - 1>(args.m - i, [&](auto rows) {
      constexpr int kRows = decltype(rows)::value;
      tile_u8s8<kRows, kNative>(args, args.a + static_cast<size_t>(i) * args.lda, args.lda, w, args.k_padded,
                                args.k_chunk, acc);
      epilogue_u8s8(args, acc, kRows, i, col0, n_valid, thr);
    });
  }
}

template <int MR, bool kNative>
QGemmKernel make_entry() {
  const int nr = static_cast<int>(2 * hn::Lanes(D32()));
  return {"qgemm_u8s8_" + std::to_string(MR) + "x" + std::to_string(nr) + "c4__" + hwy_target_suffix(HWY_TARGET) +
              (kNative == kHasNativePairs ? "" : "_portable"),
          qgemm_u8s8_hwy<MR, kNative>, MR, nr, 4, true};
}

#endif  // HWY_TARGET != HWY_SCALAR

// Per target: its kernels and the target bit, so the list keeps only what this CPU runs. On
// x86 the portable pair product is listed too, so the code path NEON takes is tested here.
std::vector<QGemmKernel> qgemm_hwy_entries(int64_t* target) {
  *target = HWY_TARGET;
#if HWY_TARGET == HWY_SCALAR
  return {};
#else
  std::vector<QGemmKernel> list;
  if constexpr (kHasNativePairs) list.push_back(make_entry<4, false>());
  list.push_back(make_entry<4, kHasNativePairs>());
  return list;
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace dnnsplit::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace dnnsplit::kernels {

HWY_EXPORT(qgemm_hwy_entries);

QGemmKernel qgemm_generic_kernel();

const std::vector<QGemmKernel>& qgemm_kernels() {
  static const std::vector<QGemmKernel> list = [] {
    std::vector<QGemmKernel> out{qgemm_generic_kernel()};
    for (auto& k : collect_hwy_kernels<QGemmKernel>(HWY_DISPATCH_TABLE(qgemm_hwy_entries))) out.push_back(std::move(k));
    return out;
  }();
  return list;
}

}  // namespace dnnsplit::kernels
#endif  // HWY_ONCE
