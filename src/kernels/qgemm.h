// Internal to the kernels: the qgemm family, C[m][n] = sum_k A[m][k] * W[n][k] with uint8
// activation codes A and int8 weight codes W, fused with a per-channel threshold epilogue that
// turns each int32 accumulator into the next layer's uint8 code (FINN's MultiThreshold).
//
// One list (qgemm_kernels) feeds dispatch, tests and benchmarks; its first entry is the generic
// scalar kernel, the bit-exact truth every SIMD kernel is compared with.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnnsplit::kernels {

// One call: every row of A in [0, m) against every output channel.
struct QGemmArgs {
  const uint8_t* a = nullptr;  // m rows of k_padded readable bytes; bytes past k meet zero weights
  size_t lda = 0;
  int64_t m = 0;
  const int8_t* w = nullptr;  // packed by pack_qgemm_weights for this kernel's nr / kr
  int64_t n = 0;              // output channels (the packing pads them to a multiple of nr)
  int64_t k_padded = 0;       // multiple of the kernel's kr
  // int16 kernels widen their partial sums every k_chunk (a multiple of kr) so they cannot
  // overflow; qgemm_k_chunk computes it from the operand ranges.
  int64_t k_chunk = 0;
  // Implicit rows (no im2col) when segments > 1: byte k of row i is at
  // a + i * lda + seg_offset[k / seg_len] + k % seg_len, e.g. a stride-1 conv's input rows, one
  // segment per kernel row. seg_len is a multiple of the kernel's kr; k_padded = segments * seg_len.
  int segments = 1;
  int64_t seg_len = 0;
  const int64_t* seg_offset = nullptr;
  // Epilogue: exactly one of c (raw int32, row stride ldc) or out (uint8 codes, row stride ldo).
  int32_t* c = nullptr;
  size_t ldc = 0;
  uint8_t* out = nullptr;
  size_t ldo = 0;
  // Packed by pack_thresholds for this kernel's nr: code = #{t : acc >= T[n][t]}.
  const int32_t* thresholds = nullptr;
  int threshold_count = 0;
  // Optional: the same thresholds as int16, packed by pack_thresholds_i16, when every
  // accumulator and threshold fits int16; the AVX2 kernel then compares 16 channels at once.
  const int16_t* thresholds16 = nullptr;
  // Optional, with many thresholds: per channel a line that decides every code exactly
  // (fit_threshold_lines), so the AVX2 kernel converts once instead of comparing per threshold.
  // [n rounded up to 16] each; other kernels ignore them.
  const float* line_inv = nullptr;
  const float* line_off = nullptr;
};

using QGemmFn = void (*)(const QGemmArgs&);

struct QGemmKernel {
  std::string name;  // qgemm_u8s8_<mr>x<nr>c<kr>__<isa>
  QGemmFn fn = nullptr;
  int mr = 1;  // rows per register tile
  int nr = 1;  // output channels per packed block
  int kr = 1;  // k granularity of the packing
  bool int16_partial_sums = false;  // needs qgemm_k_chunk's bound (else any k_chunk works)
};

// Every kernel of the family this CPU can run: the generic one first, then the SIMD ones
// (one per compiled Highway target the CPU supports), best last.
const std::vector<QGemmKernel>& qgemm_kernels();
// The kernel the plans use: the last of qgemm_kernels(), or the generic one when simd is false.
const QGemmKernel& qgemm_best(bool simd);

// The largest k_chunk (multiple of kr, >= kr) for which an int16 kernel cannot overflow with
// activation codes in [0, a_max] and weight codes of magnitude <= w_max_abs; 0 when even one
// step can overflow (the kernel must not be used). Kernels without int16 sums get k_padded.
int64_t qgemm_k_chunk(const QGemmKernel& kernel, int a_max, int w_max_abs, int64_t k_padded);

int64_t round_up(int64_t value, int64_t multiple);

// W given row-major [n][k] -> the kernel's layout [n/nr][k/kr][nr][kr], zero padded.
std::vector<int8_t> pack_qgemm_weights(const int8_t* w, int64_t n, int64_t k, int nr, int kr);
// T given [n][count], ascending per channel -> [n/nr][count][nr]; padded channels get
// INT32_MAX (code 0).
std::vector<int32_t> pack_thresholds(const int32_t* t, int64_t n, int count, int nr);
// T given [n][count] with every value in [-32768, 32767] -> [n/16][count][16] int16 in the
// channel order of _mm256_packs_epi32(channels 0-7, channels 8-15): 0-3, 8-11, 4-7, 12-15.
// Padded channels get INT16_MAX (code 0 for accumulators below it).
std::vector<int16_t> pack_thresholds_i16(const int32_t* t, int64_t n, int count);

// Threshold lines: code = clamp(floor(fma(float(acc), inv, off)), 0, count), the float
// operations of the SIMD kernels (one rounding in the fused multiply-add, then truncation of a
// value already clamped to [0, count]). The formula is monotone in acc, so it equals the count
// #{t : acc >= T[t]} for every acc once it does at T[t] - 1 and T[t] for each t; the fit
// checks exactly that.
int threshold_line_code(float inv, float off, int count, int64_t acc);
struct ThresholdLines {
  std::vector<float> inv, off;  // [n_padded]; padded channels give code 0
};
// Lines for T given [n][count] (ascending per channel), or nullopt when some channel has none
// (its thresholds are too far from evenly spaced) or when count < kMinLineThresholds (fewer
// compares cost less than the conversion).
inline constexpr int kMinLineThresholds = 4;
std::optional<ThresholdLines> fit_threshold_lines(const int32_t* t, int64_t n, int count, int64_t n_padded);

}  // namespace dnnsplit::kernels
