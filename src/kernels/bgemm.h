// Internal to the kernels: the bgemm family, binary (bipolar x bipolar) products by XOR and
// popcount on bit-packed rows: for +-1 codes stored as bits (1 = +1), sum_k a_k w_k equals
// k_bits - 2 * popcount(a XOR w). Padding bits are 0 in both operands and add nothing.
// Layout "c64": a 64-bit lane holds 64 consecutive k of one output channel, so one broadcast
// 64-bit word of a row meets nr channels; per-lane byte counts are summed with SumsOf8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dnnsplit::kernels {

struct BGemmArgs {
  const uint64_t* a = nullptr;  // m rows of k_words words
  size_t lda = 0;               // in words
  int64_t m = 0;
  const uint64_t* w = nullptr;  // packed by pack_bgemm_weights for this kernel's nr
  int64_t n = 0;
  int64_t k_words = 0;
  int32_t k_bits = 0;           // the real k (without padding bits)
  // Epilogue on acc = k_bits - 2 * popcount, as qgemm's: raw int32 or threshold codes.
  int32_t* c = nullptr;
  size_t ldc = 0;
  uint8_t* out = nullptr;
  size_t ldo = 0;
  const int32_t* thresholds = nullptr;  // pack_thresholds(..., nr)
  int threshold_count = 0;
};

struct BGemmKernel {
  std::string name;  // bgemm_b1_<mr>x<nr>c64__<isa>
  void (*fn)(const BGemmArgs&) = nullptr;
  int mr = 1;
  int nr = 1;
};

// Generic first, best last.
const std::vector<BGemmKernel>& bgemm_kernels();
const BGemmKernel& bgemm_best(bool simd);

// W as bits per channel ([n][k_words] words, bit i of word j = k 64j+i) -> [n/nr][k_words][nr].
std::vector<uint64_t> pack_bgemm_weights(const uint64_t* w, int64_t n, int64_t k_words, int nr);

// Codes u in {0, 1} (NHWC) -> bits: each pixel's c channels into words_per_pixel words (zero
// padded), bit i = channel i.
void pack_bits_u8(const uint8_t* codes, int64_t pixels, int64_t c, int64_t words_per_pixel, uint64_t* bits);

}  // namespace dnnsplit::kernels
