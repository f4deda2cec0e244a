// QONNX / FINN custom ops: Quant (IntQuant), BipolarQuant, Trunc (v1 and v2), MultiThreshold.
// Semantics as in the qonnx reference implementation (finn-facts.md (f)), computed in double
// with one rounding to float32 at the end.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

using RoundFn = double (*)(double);

double round_half_even(double x) { return std::nearbyint(x); }  // default FP mode: ties to even
double round_ceil(double x) { return std::ceil(x); }
double round_floor(double x) { return std::floor(x); }
double round_up(double x) { return x >= 0 ? std::ceil(x) : std::floor(x); }  // away from zero
double round_down(double x) { return std::trunc(x); }                          // toward zero
double round_half_up(double x) { return std::round(x); }                       // ties away from zero
double round_half_down(double x) {                                             // ties toward zero
  const double t = std::trunc(x);
  return std::fabs(x - t) == 0.5 ? t : std::round(x);
}

RoundFn rounding_mode(const KernelContext& ctx, const std::string& fallback) {
  std::string mode = ctx.node.attr_string_or("rounding_mode", fallback);
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return std::toupper(c); });
  if (mode == "ROUND" || mode == "HALF_EVEN") return round_half_even;
  if (mode == "CEIL") return round_ceil;
  if (mode == "FLOOR") return round_floor;
  if (mode == "UP") return round_up;
  if (mode == "DOWN") return round_down;
  if (mode == "HALF_UP") return round_half_up;
  if (mode == "HALF_DOWN") return round_half_down;
  ctx.fail("attribute 'rounding_mode' has unknown value '" + mode + "'");
}

// A parameter input (scale, zero point, ...) broadcast to the data input's shape.
struct Param {
  std::vector<double> values;
  std::vector<int64_t> map;
  double operator[](int64_t i) const { return values[static_cast<size_t>(map_index(map, i))]; }
};

Param param(const KernelContext& ctx, size_t input, const Shape& data_shape) {
  const Tensor& p = ctx.in(input);
  const Shape shape = broadcast_two(ctx, data_shape, p.shape, ctx.describe_input(input));
  ctx.require(shape == data_shape, ctx.describe_input(input) + " does not broadcast to the data shape " +
                                       shape_to_string(data_shape));
  return {p.as_doubles(), broadcast_index(data_shape, p.shape)};
}

// A scalar integral bit width in [1, 64] (stored as float or integer).
int64_t bit_width(const KernelContext& ctx, size_t input) {
  const double b = scalar_input(ctx, input);
  ctx.require(b == std::floor(b) && b >= 1 && b <= 64,
              ctx.describe_input(input) + " must be an integer bit width in [1, 64], got " + std::to_string(b));
  return static_cast<int64_t>(b);
}

// Integer range of a signed/unsigned, narrow or full b-bit grid, as doubles.
struct Range {
  double min, max;
};
Range int_range(int64_t bits, bool is_signed, bool narrow) {
  if (is_signed) {
    const double half = std::ldexp(1.0, static_cast<int>(bits - 1));
    return {narrow ? -half + 1 : -half, half - 1};
  }
  const double full = std::ldexp(1.0, static_cast<int>(bits));
  return {0.0, narrow ? full - 2 : full - 1};
}

void require_nonzero(const KernelContext& ctx, const Param& p, size_t input) {
  for (double v : p.values) {
    ctx.require(v != 0.0 && std::isfinite(v), ctx.describe_input(input) + " must be finite and non-zero");
  }
}

Tensor float_output(const Tensor& x, const std::vector<double>& y) {
  Tensor out = Tensor::zeros(x.type == ElemType::kDouble ? ElemType::kDouble : ElemType::kFloat, x.shape);
  for (size_t i = 0; i < y.size(); ++i) {
    if (out.type == ElemType::kFloat) out.f32[i] = static_cast<float>(y[i]);
    else out.f64[i] = y[i];
  }
  return out;
}

// Quant / IntQuant: q = x / scale + zeropt, clamped to the integer range, rounded;
// y = (q - zeropt) * scale. A signed 1-bit quantizer is bipolar: q = x/scale + zeropt >= 0 ? 1 : -1.
std::vector<Tensor> quant_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  const Param scale = param(ctx, 1, x.shape);
  const Param zeropt = param(ctx, 2, x.shape);
  require_nonzero(ctx, scale, 1);
  const int64_t bits = bit_width(ctx, 3);
  const bool is_signed = ctx.node.attr_int_or("signed", 1) != 0;
  const bool narrow = ctx.node.attr_int_or("narrow", 0) != 0;
  const RoundFn round = rounding_mode(ctx, "ROUND");
  const Range range = int_range(bits, is_signed, narrow);
  const bool bipolar = bits == 1 && is_signed;
  const auto xs = x.as_doubles();
  std::vector<double> y(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto k = static_cast<int64_t>(i);
    const double s = scale[k];
    const double z = zeropt[k];
    double q = xs[i] / s + z;
    q = bipolar ? (q >= 0 ? 1.0 : -1.0) : round(std::clamp(q, range.min, range.max));
    y[i] = (q - z) * s;
  }
  return {float_output(x, y)};
}

