// SIMD bgemm kernels, one copy per Highway target. Popcount by nibble lookup (vpshufb on x86,
// tbl on Arm): per-byte counts (<= 8 per word) are added in bytes for up to 31 words, then
// summed per 64-bit lane (vpsadbw) so nothing overflows.
#include <algorithm>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "bgemm_b1_hwy.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"
#include "bgemm.h"
#include "hwy_list.h"

HWY_BEFORE_NAMESPACE();
namespace dnnsplit::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET != HWY_SCALAR

using D64 = hn::ScalableTag<uint64_t>;
using DU8 = hn::Repartition<uint8_t, D64>;
using DI32 = hn::Repartition<int32_t, D64>;

constexpr size_t kMaxNr = 2 * HWY_MAX_BYTES / 8;
constexpr int64_t kByteSteps = 31;  // 31 words x 8 bits per byte lane stay below 256

HWY_INLINE hn::Vec<DU8> popcount_bytes(hn::Vec<DU8> v, hn::Vec<DU8> lut, hn::Vec<DU8> low) {
  const DU8 du8;
  const auto lo = hn::And(v, low);
  const auto hi = hn::And(hn::BitCast(du8, hn::ShiftRight<4>(hn::BitCast(hn::Repartition<uint16_t, DU8>(), v))), low);
  return hn::Add(hn::TableLookupBytes(lut, lo), hn::TableLookupBytes(lut, hi));
}

// pc (MR rows x nr, row stride nr) = popcount(A rows XOR one packed weight block).
template <int MR>
HWY_INLINE void tile_b1(const uint64_t* a, size_t lda, const uint64_t* w, int64_t k_words, uint64_t* pc) {
  const D64 d64;
  const DU8 du8;
  const size_t lanes = hn::Lanes(d64);
  const size_t nr = 2 * lanes;
  alignas(64) static constexpr uint8_t kNibbles[64] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                                       0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
  const auto lut = hn::LoadDup128(du8, kNibbles);
  const auto low = hn::Set(du8, 0x0F);
  hn::Vec<D64> sum0[MR], sum1[MR];
  for (int r = 0; r < MR; ++r) sum0[r] = sum1[r] = hn::Zero(d64);
  for (int64_t k0 = 0; k0 < k_words; k0 += kByteSteps) {
    const int64_t k1 = std::min(k_words, k0 + kByteSteps);
    hn::Vec<DU8> c0[MR], c1[MR];
    for (int r = 0; r < MR; ++r) c0[r] = c1[r] = hn::Zero(du8);
    const uint64_t* wp = w + k0 * static_cast<int64_t>(nr);
    for (int64_t k = k0; k < k1; ++k, wp += nr) {
      const auto w0 = hn::BitCast(du8, hn::LoadU(d64, wp));
      const auto w1 = hn::BitCast(du8, hn::LoadU(d64, wp + lanes));
      for (int r = 0; r < MR; ++r) {
        const auto x = hn::BitCast(du8, hn::Set(d64, a[static_cast<size_t>(r) * lda + static_cast<size_t>(k)]));
        c0[r] = hn::Add(c0[r], popcount_bytes(hn::Xor(x, w0), lut, low));
        c1[r] = hn::Add(c1[r], popcount_bytes(hn::Xor(x, w1), lut, low));
      }
    }
    for (int r = 0; r < MR; ++r) {
      sum0[r] = hn::Add(sum0[r], hn::SumsOf8(c0[r]));
      sum1[r] = hn::Add(sum1[r], hn::SumsOf8(c1[r]));
    }
  }
  for (int r = 0; r < MR; ++r) {
    hn::StoreU(sum0[r], d64, pc + static_cast<size_t>(r) * nr);
    hn::StoreU(sum1[r], d64, pc + static_cast<size_t>(r) * nr + lanes);
  }
}

HWY_INLINE void epilogue_b1(const BGemmArgs& args, const uint64_t* pc, int rows, int64_t row0, int64_t col0,
                            int64_t n_valid, const int32_t* thresholds) {
  const DI32 d32;  // nr lanes: the two u64 vectors' low halves
  const hn::Rebind<uint8_t, DI32> du8q;
  const size_t nr = hn::Lanes(d32);
  for (int r = 0; r < rows; ++r) {
    const auto at = static_cast<size_t>(row0 + r);
    alignas(64) int32_t acc[kMaxNr];
    for (size_t j = 0; j < nr; ++j) acc[j] = args.k_bits - 2 * static_cast<int32_t>(pc[static_cast<size_t>(r) * nr + j]);
    if (args.c != nullptr) {
      std::memcpy(args.c + at * args.ldc + static_cast<size_t>(col0), acc, static_cast<size_t>(n_valid) * 4);
      continue;
    }
    const auto v = hn::Load(d32, acc);
    auto below = hn::Zero(d32);
    for (int t = 0; t < args.threshold_count; ++t) {
      below = hn::Add(below, hn::VecFromMask(d32, v < hn::LoadU(d32, thresholds + static_cast<size_t>(t) * nr)));
    }
    alignas(64) uint8_t codes[kMaxNr];
    hn::StoreU(hn::DemoteTo(du8q, hn::Add(hn::Set(d32, args.threshold_count), below)), du8q, codes);
    std::memcpy(args.out + at * args.ldo + static_cast<size_t>(col0), codes, static_cast<size_t>(n_valid));
  }
}

