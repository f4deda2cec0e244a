// Internal to the kernels: the step kinds of a compiled plan. Each works on one image.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plan.h"

namespace dnnsplit::kernels {

// An activation held as codes or float values, NHWC per image. `flat`: the graph's tensor is
// the NCHW flattening [1, c*h*w] of it (what Flatten / Reshape made of it).
struct ActShape {
  int64_t h = 1, w = 1, c = 1;
  bool flat = false;
  Shape logical;  // the graph's shape, batch 1
  int64_t numel() const { return h * w * c; }
};

// Slice `image` of graph input `input` into a batch-1 tensor.
std::unique_ptr<Step> make_input_step(StepInfo info, int input, int tensor_slot);
// Graph input on an integer grid -> per-channel lookup table -> codes (or float values).
struct LutSpec {
  int input = 0;
  ActShape shape;         // of the result; the input is NCHW [1, c, h, w] or [1, c]
  double in_scale = 1.0;  // input grid: x = float32(q * in_scale), q in [in_min, in_min + levels)
  int64_t in_min = 0;
  int64_t in_levels = 0;
  std::string in_type;            // FINN name, for messages
  std::vector<uint8_t> codes;     // [c][in_levels], when writing codes
  std::vector<float> values;      // [c][in_levels], when writing float values
};
std::unique_ptr<Step> make_lut_step(StepInfo info, LutSpec spec, int out_slot, bool codes);

// Codes -> reference tensor (NCHW, logical shape), float values via the per-channel table.
std::unique_ptr<Step> make_codes_to_tensor_step(StepInfo info, ActShape shape, std::vector<float> values, int levels,
                                                int code_slot, int tensor_slot);
// Float values (NHWC) -> reference tensor.
std::unique_ptr<Step> make_floats_to_tensor_step(StepInfo info, ActShape shape, int float_slot, int tensor_slot);
// Codes -> float values (NHWC), the input of float-path convolutions: by the decode kernel when
// every code's value is float32(q) * scale[c] (checked here), else through the table.
std::unique_ptr<Step> make_codes_to_floats_step(StepInfo info, ActShape shape, std::vector<float> values,
                                                const CodeMap& map, bool simd, int code_slot, int float_slot);
// Reference tensor -> float values (NHWC).
std::unique_ptr<Step> make_tensor_to_floats_step(StepInfo info, ActShape shape, int tensor_slot, int float_slot);
// Reference tensor -> codes; fails (like the reference's integer path) when a value is off its grid.
struct EncodeSpec {
  ActShape shape;
  CodeMap map;
  std::string tensor_name;
  std::string type_name;
};
std::unique_ptr<Step> make_encode_step(StepInfo info, EncodeSpec spec, int tensor_slot, int code_slot);

// Runs one node through the reference evaluator.
struct ReferenceSpec {
  const ir::Node* node = nullptr;
  const NodeEvaluator* evaluate = nullptr;
  std::vector<int> input_slots;            // -1: constant or absent
  std::vector<const Tensor*> constants;    // per input, when input_slots[i] == -1
  std::vector<int> output_slots;           // -1: unused output
};
std::unique_ptr<Step> make_reference_step(StepInfo info, ReferenceSpec spec);

// Copies a batch-1 tensor into image `image` of graph output `output`.
std::unique_ptr<Step> make_output_step(StepInfo info, int output, int tensor_slot);

// ---- compute ------------------------------------------------------------------------------------

// Conv (group 1), MatMul, Gemm on codes: im2col (unless the input rows are the GEMM rows already)
// + qgemm, threshold epilogue to codes or, without a chain, the reference's float formula.
struct QGemmSpec {
  const QGemmKernel* kernel = nullptr;
  ConvGeometry g;            // MatMul / Gemm: 1x1 over a 1x1 image with in_c = K
  bool direct = false;       // A rows are the input itself (1x1, stride 1, no padding, K % kr == 0)
  // Implicit rows (no padding, kernel_w * in_c % kr == 0): one kernel call per output row, A read
  // from the input through one segment per kernel row.
  bool implicit = false;
  std::vector<int64_t> seg_offset;
  uint8_t pad_code = 0;
  int64_t k_padded = 0, k_chunk = 0;
  std::vector<int8_t> packed_w;
  std::vector<int32_t> packed_t;  // threshold epilogue
  int threshold_count = 0;
  std::vector<int16_t> packed_t16;  // the same as int16 when sums and thresholds fit (nr 16)
  ThresholdLines lines;             // empty, or lines that decide the codes (fit_threshold_lines)
  // Float output (no chain): y = float32(alpha * (double(a * acc + b * wsum[n]) * scale[n]) + bias[n]),
  // written NCHW into a tensor of shape `out_logical`.
  int a = 1, b = 0;
  std::vector<int64_t> wsum;
  std::vector<double> scale, bias;
  double alpha = 1.0;
  bool gemm_alpha = false;  // Gemm applies alpha; Conv / MatMul do not
  Shape out_logical;
  int64_t rows_per_block = 0;  // im2col block
};
std::unique_ptr<Step> make_qgemm_step(StepInfo info, QGemmSpec spec, int in_slot, int out_slot, bool to_tensor);

// Bipolar x bipolar Conv (no padding) / MatMul / Gemm: codes -> bits per pixel -> im2col over
// words -> bgemm; threshold epilogue, or the float formula y(acc) as QGemmSpec's with a = 1, b = 0.
struct BGemmSpec {
  const BGemmKernel* kernel = nullptr;
  ConvGeometry g;               // in_c: channels (codes); MatMul / Gemm: 1x1 over a 1x1 image
  int64_t words_per_pixel = 0;  // in_c rounded up to 64 bits
  int64_t k_words = 0;          // taps * words_per_pixel
  int32_t k_bits = 0;           // taps * in_c
  std::vector<uint64_t> packed_w;
  std::vector<int32_t> packed_t;
  int threshold_count = 0;
  std::vector<double> scale, bias;  // float output
  double alpha = 1.0;
  bool gemm_alpha = false;
  Shape out_logical;
};
std::unique_ptr<Step> make_bgemm_step(StepInfo info, BGemmSpec spec, int in_slot, int out_slot, bool to_tensor);

// A channel whose integer thresholds could disagree with the reference's float path (a sum
// within rounding distance of a threshold): recomputed the reference's way after the kernel.
struct DwExactChannel {
  int64_t channel = 0;
  std::vector<float> values;  // [code] the float each input code stands for
  std::vector<double> w;      // [tap], times the direction of the float thresholds
  double bias = 0.0;          // likewise; added after the sum when has_bias
  std::vector<float> thresholds;  // code = #{t : y >= thresholds[t]}
};

struct DwSpec {
  const DwKernel* kernel = nullptr;
  ConvGeometry g;
  uint8_t pad_code = 0;
  int64_t c_padded = 0;
  std::vector<int32_t> w;         // [taps][c_padded]
  std::vector<int32_t> packed_t;
  int threshold_count = 0;
  std::vector<int16_t> w16, packed_t16;  // for int16 kernels
  ThresholdLines lines;                  // empty, or lines that decide the codes
  std::vector<DwExactChannel> exact;     // float-path channels to redo
  bool has_bias = false;
};
std::unique_ptr<Step> make_dwconv_step(StepInfo info, DwSpec spec, int in_slot, int out_slot);

struct FconvSpec {
  const FconvKernel* kernel = nullptr;
  ConvGeometry g;
  int64_t c_padded = 0;
  std::vector<double> w, bias;
  bool has_bias = false;
  std::vector<float> packed_t;  // empty: float values out
  int threshold_count = 0;
  std::optional<FconvFilter> filter;  // dense, codes out
};
std::unique_ptr<Step> make_fconv_step(StepInfo info, FconvSpec spec, int in_slot, int out_slot);

std::unique_ptr<Step> make_maxpool_step(StepInfo info, const MaxPoolKernel& kernel, ConvGeometry g, int in_slot,
                                        int out_slot);

}  // namespace dnnsplit::kernels
