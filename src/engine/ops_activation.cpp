// Unary math and activation functions. Computed in double and rounded once to the element
// type; integer inputs are accepted where ONNX allows them (Neg, Abs, Sign, Relu).
#include <cmath>
#include <limits>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

int64_t int_neg(int64_t v) { return static_cast<int64_t>(0 - static_cast<uint64_t>(v)); }

std::vector<Tensor> neg_kernel(const KernelContext& ctx) {
  ctx.require(!is_unsigned(ctx.in(0).type), "Neg needs a signed or float input");
  return {map_numeric(ctx, 0, [](double x) { return -x; }, int_neg)};
}

std::vector<Tensor> abs_kernel(const KernelContext& ctx) {
  const bool uns = is_unsigned(ctx.in(0).type);
  return {map_numeric(ctx, 0, [](double x) { return std::fabs(x); },
                      [uns](int64_t v) { return uns || v >= 0 ? v : int_neg(v); })};
}

std::vector<Tensor> sign_kernel(const KernelContext& ctx) {
  const bool uns = is_unsigned(ctx.in(0).type);
  return {map_numeric(
      ctx, 0, [](double x) { return std::isnan(x) ? x : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)); },
      [uns](int64_t v) -> int64_t { return v == 0 ? 0 : ((uns || v > 0) ? 1 : -1); })};
}

std::vector<Tensor> relu_kernel(const KernelContext& ctx) {
  const bool uns = is_unsigned(ctx.in(0).type);
  return {map_numeric(ctx, 0, [](double x) { return x < 0 ? 0.0 : x; },
                      [uns](int64_t v) -> int64_t { return (uns || v >= 0) ? v : 0; })};
}

// Float-only unary functions share one kernel template over a plain function.
template <double (*kFn)(double)>
std::vector<Tensor> float_unary(const KernelContext& ctx) {
  return {map_float(ctx, 0, kFn)};
}

double f_floor(double x) { return std::floor(x); }
double f_ceil(double x) { return std::ceil(x); }
double f_round(double x) { return std::nearbyint(x); }  // default mode: ties to even, as ONNX
double f_sqrt(double x) { return std::sqrt(x); }
double f_exp(double x) { return std::exp(x); }
double f_log(double x) { return std::log(x); }
double f_reciprocal(double x) { return 1.0 / x; }
double f_erf(double x) { return std::erf(x); }
double f_tanh(double x) { return std::tanh(x); }
double f_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
double f_softsign(double x) { return x / (1.0 + std::fabs(x)); }
// log(1 + e^x) without overflow for large x.
double f_softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

double attr(const KernelContext& ctx, const char* name, float fallback) {
  return static_cast<double>(ctx.node.attr_float_or(name, fallback));
}

std::vector<Tensor> leaky_relu_kernel(const KernelContext& ctx) {
  const double alpha = attr(ctx, "alpha", 0.01F);
  return {map_float(ctx, 0, [alpha](double x) { return x < 0 ? alpha * x : x; })};
}

std::vector<Tensor> elu_kernel(const KernelContext& ctx) {
  const double alpha = attr(ctx, "alpha", 1.0F);
  return {map_float(ctx, 0, [alpha](double x) { return x < 0 ? alpha * (std::exp(x) - 1.0) : x; })};
}

std::vector<Tensor> selu_kernel(const KernelContext& ctx) {
  const double alpha = attr(ctx, "alpha", 1.67326319217681884765625F);
  const double gamma = attr(ctx, "gamma", 1.05070102214813232421875F);
  return {map_float(ctx, 0, [=](double x) { return x <= 0 ? gamma * (alpha * std::exp(x) - alpha) : gamma * x; })};
}

std::vector<Tensor> hard_sigmoid_kernel(const KernelContext& ctx) {
  const double alpha = attr(ctx, "alpha", 0.2F);
  const double beta = attr(ctx, "beta", 0.5F);
  return {map_float(ctx, 0, [=](double x) { return std::max(0.0, std::min(1.0, alpha * x + beta)); })};
}

std::vector<Tensor> hard_swish_kernel(const KernelContext& ctx) {
  return {map_float(ctx, 0, [](double x) { return x * std::max(0.0, std::min(1.0, x / 6.0 + 0.5)); })};
}

// PRelu: slope broadcasts to X (unidirectionally). Before opset 7 a 1-D slope of C values is
// per channel (axis 1).
std::vector<Tensor> prelu_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  require_same_types(ctx, {0, 1});
  const Tensor& x = ctx.in(0);
  Shape slope_shape = ctx.in(1).shape;
  if (ctx.opset < 7 && slope_shape.size() == 1 && x.shape.size() >= 2 && slope_shape[0] == x.shape[1]) {
    slope_shape.resize(x.shape.size() - 1, 1);
  }
  const Shape shape = broadcast_two(ctx, x.shape, slope_shape, "slope " + ctx.describe_input(1));
  ctx.require(shape == x.shape, "slope " + ctx.describe_input(1) + " does not broadcast to " + ctx.describe_input(0));
  const auto slope_map = broadcast_index(shape, slope_shape);
  Tensor out = Tensor::zeros(x.type, shape);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.at(i);
    const double r = v < 0 ? ctx.in(1).at(map_index(slope_map, i)) * v : v;
    if (x.type == ElemType::kFloat) out.f32[static_cast<size_t>(i)] = static_cast<float>(r);
    else out.f64[static_cast<size_t>(i)] = r;
  }
  return {std::move(out)};
}

}  // namespace

std::vector<OpSpec> activation_ops() {
  return {
      {"Neg", neg_kernel, 1, 1},
      {"Abs", abs_kernel, 1, 1},
      {"Sign", sign_kernel, 1, 1},
      {"Relu", relu_kernel, 1, 1},
      {"Floor", float_unary<f_floor>, 1, 1},
      {"Ceil", float_unary<f_ceil>, 1, 1},
      {"Round", float_unary<f_round>, 1, 1},
      {"Sqrt", float_unary<f_sqrt>, 1, 1},
      {"Exp", float_unary<f_exp>, 1, 1},
      {"Log", float_unary<f_log>, 1, 1},
      {"Reciprocal", float_unary<f_reciprocal>, 1, 1},
      {"Erf", float_unary<f_erf>, 1, 1},
      {"Tanh", float_unary<f_tanh>, 1, 1},
      {"Sigmoid", float_unary<f_sigmoid>, 1, 1},
      {"Softsign", float_unary<f_softsign>, 1, 1},
      {"Softplus", float_unary<f_softplus>, 1, 1},
      {"LeakyRelu", leaky_relu_kernel, 1, 1},
      {"Elu", elu_kernel, 1, 1},
      {"Selu", selu_kernel, 1, 1},
      {"HardSigmoid", hard_sigmoid_kernel, 1, 1},
      {"HardSwish", hard_swish_kernel, 1, 1},
      {"PRelu", prelu_kernel, 2, 2},
  };
}

}  // namespace dnnsplit::engine
