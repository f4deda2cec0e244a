// The generic bgemm kernel (nr = 1): std::popcount on 64-bit words, the truth the SIMD kernels
// are tested against; plus the weight packing.
#include <bit>

#include "bgemm.h"

namespace dnnsplit::kernels {

namespace {

void bgemm_b1_1x1c64_generic(const BGemmArgs& args) {
  for (int64_t i = 0; i < args.m; ++i) {
    const uint64_t* a = args.a + static_cast<size_t>(i) * args.lda;
    for (int64_t j = 0; j < args.n; ++j) {
      const uint64_t* w = args.w + j * args.k_words;
      int32_t ones = 0;
      for (int64_t k = 0; k < args.k_words; ++k) ones += std::popcount(a[k] ^ w[k]);
      const int32_t acc = args.k_bits - 2 * ones;
      if (args.c != nullptr) {
        args.c[static_cast<size_t>(i) * args.ldc + static_cast<size_t>(j)] = acc;
      } else {
        const int32_t* t = args.thresholds + j * args.threshold_count;
        int code = 0;
        while (code < args.threshold_count && acc >= t[code]) ++code;
        args.out[static_cast<size_t>(i) * args.ldo + static_cast<size_t>(j)] = static_cast<uint8_t>(code);
      }
    }
  }
}

}  // namespace

BGemmKernel bgemm_generic_kernel() { return {"bgemm_b1_1x1c64__generic", bgemm_b1_1x1c64_generic, 1, 1}; }

std::vector<uint64_t> pack_bgemm_weights(const uint64_t* w, int64_t n, int64_t k_words, int nr) {
  const int64_t np = (n + nr - 1) / nr * nr;
  std::vector<uint64_t> packed(static_cast<size_t>(np * k_words), 0);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t k = 0; k < k_words; ++k) {
      packed[static_cast<size_t>(((j / nr) * k_words + k) * nr + j % nr)] = w[j * k_words + k];
    }
  }
  return packed;
}

}  // namespace dnnsplit::kernels