template <int MR>
void bgemm_b1_hwy(const BGemmArgs& args) {
  const size_t nr = 2 * hn::Lanes(D64());
  const int64_t blocks = (args.n + static_cast<int64_t>(nr) - 1) / static_cast<int64_t>(nr);
  alignas(64) uint64_t pc[MR * kMaxNr];
  for (int64_t b = 0; b < blocks; ++b) {
    const uint64_t* w = args.w + b * args.k_words * static_cast<int64_t>(nr);
    const int32_t* thr =
        args.thresholds == nullptr ? nullptr : args.thresholds + b * args.threshold_count * static_cast<int64_t>(nr);
    const int64_t col0 = b * static_cast<int64_t>(nr);
    const int64_t n_valid = std::min<int64_t>(static_cast<int64_t>(nr), args.n - col0);
    int64_t i = 0;
    for (; i + MR <= args.m; i += MR) {
      tile_b1<MR>(args.a + static_cast<size_t>(i) * args.lda, args.lda, w, args.k_words, pc);
      epilogue_b1(args, pc, MR, i, col0, n_valid, thr);
    }
    for (; i < args.m; ++i) {
      tile_b1<1>(args.a + static_cast<size_t>(i) * args.lda, args.lda, w, args.k_words, pc);
      epilogue_b1(args, pc, 1, i, col0, n_valid, thr);
    }
  }
}

// Bits of nonzero codes, a whole vector of channels at a time.
void pack_bits_hwy(const uint8_t* codes, int64_t pixels, int64_t c, int64_t words_per_pixel, uint64_t* bits) {
  const hn::ScalableTag<uint8_t> du8;
  const auto n = static_cast<int64_t>(hn::Lanes(du8));
  const auto zero = hn::Zero(du8);
  alignas(64) uint8_t tail[HWY_MAX_BYTES];
  for (int64_t p = 0; p < pixels; ++p) {
    const uint8_t* in = codes + p * c;
    auto* out = reinterpret_cast<uint8_t*>(bits + p * words_per_pixel);
    std::memset(out, 0, static_cast<size_t>(words_per_pixel) * 8);
    int64_t c0 = 0;
    for (; c0 + n <= c; c0 += n) hn::StoreMaskBits(du8, hn::Ne(hn::LoadU(du8, in + c0), zero), out + c0 / 8);
    if (c0 < c) {
      std::memset(tail, 0, sizeof(tail));
      std::memcpy(tail, in + c0, static_cast<size_t>(c - c0));
      uint8_t mask_bytes[HWY_MAX_BYTES / 8];
      hn::StoreMaskBits(du8, hn::Ne(hn::LoadU(du8, tail), zero), mask_bytes);
      std::memcpy(out + c0 / 8, mask_bytes, static_cast<size_t>((c - c0 + 7) / 8));
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR

std::vector<BGemmKernel> bgemm_hwy_entries(int64_t* target) {
  *target = HWY_TARGET;
#if HWY_TARGET == HWY_SCALAR
  return {};
#else
  const int nr = static_cast<int>(2 * hn::Lanes(D64()));
  auto name = [&](int mr) {
    std::string s = "bgemm_b1_";
    s += std::to_string(mr);
    s += "x";
    s += std::to_string(nr);
    s += "c64__";
    s += hwy_target_suffix(HWY_TARGET);
    return s;
  };
  return {{name(2), bgemm_b1_hwy<2>, 2, nr}, {name(4), bgemm_b1_hwy<4>, 4, nr}};
#endif
}

void pack_bits_entry(const uint8_t* codes, int64_t pixels, int64_t c, int64_t words_per_pixel, uint64_t* bits) {
#if HWY_TARGET == HWY_SCALAR
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t w = 0; w < words_per_pixel; ++w) bits[p * words_per_pixel + w] = 0;
    for (int64_t ch = 0; ch < c; ++ch) {
      if (codes[p * c + ch] != 0) bits[p * words_per_pixel + ch / 64] |= uint64_t{1} << (ch % 64);
    }
  }
#else
  pack_bits_hwy(codes, pixels, c, words_per_pixel, bits);
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace dnnsplit::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace dnnsplit::kernels {

HWY_EXPORT(bgemm_hwy_entries);
HWY_EXPORT(pack_bits_entry);

BGemmKernel bgemm_generic_kernel();

const std::vector<BGemmKernel>& bgemm_kernels() {
  static const std::vector<BGemmKernel> list = [] {
    std::vector<BGemmKernel> out{bgemm_generic_kernel()};
    for (auto& k : collect_hwy_kernels<BGemmKernel>(HWY_DISPATCH_TABLE(bgemm_hwy_entries))) out.push_back(std::move(k));
    return out;
  }();
  return list;
}

void pack_bits_u8(const uint8_t* codes, int64_t pixels, int64_t c, int64_t words_per_pixel, uint64_t* bits) {
  HWY_DYNAMIC_DISPATCH(pack_bits_entry)(codes, pixels, c, words_per_pixel, bits);
}

}  // namespace dnnsplit::kernels
#endif  // HWY_ONCE
