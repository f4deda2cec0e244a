// Conv, MatMul and Gemm. Float path: products and sums in double in a fixed order, one
// rounding to the output type at the end. Conv: for each output element the terms are added
// input channel by input channel (ascending), within a channel kernel position by kernel
// position (row-major); the bias is added last. MatMul / Gemm: k ascending; Gemm then forms
// alpha * sum + beta * C. The exact integer path (linear.h) runs the same loops on int64 codes.
#include <cmath>
#include <sstream>

#include "linear.h"

namespace dnnsplit::engine {

namespace {

// ---- Conv ------------------------------------------------------------------------------------

struct ConvShape {
  int64_t n = 0, c = 0, m = 0, group = 1;
  Window window;
  std::vector<int64_t> taps;
};

ConvShape conv_shape(const KernelContext& ctx, const Shape& x, const Shape& w) {
  ctx.require(x.size() >= 3, ctx.describe_input(0) + " must have rank >= 3 (N, C, spatial...)");
  ctx.require(w.size() == x.size(), ctx.describe_input(1) + " must have the rank of the data input");
  ConvShape s;
  s.n = x[0];
  s.c = x[1];
  s.m = w[0];
  s.group = ctx.node.attr_int_or("group", 1);
  ctx.require(s.group >= 1 && s.m % s.group == 0 && w[1] * s.group == s.c,
              "weight " + ctx.describe_input(1) + " does not match data " + ctx.describe_input(0) + " with group " +
                  std::to_string(s.group));
  const Shape kernel(w.begin() + 2, w.end());
  const auto kernel_attr = ctx.node.attr_ints_or("kernel_shape", kernel);
  ctx.require(kernel_attr == kernel, "attribute 'kernel_shape' " + shape_to_string(kernel_attr) +
                                         " disagrees with the weight's shape " + shape_to_string(w));
  s.window = make_window(ctx, Shape(x.begin() + 2, x.end()), kernel, false);
  s.taps = window_taps(s.window);
  return s;
}

Shape conv_output_shape(const ConvShape& s) {
  Shape out{s.n, s.m};
  out.insert(out.end(), s.window.out.begin(), s.window.out.end());
  return out;
}

// Accumulators (N, M, P) of the convolution, in the documented order.
template <typename T>
std::vector<T> conv_core(const std::vector<T>& x, const std::vector<T>& w, const ConvShape& s) {
  const int64_t in_size = s.window.in_size();
  const int64_t out_size = s.window.out_size();
  const int64_t k_size = s.window.kernel_size();
  const int64_t cg = s.c / s.group;
  const int64_t mg = s.m / s.group;
  std::vector<T> acc(static_cast<size_t>(s.n * s.m * out_size), T{0});
  std::vector<T> channel(static_cast<size_t>(in_size + 1), T{0});  // last element: the zero padding
  for (int64_t n = 0; n < s.n; ++n) {
    for (int64_t g = 0; g < s.group; ++g) {
      for (int64_t cl = 0; cl < cg; ++cl) {
        const T* src = x.data() + (n * s.c + g * cg + cl) * in_size;
        std::copy(src, src + in_size, channel.begin());
        for (int64_t ml = 0; ml < mg; ++ml) {
          const int64_t m = g * mg + ml;
          T* out = acc.data() + (n * s.m + m) * out_size;
          const T* wrow = w.data() + (m * cg + cl) * k_size;
          for (int64_t k = 0; k < k_size; ++k) {
            const T wv = wrow[k];
            const int64_t* tap = s.taps.data() + k * out_size;
            for (int64_t p = 0; p < out_size; ++p) out[p] += channel[static_cast<size_t>(tap[p])] * wv;
          }
        }
      }
    }
  }
  return acc;
}

std::vector<double> bias_values(const KernelContext& ctx, size_t input, int64_t count) {
  if (!ctx.has(input)) return std::vector<double>(static_cast<size_t>(count), 0.0);
  const Tensor& b = ctx.in(input);
  ctx.require(b.numel() == count && b.shape.size() == 1,
              "bias " + ctx.describe_input(input) + " must be 1-D with " + std::to_string(count) + " values");
  return b.as_doubles();
}

Tensor round_to(ElemType type, Shape shape, const std::vector<double>& v) {
  Tensor out = Tensor::zeros(type, std::move(shape));
  if (type == ElemType::kDouble) {
    out.f64 = v;
  } else {
    for (size_t i = 0; i < v.size(); ++i) out.f32[i] = static_cast<float>(v[i]);
  }
  return out;
}

std::vector<Tensor> conv_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  require_same_types(ctx, {0, 1, 2});
  const ConvShape s = conv_shape(ctx, ctx.in(0).shape, ctx.in(1).shape);
  const auto bias = bias_values(ctx, 2, s.m);
  auto acc = conv_core(ctx.in(0).as_doubles(), ctx.in(1).as_doubles(), s);
  const int64_t out_size = s.window.out_size();
  for (size_t i = 0; i < acc.size(); ++i) acc[i] += bias[(i / static_cast<size_t>(out_size)) % bias.size()];
  return {round_to(ctx.in(0).type, conv_output_shape(s), acc)};
}

// ---- MatMul ------------------------------------------------------------------------------------

struct MatMulShape {
  int64_t m = 0, k = 0, n = 0;
  Shape out;
  std::vector<int64_t> a_offsets, b_offsets;  // per output batch element, matrix offsets
};

// numpy.matmul: 1-D operands are promoted to matrices and the added dimension removed again;
// leading (batch) dimensions broadcast.
MatMulShape matmul_shape(const KernelContext& ctx, Shape a, Shape b) {
  ctx.require(!a.empty() && !b.empty(), "MatMul operands must have rank >= 1");
  const bool a_vec = a.size() == 1;
  const bool b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  MatMulShape s;
  s.m = a[a.size() - 2];
  s.k = a.back();
  s.n = b.back();
  ctx.require(b[b.size() - 2] == s.k, "inner dimensions of " + ctx.describe_input(0) + " and " +
                                          ctx.describe_input(1) + " differ");
  const Shape a_batch(a.begin(), a.end() - 2);
  const Shape b_batch(b.begin(), b.end() - 2);
  const Shape batch = broadcast_two(ctx, a_batch, b_batch, ctx.describe_input(0) + " and " + ctx.describe_input(1));
  const int64_t count = shape_numel(batch);
  const auto ma = broadcast_index(batch, a_batch);
  const auto mb = broadcast_index(batch, b_batch);
  for (int64_t i = 0; i < count; ++i) {
    s.a_offsets.push_back(map_index(ma, i) * s.m * s.k);
    s.b_offsets.push_back(map_index(mb, i) * s.k * s.n);
  }
  s.out = batch;
  if (!a_vec) s.out.push_back(s.m);
  if (!b_vec) s.out.push_back(s.n);
  return s;
}

// out (m x n) += a (m x k) * b (k x n), each element summed over k ascending.
template <typename T>
void matmul_block(const T* a, const T* b, T* out, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = out + i * n;
    for (int64_t j = 0; j < k; ++j) {
      const T av = a[i * k + j];
      const T* brow = b + j * n;
      for (int64_t c = 0; c < n; ++c) row[c] += av * brow[c];
    }
  }
}