std::vector<Tensor> bipolar_quant_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  const Param scale = param(ctx, 1, x.shape);
  const auto xs = x.as_doubles();
  std::vector<double> y(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) y[i] = scale[static_cast<int64_t>(i)] * (xs[i] >= 0 ? 1.0 : -1.0);
  return {float_output(x, y)};
}

// Trunc v1 (X, scale, zeropt, in_bitwidth, out_bitwidth):
//   y = rnd(round_half_even(x/scale + zeropt) / 2^(in_bits - out_bits)); Y = (y - zeropt) * scale.
// Trunc v2 (X, scale, zeropt, in_bitwidth, out_scale, out_bitwidth; attrs signed, narrow):
//   t = 2^round(log2(out_scale/scale)); y = round_half_even(x/scale + zeropt) / t, clamped to the
//   out_bitwidth range, y = rnd(y); Y = (y - zeropt/t) * out_scale.
std::vector<Tensor> trunc_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  const size_t count = ctx.inputs.size();
  ctx.require(count == 5 || count == 6, "Trunc takes 5 inputs (v1) or 6 inputs (v2), got " + std::to_string(count));
  const bool v2 = count == 6;
  const Param scale = param(ctx, 1, x.shape);
  const Param zeropt = param(ctx, 2, x.shape);
  require_nonzero(ctx, scale, 1);
  const int64_t in_bits = bit_width(ctx, 3);
  const int64_t out_bits = bit_width(ctx, v2 ? 5 : 4);
  const RoundFn round = rounding_mode(ctx, "FLOOR");
  const auto xs = x.as_doubles();
  std::vector<double> y(xs.size());
  if (!v2) {
    const double divisor = std::ldexp(1.0, static_cast<int>(in_bits - out_bits));
    for (size_t i = 0; i < xs.size(); ++i) {
      const auto k = static_cast<int64_t>(i);
      const double q = round(std::nearbyint(xs[i] / scale[k] + zeropt[k]) / divisor);
      y[i] = (q - zeropt[k]) * scale[k];
    }
    return {float_output(x, y)};
  }
  const Param out_scale = param(ctx, 4, x.shape);
  require_nonzero(ctx, out_scale, 4);
  const Range range = int_range(out_bits, ctx.node.attr_int_or("signed", 1) != 0,
                                ctx.node.attr_int_or("narrow", 0) != 0);
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto k = static_cast<int64_t>(i);
    const double t = std::exp2(std::nearbyint(std::log2(out_scale[k] / scale[k])));
    double q = std::nearbyint(xs[i] / scale[k] + zeropt[k]) / t;
    q = round(std::clamp(q, range.min, range.max));
    y[i] = (q - zeropt[k] / t) * out_scale[k];
  }
  return {float_output(x, y)};
}

// MultiThreshold: per element, the number of thresholds of its channel's row with x >= t;
// Y = out_scale * count + out_bias. The channel axis is 1, or the last axis when data_layout
// ends in "C" (NHWC, NC, ...); a (1, K) threshold tensor applies to every channel.
std::vector<Tensor> multithreshold_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const Tensor& t = ctx.in(1);
  ctx.require(x.shape.size() >= 2, ctx.describe_input(0) + " must have rank >= 2");
  ctx.require(t.shape.size() == 2, "thresholds " + ctx.describe_input(1) + " must be 2-D (channels, steps)");
  const std::string layout = ctx.node.attr_string_or("data_layout", "NCHW");
  const size_t axis = !layout.empty() && layout.back() == 'C' ? x.shape.size() - 1 : 1;
  const int64_t channels = x.shape[axis];
  ctx.require(t.shape[0] == channels || t.shape[0] == 1,
              "thresholds " + ctx.describe_input(1) + " need " + std::to_string(channels) + " rows or 1 for " +
                  ctx.describe_input(0) + " with data_layout " + layout);
  const double out_scale = ctx.node.attr_float_or("out_scale", 1.0F);
  const double out_bias = ctx.node.attr_float_or("out_bias", 0.0F);
  const int64_t steps = t.shape[1];
  const auto thresholds = t.as_doubles();
  const int64_t inner = shape_numel(Shape(x.shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.shape.end()));
  std::vector<double> y(static_cast<size_t>(x.numel()));
  for (size_t i = 0; i < y.size(); ++i) {
    const int64_t c = (static_cast<int64_t>(i) / inner) % channels;
    const double v = x.at(static_cast<int64_t>(i));
    const double* row = thresholds.data() + (t.shape[0] == 1 ? 0 : c) * steps;
    int64_t count = 0;
    for (int64_t k = 0; k < steps; ++k) count += v >= row[k] ? 1 : 0;
    y[i] = out_scale * static_cast<double>(count) + out_bias;
  }
  return {float_output(x, y)};
}

}  // namespace

std::vector<OpSpec> qonnx_ops() {
  return {
      {"Quant", quant_kernel, 4, 4},
      {"IntQuant", quant_kernel, 4, 4},
      {"BipolarQuant", bipolar_quant_kernel, 2, 2},
      {"Trunc", trunc_kernel, 5, 6},
      {"MultiThreshold", multithreshold_kernel, 2, 2},
  };
}

}  // namespace dnnsplit::engine
