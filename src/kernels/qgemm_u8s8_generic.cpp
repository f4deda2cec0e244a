// The generic qgemm kernel: plain int32 loops over the unpadded layout (nr = kr = 1). It is the
// bit-exact truth the SIMD kernels are tested against, and the fallback on any CPU.
#include <algorithm>
#include <cmath>
#include <limits>

#include "qgemm.h"

namespace dnnsplit::kernels {

namespace {

void qgemm_u8s8_1x1c1_generic(const QGemmArgs& args) {
  for (int64_t i = 0; i < args.m; ++i) {
    const uint8_t* a = args.a + static_cast<size_t>(i) * args.lda;
    for (int64_t j = 0; j < args.n; ++j) {
      const int8_t* w = args.w + j * args.k_padded;
      int32_t acc = 0;
      for (int64_t k = 0; k < args.k_padded; ++k) {
        const uint8_t x = args.segments > 1 ? a[args.seg_offset[k / args.seg_len] + k % args.seg_len] : a[k];
        acc += static_cast<int32_t>(x) * static_cast<int32_t>(w[k]);
      }
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

QGemmKernel qgemm_generic_kernel() { return {"qgemm_u8s8_1x1c1__generic", qgemm_u8s8_1x1c1_generic, 1, 1, 1, false}; }

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

int64_t qgemm_k_chunk(const QGemmKernel& kernel, int a_max, int w_max_abs, int64_t k_padded) {
  if (!kernel.int16_partial_sums) return std::max<int64_t>(k_padded, kernel.kr);
  // Each int16 lane adds one pair a0*w0 + a1*w1 per kr step.
  const int64_t pair = 2LL * a_max * w_max_abs;
  if (pair > 32767) return 0;
  const int64_t steps = pair == 0 ? k_padded / kernel.kr + 1 : 32767 / pair;
  return std::max<int64_t>(kernel.kr, std::min(steps * kernel.kr, round_up(std::max<int64_t>(k_padded, 1), kernel.kr)));
}

std::vector<int8_t> pack_qgemm_weights(const int8_t* w, int64_t n, int64_t k, int nr, int kr) {
  const int64_t np = round_up(n, nr);
  const int64_t kp = round_up(k, kr);
  std::vector<int8_t> packed(static_cast<size_t>(np * kp), 0);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < k; ++i) {
      const int64_t block = j / nr;
      const int64_t lane = j % nr;
      const int64_t at = ((block * (kp / kr) + i / kr) * nr + lane) * kr + i % kr;
      packed[static_cast<size_t>(at)] = w[j * k + i];
    }
  }
  return packed;
}

std::vector<int32_t> pack_thresholds(const int32_t* t, int64_t n, int count, int nr) {
  const int64_t np = round_up(n, nr);
  std::vector<int32_t> packed(static_cast<size_t>(np * count), INT32_MAX);
  for (int64_t j = 0; j < n; ++j) {
    for (int c = 0; c < count; ++c) packed[static_cast<size_t>(((j / nr) * count + c) * nr + j % nr)] = t[j * count + c];
  }
  return packed;
}

std::vector<int16_t> pack_thresholds_i16(const int32_t* t, int64_t n, int count) {
  constexpr int64_t kNr = 16;
  const int64_t np = round_up(n, kNr);
  std::vector<int16_t> packed(static_cast<size_t>(np * count), INT16_MAX);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t lane = j % kNr;
    const int64_t pos = (lane / 4 % 2) * 8 + (lane / 8) * 4 + lane % 4;  // packs' interleave
    for (int c = 0; c < count; ++c) {
      packed[static_cast<size_t>(((j / kNr) * count + c) * kNr + pos)] = static_cast<int16_t>(t[j * count + c]);
    }
  }
  return packed;
}

int threshold_line_code(float inv, float off, int count, int64_t acc) {
  const float x = std::fma(static_cast<float>(acc), inv, off);
  return static_cast<int>(std::min(std::max(x, 0.0F), static_cast<float>(count)));
}

namespace {

// Whether the line decides every code of thresholds t[0..count) (see threshold_line_code).
bool line_decides(const int32_t* t, int count, float inv, float off) {
  for (int q = 0; q < count; ++q) {
    if (threshold_line_code(inv, off, count, int64_t{t[q]} - 1) > q) return false;
    if (threshold_line_code(inv, off, count, t[q]) < q + 1) return false;
  }
  return true;
}

// For a slope inv, the offset in the middle of those that satisfy every threshold in exact
// arithmetic (T * inv + off >= t + 1 > (T - 1) * inv + off); the check decides in float.
std::optional<float> middle_offset(const int32_t* t, int count, double inv) {
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  for (int q = 0; q < count; ++q) {
    lo = std::max(lo, q + 1 - t[q] * inv);
    hi = std::min(hi, q + 1 - (t[q] - 1) * inv);
  }
  if (!(lo < hi)) return std::nullopt;
  return static_cast<float>((lo + hi) / 2);
}

}  // namespace

std::optional<ThresholdLines> fit_threshold_lines(const int32_t* t, int64_t n, int count, int64_t n_padded) {
  if (count < kMinLineThresholds) return std::nullopt;
  ThresholdLines lines;
  lines.inv.assign(static_cast<size_t>(n_padded), 0.0F);
  lines.off.assign(static_cast<size_t>(n_padded), 0.0F);
  constexpr int32_t kExact = 1 << 24;  // thresholds beyond are sentinels ("never"), not a line
  for (int64_t j = 0; j < n; ++j) {
    const int32_t* tj = t + j * count;
    if (std::any_of(tj, tj + count, [](int32_t v) { return v <= -kExact || v >= kExact; })) return std::nullopt;
    // The slopes a line can have: for thresholds s < t the codes at T[t] and T[s] - 1 need
    // inv > (t - s) / (T[t] - T[s] + 1), and those at T[s] and T[t] - 1 need
    // inv < (t - s) / (T[t] - T[s] - 1). The middle of that interval, then of the offsets.
    double inv_lo = 0.0, inv_hi = std::numeric_limits<double>::infinity();
    for (int q = 0; q < count; ++q) {
      for (int r = q + 1; r < count; ++r) {
        const double gap = static_cast<double>(tj[r]) - tj[q];
        inv_lo = std::max(inv_lo, (r - q) / (gap + 1.0));
        if (gap > 1.0) inv_hi = std::min(inv_hi, (r - q) / (gap - 1.0));
      }
    }
    if (!(inv_lo < inv_hi)) return std::nullopt;
    const auto inv = static_cast<float>(std::isfinite(inv_hi) ? (inv_lo + inv_hi) / 2 : inv_lo * 2);
    const auto off = middle_offset(tj, count, static_cast<double>(inv));
    if (!off || !line_decides(tj, count, inv, *off)) return std::nullopt;
    lines.inv[static_cast<size_t>(j)] = inv;
    lines.off[static_cast<size_t>(j)] = *off;
  }
  return lines;
}

}  // namespace dnnsplit::kernels