template <typename T>
std::vector<T> matmul_core(const std::vector<T>& a, const std::vector<T>& b, const MatMulShape& s) {
  std::vector<T> acc(s.a_offsets.size() * static_cast<size_t>(s.m * s.n), T{0});
  for (size_t i = 0; i < s.a_offsets.size(); ++i) {
    matmul_block(a.data() + s.a_offsets[i], b.data() + s.b_offsets[i], acc.data() + i * static_cast<size_t>(s.m * s.n),
                 s.m, s.k, s.n);
  }
  return acc;
}

std::vector<Tensor> matmul_kernel(const KernelContext& ctx) {
  require_same_types(ctx, {0, 1});
  const Tensor& a = ctx.in(0);
  const MatMulShape s = matmul_shape(ctx, a.shape, ctx.in(1).shape);
  if (a.is_float()) return {round_to(a.type, s.out, matmul_core(a.as_doubles(), ctx.in(1).as_doubles(), s))};
  // Integer MatMul wraps like the element type; products in uint64 avoid signed overflow.
  std::vector<uint64_t> ua(a.i64.begin(), a.i64.end());
  std::vector<uint64_t> ub(ctx.in(1).i64.begin(), ctx.in(1).i64.end());
  const auto acc = matmul_core(ua, ub, s);
  Tensor out = Tensor::zeros(a.type, s.out);
  for (size_t i = 0; i < acc.size(); ++i) out.i64[i] = wrap_int(static_cast<int64_t>(acc[i]), a.type);
  return {std::move(out)};
}

