// Internal to the kernels: the window-based families on NHWC activations of one image.
//  - im2col_u8: output pixels' receptive fields as qgemm rows, k ordered (ky, kx, c).
//  - maxpool_u8 (generic) and maxpool_kernels(): max over windows of uint8 codes (the codes of
//    a positive scale are ordered like their values, so the max code is the code of the max).
//  - dwconv_u8s8: depthwise integer conv (exact path) + threshold epilogue.
//  - fconv_f64: the reference engine's float path, reproduced bit for bit: products of float32
//    values summed in double in the reference's order (input channel, then ky, then kx), one
//    rounding to float32, then a float threshold epilogue. Dense (group 1) and depthwise. The
//    dense SIMD kernel can first decide codes from float32 sums with a proven error margin
//    (FconvFilter) and redo only the blocks near a threshold the reference's way.
// Each family lists its kernels (generic first, the truth) for dispatch, tests and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dnnsplit::kernels {

// SIMD kernels load whole vectors of channels: input buffers must stay readable this many bytes
// past their last element (the values read there only reach discarded lanes).
inline constexpr size_t kReadSlack = 64;

struct ConvGeometry {
  int64_t in_h = 1, in_w = 1, in_c = 1;
  int64_t out_h = 1, out_w = 1, out_c = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;  // bottom/right padding follows from the output extent
  int64_t taps() const { return kernel_h * kernel_w; }
};

// Calls fn(tap, iy, ix, inside) for the taps of output (oy, ox), row-major.
template <typename F>
void for_each_tap(const ConvGeometry& g, int64_t oy, int64_t ox, F&& fn) {
  for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
    const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
    for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
      const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
      fn(ky * g.kernel_w + kx, iy, ix, iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w);
    }
  }
}

// Rows [p0, p1) of the output pixels (row-major oy, ox) as A rows (stride lda) of
// kernel_h * kernel_w * in_c bytes; taps outside the input get pad_code (the code of zero).
void im2col_u8(const ConvGeometry& g, const uint8_t* in, int64_t p0, int64_t p1, uint8_t pad_code, uint8_t* a,
               size_t lda);

// Output rows [oy0, oy1); taps outside the input are skipped (ONNX pads MaxPool with -inf).
// The generic kernel; maxpool_kernels() lists it first and the SIMD ones after it.
void maxpool_u8(const ConvGeometry& g, const uint8_t* in, int64_t oy0, int64_t oy1, uint8_t* out);
struct MaxPoolKernel {
  std::string name;
  void (*fn)(const ConvGeometry&, const uint8_t*, int64_t, int64_t, uint8_t*) = nullptr;
};

// ---- depthwise integer conv -------------------------------------------------------------------
struct DwArgs {
  const ConvGeometry* g = nullptr;  // in_c == out_c
  const uint8_t* in = nullptr;
  uint8_t pad_code = 0;
  const int32_t* w = nullptr;  // [taps][c_padded]
  int64_t c_padded = 0;        // channels rounded up to the kernel's nr
  int64_t oy0 = 0, oy1 = 0;    // output rows
  uint8_t* out = nullptr;      // codes, NHWC
  const int32_t* thresholds = nullptr;  // [c_padded / nr][count][nr], as pack_thresholds
  int threshold_count = 0;
  // The same weights and thresholds narrowed to int16, for kernels with int16 sums (the caller
  // checks that no partial sum leaves int16, see dw_fits_int16).
  const int16_t* w16 = nullptr;
  const int16_t* thresholds16 = nullptr;
  // Optional: lines that decide every code (fit_threshold_lines, [c_padded] each); the int16
  // kernels use them instead of comparing per threshold.
  const float* line_inv = nullptr;
  const float* line_off = nullptr;
};

