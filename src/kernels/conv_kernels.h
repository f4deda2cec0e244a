// Internal to the kernels: the window-based families on NHWC activations of one image.
//  - im2col_u8: output pixels' receptive fields as qgemm rows, k ordered (ky, kx, c).
//  - maxpool_u8: max over windows of uint8 codes (the codes of a positive scale are ordered
//    like their values, so the max code is the code of the max).
//  - dwconv_u8s8: depthwise integer conv (exact path) + threshold epilogue.
//  - fconv_f64: the reference engine's float path, reproduced bit for bit: products of float32
//    values summed in double in the reference's order (input channel, then ky, then kx), one
//    rounding to float32, then a float threshold epilogue. Dense (group 1) and depthwise.
// Each family lists its kernels (generic first, the truth) for dispatch, tests and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
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

// Rows [p0, p1) of the output pixels (row-major oy, ox) as A rows (stride lda) of
// kernel_h * kernel_w * in_c bytes; taps outside the input get pad_code (the code of zero).
void im2col_u8(const ConvGeometry& g, const uint8_t* in, int64_t p0, int64_t p1, uint8_t pad_code, uint8_t* a,
               size_t lda);

// Output rows [oy0, oy1); taps outside the input are skipped (ONNX pads MaxPool with -inf).
void maxpool_u8(const ConvGeometry& g, const uint8_t* in, int64_t oy0, int64_t oy1, uint8_t* out);

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
};

struct DwKernel {
  std::string name;
  void (*fn)(const DwArgs&) = nullptr;
  int nr = 1;
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
const std::vector<DecodeKernel>& decode_kernels();
const DecodeKernel& decode_best(bool simd);
const std::vector<DwKernel>& dwconv_kernels();
const std::vector<FconvKernel>& fconv_kernels(bool depthwise);
const DwKernel& dwconv_best(bool simd);
const FconvKernel& fconv_best(bool depthwise, bool simd);

// Channel-last packing helpers shared by plan and tests.
std::vector<float> pack_float_thresholds(const float* t, int64_t n, int count, int nr);

}  // namespace dnnsplit::kernels