// ---- Gemm --------------------------------------------------------------------------------------

struct GemmShape {
  int64_t m = 0, k = 0, n = 0;
  bool trans_a = false, trans_b = false;
};

GemmShape gemm_shape(const KernelContext& ctx, const Shape& a, const Shape& b) {
  ctx.require(a.size() == 2 && b.size() == 2, "Gemm needs 2-D inputs, got " + ctx.describe_input(0) + " and " +
                                                  ctx.describe_input(1));
  GemmShape s;
  s.trans_a = ctx.node.attr_int_or("transA", 0) != 0;
  s.trans_b = ctx.node.attr_int_or("transB", 0) != 0;
  s.m = s.trans_a ? a[1] : a[0];
  s.k = s.trans_a ? a[0] : a[1];
  s.n = s.trans_b ? b[0] : b[1];
  const int64_t kb = s.trans_b ? b[1] : b[0];
  ctx.require(kb == s.k, "inner dimensions of " + ctx.describe_input(0) + " and " + ctx.describe_input(1) +
                             " differ (transA=" + std::to_string(s.trans_a) + ", transB=" + std::to_string(s.trans_b) +
                             ")");
  return s;
}

template <typename T>
std::vector<T> transpose_2d(const std::vector<T>& v, int64_t rows, int64_t cols) {
  std::vector<T> t(v.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[static_cast<size_t>(c * rows + r)] = v[static_cast<size_t>(r * cols + c)];
  }
  return t;
}

template <typename T>
std::vector<T> gemm_core(const std::vector<T>& a, const std::vector<T>& b, const GemmShape& s) {
  const auto am = s.trans_a ? transpose_2d(a, s.k, s.m) : a;
  const auto bm = s.trans_b ? transpose_2d(b, s.n, s.k) : b;
  std::vector<T> acc(static_cast<size_t>(s.m * s.n), T{0});
  matmul_block(am.data(), bm.data(), acc.data(), s.m, s.k, s.n);
  return acc;
}

// beta * C broadcast to (M, N), or zeros without C.
std::vector<double> gemm_c_term(const KernelContext& ctx, const GemmShape& s) {
  std::vector<double> c(static_cast<size_t>(s.m * s.n), 0.0);
  if (!ctx.has(2)) return c;
  const Shape out{s.m, s.n};
  const Tensor& ct = ctx.in(2);
  ctx.require(broadcast_two(ctx, ct.shape, out, "C " + ctx.describe_input(2)) == out,
              "C " + ctx.describe_input(2) + " does not broadcast to " + shape_to_string(out));
  const double beta = ctx.node.attr_float_or("beta", 1.0F);
  const auto map = broadcast_index(out, ct.shape);
  for (size_t i = 0; i < c.size(); ++i) c[i] = beta * ct.at(map_index(map, static_cast<int64_t>(i)));
  return c;
}

std::vector<Tensor> gemm_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  require_same_types(ctx, {0, 1, 2});
  ctx.require(ctx.opset >= 11 || ctx.has(2), "input C is required before opset 11");
  const GemmShape s = gemm_shape(ctx, ctx.in(0).shape, ctx.in(1).shape);
  const double alpha = ctx.node.attr_float_or("alpha", 1.0F);
  auto acc = gemm_core(ctx.in(0).as_doubles(), ctx.in(1).as_doubles(), s);
  const auto c = gemm_c_term(ctx, s);
  for (size_t i = 0; i < acc.size(); ++i) acc[i] = alpha * acc[i] + c[i];
  return {round_to(ctx.in(0).type, {s.m, s.n}, acc)};
}