// ---- float-path conv --------------------------------------------------------------------------
struct FconvArgs {
  const ConvGeometry* g = nullptr;
  const float* in = nullptr;   // values, NHWC
  const double* w = nullptr;   // dense: [in_c][kh][kw][c_padded]; depthwise: [kh][kw][c_padded]
  const double* bias = nullptr;  // [c_padded], added after the sum as the reference does
  int64_t c_padded = 0;
  int64_t oy0 = 0, oy1 = 0;
  // Epilogue: codes through float thresholds ([c_padded/nr][count][nr], code = #{t : y >= T}),
  // or the float32 results themselves when out_codes is null.
  uint8_t* out_codes = nullptr;
  float* out_values = nullptr;
  const float* thresholds = nullptr;
  int threshold_count = 0;
  // Optional float32 filter of dense SIMD kernels writing codes (make_fconv_filter): sums in
  // float32 decide every code farther than margin[c] from a threshold; only the others are
  // summed the reference's way. Same layouts as w and bias.
  const float* w32 = nullptr;
  const float* bias32 = nullptr;
  const float* margin = nullptr;
  // Per channel, thresholds ~ fit_a + t / fit_inv: code = floor((y - fit_a) * fit_inv + 1)
  // clamped to [0, fit_top + 1] wherever z +- fit_rho have the same floor (fit_rho covers the
  // fit's deviation, margin and rounding); elsewhere the thresholds are counted.
  const float* fit_a = nullptr;
  const float* fit_inv = nullptr;
  const float* fit_rho = nullptr;
  const float* fit_top = nullptr;
};

// Float32 weights and bias of a dense float-path conv, and per channel a bound on |float32 sum
// (any order, fused multiply-adds) - the reference's double sum| that also covers the rounding
// of that sum to float32 before the thresholds. nullopt when the weights are not float32 values
// or the sums could leave float32's range. in_bound: max |input value|.
// thresholds: [out_c][count] ascending (+inf: never), for the fit.
struct FconvFilter {
  std::vector<float> w32, bias32, margin;
  std::vector<float> fit_a, fit_inv, fit_rho, fit_top;
};
// Points args' filter fields at f (which must outlive the calls).
void use_fconv_filter(FconvArgs& args, const FconvFilter& f);
std::optional<FconvFilter> make_fconv_filter(const ConvGeometry& g, const std::vector<double>& w,
                                             const std::vector<double>& bias, int64_t c_padded, double in_bound,
                                             const std::vector<float>& thresholds, int count);

struct DwKernel {
  std::string name;
  void (*fn)(const DwArgs&) = nullptr;
  int nr = 1;
  bool int16_sums = false;  // reads w16 / thresholds16
};
struct FconvKernel {
  std::string name;
  void (*fn)(const FconvArgs&) = nullptr;
  int nr = 1;
  bool depthwise = false;
};

// ---- decode -------------------------------------------------------------------------------------
// Codes -> float values, NHWC: value = float(a * u + b) * scale[c] in float arithmetic, i.e.
// the exact product rounded once, as float32(q * s) (scale holds c rounded up to nr entries).
struct DecodeArgs {
  const uint8_t* in = nullptr;
  int64_t pixels = 0, channels = 0;
  int a = 1, b = 0;
  const float* scale = nullptr;
  float* out = nullptr;
};
struct DecodeKernel {
  std::string name;
  void (*fn)(const DecodeArgs&) = nullptr;
  int nr = 1;
};

// Generic first, best last.
const std::vector<MaxPoolKernel>& maxpool_kernels();
const MaxPoolKernel& maxpool_best(bool simd);
const std::vector<DecodeKernel>& decode_kernels();
const DecodeKernel& decode_best(bool simd);
const std::vector<DwKernel>& dwconv_kernels();
const std::vector<FconvKernel>& fconv_kernels(bool depthwise);
// The best kernel; int16 kernels only when int16_ok (every partial sum and threshold fits).
const DwKernel& dwconv_best(bool simd, bool int16_ok = false);
// Whether per channel u_max * sum_t |w[t][c]| <= 32766, so int16 sums cannot overflow and the
// thresholds (within the sums' range plus one) fit as well.
bool dw_fits_int16(const std::vector<int32_t>& w, int64_t taps, int64_t c_padded, int u_max);
std::vector<int16_t> narrow_int16(const std::vector<int32_t>& v);
const FconvKernel& fconv_best(bool depthwise, bool simd);

// Channel-last packing helpers shared by plan and tests.
std::vector<float> pack_float_thresholds(const float* t, int64_t n, int count, int nr);

}  // namespace dnnsplit::kernels