// ---- exact integer path ----------------------------------------------------------------------

// Integer codes of the data input; fails when a value is not on the announced grid.
std::vector<int64_t> activation_codes(const KernelContext& ctx, const ExactLinearPlan& plan) {
  const Tensor& x = ctx.in(0);
  ctx.require(x.type == ElemType::kFloat, ctx.describe_input(0) + " must be float32 for the integer path");
  std::vector<int64_t> codes(x.f32.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    const double q = std::nearbyint(static_cast<double>(x.f32[i]) / plan.act_scale);
    if (!(q >= static_cast<double>(plan.act_min) && q <= static_cast<double>(plan.act_max)) ||
        static_cast<float>(q * plan.act_scale) != x.f32[i]) {
      std::ostringstream msg;
      msg << ctx.describe_input(0) << " value " << x.f32[i] << " at flat index " << i << " is not on its "
          << plan.act_type << " grid with scale " << plan.act_scale;
      ctx.fail(msg.str());
    }
    codes[i] = static_cast<int64_t>(q);
  }
  return codes;
}

double channel_scale(const ExactLinearPlan& plan, int64_t channel) {
  const double ws = plan.weight_scale.size() == 1 ? plan.weight_scale[0]
                                                  : plan.weight_scale[static_cast<size_t>(channel)];
  return plan.act_scale * ws;
}

}  // namespace

int64_t weight_output_axis(const ir::Node& node, size_t weight_rank) {
  if (node.op_type == "Conv") return 0;
  if (node.op_type == "MatMul") return weight_rank >= 2 ? static_cast<int64_t>(weight_rank) - 1 : -1;
  if (node.op_type == "Gemm") return node.attr_int_or("transB", 0) != 0 ? 0 : 1;
  return -1;
}

std::vector<Tensor> run_linear_exact(const KernelContext& ctx, const ExactLinearPlan& plan) {
  const auto codes = activation_codes(ctx, plan);
  const Shape& ws = ctx.in(1).shape;
  const auto& op = ctx.node.op_type;
  if (op == "Conv") {
    const ConvShape s = conv_shape(ctx, ctx.in(0).shape, ws);
    const auto bias = bias_values(ctx, 2, s.m);
    const auto acc = conv_core(codes, plan.weight_codes, s);
    const int64_t out_size = s.window.out_size();
    std::vector<double> y(acc.size());
    for (size_t i = 0; i < acc.size(); ++i) {
      const auto m = static_cast<int64_t>(i / static_cast<size_t>(out_size)) % s.m;
      y[i] = static_cast<double>(acc[i]) * channel_scale(plan, m) + bias[static_cast<size_t>(m)];
    }
    return {round_to(ElemType::kFloat, conv_output_shape(s), y)};
  }
  if (op == "MatMul") {
    const MatMulShape s = matmul_shape(ctx, ctx.in(0).shape, ws);
    const auto acc = matmul_core(codes, plan.weight_codes, s);
    std::vector<double> y(acc.size());
    for (size_t i = 0; i < acc.size(); ++i) {
      y[i] = static_cast<double>(acc[i]) * channel_scale(plan, static_cast<int64_t>(i) % s.n);
    }
    return {round_to(ElemType::kFloat, s.out, y)};
  }
  ctx.require(op == "Gemm", "has no exact integer path");
  const GemmShape s = gemm_shape(ctx, ctx.in(0).shape, ws);
  const double alpha = ctx.node.attr_float_or("alpha", 1.0F);
  const auto acc = gemm_core(codes, plan.weight_codes, s);
  const auto c = gemm_c_term(ctx, s);
  std::vector<double> y(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    y[i] = alpha * (static_cast<double>(acc[i]) * channel_scale(plan, static_cast<int64_t>(i) % s.n)) + c[i];
  }
  return {round_to(ElemType::kFloat, {s.m, s.n}, y)};
}

std::vector<OpSpec> linear_ops() {
  return {
      {"Conv", conv_kernel, 2, 3},
      {"MatMul", matmul_kernel, 2, 2},
      {"Gemm", gemm_kernel, 2, 3},
  };
}

}  // namespace dnnsplit::engine
