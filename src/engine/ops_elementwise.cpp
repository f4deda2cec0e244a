// Elementwise ops with numpy broadcasting: arithmetic, comparisons, logic, Where, the variadic
// Max/Min/Sum/Mean and Clip. Float values are combined in double and rounded once to the
// tensor's type, which for + - * / equals the correctly rounded float32 operation.
#include <cmath>
#include <limits>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

// Shape of input b as it broadcasts: before opset 7, arithmetic ops with broadcast=1 and an
// 'axis' attribute align b's dimensions with a's starting at axis.
Shape aligned_shape(const KernelContext& ctx, size_t a, size_t b) {
  Shape shape = ctx.in(b).shape;
  if (ctx.opset < 7 && ctx.node.attr_int_or("broadcast", 0) != 0 && ctx.node.has_attr("axis")) {
    const auto rank = static_cast<int64_t>(ctx.in(a).shape.size());
    const int64_t axis = normalize_axis(ctx, ctx.node.attr_int("axis"), rank, "axis");
    const auto trailing = rank - axis - static_cast<int64_t>(shape.size());
    ctx.require(trailing >= 0, ctx.describe_input(b) + " does not fit " + ctx.describe_input(a) + " at axis " +
                                   std::to_string(axis));
    shape.insert(shape.end(), static_cast<size_t>(trailing), 1);
  }
  return shape;
}

Shape pair_shape(const KernelContext& ctx, size_t a, size_t b) {
  return broadcast_two(ctx, ctx.in(a).shape, aligned_shape(ctx, a, b),
                       ctx.describe_input(a) + " and " + ctx.describe_input(b));
}

// Calls fn(i, index_in_a, index_in_b) for every element of the broadcast of inputs a and b.
template <typename Fn>
Shape for_each_pair(const KernelContext& ctx, size_t a, size_t b, Fn fn) {
  const Shape out = pair_shape(ctx, a, b);
  const auto ma = broadcast_index(out, ctx.in(a).shape);
  const auto mb = broadcast_index(out, aligned_shape(ctx, a, b));
  const int64_t n = shape_numel(out);
  for (int64_t i = 0; i < n; ++i) fn(static_cast<size_t>(i), map_index(ma, i), map_index(mb, i));
  return out;
}

uint64_t as_u(int64_t v) { return static_cast<uint64_t>(v); }

enum class Arith { kAdd, kSub, kMul, kDiv };

// Integer arithmetic in uint64 (wrapping, no signed-overflow UB), then wrapped to the type.
int64_t int_arith(const KernelContext& ctx, Arith op, int64_t a, int64_t b, ElemType type) {
  switch (op) {
    case Arith::kAdd: return wrap_int(static_cast<int64_t>(as_u(a) + as_u(b)), type);
    case Arith::kSub: return wrap_int(static_cast<int64_t>(as_u(a) - as_u(b)), type);
    case Arith::kMul: return wrap_int(static_cast<int64_t>(as_u(a) * as_u(b)), type);
    case Arith::kDiv:
      ctx.require(b != 0, "integer division by zero");
      if (is_unsigned(type)) return wrap_int(static_cast<int64_t>(as_u(a) / as_u(b)), type);
      if (b == -1) return wrap_int(static_cast<int64_t>(0 - as_u(a)), type);  // avoids INT64_MIN / -1
      return wrap_int(a / b, type);  // truncation toward zero, as C++ runtimes do
  }
  return 0;
}

double float_arith(Arith op, double a, double b) {
  switch (op) {
    case Arith::kAdd: return a + b;
    case Arith::kSub: return a - b;
    case Arith::kMul: return a * b;
    case Arith::kDiv: return a / b;
  }
  return 0.0;
}

template <Arith kOp>
std::vector<Tensor> arith_kernel(const KernelContext& ctx) {
  require_same_types(ctx, {0, 1});
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  Tensor out = Tensor::zeros(a.type, pair_shape(ctx, 0, 1));
  visit_storage(a.type, [&](auto tag) {
    using T = decltype(tag);
    const auto& va = values<T>(a);
    const auto& vb = values<T>(b);
    auto& vo = values<T>(out);
    for_each_pair(ctx, 0, 1, [&](size_t i, int64_t ia, int64_t ib) {
      const T x = va[static_cast<size_t>(ia)];
      const T y = vb[static_cast<size_t>(ib)];
      if constexpr (std::is_same_v<T, int64_t>) {
        vo[i] = int_arith(ctx, kOp, x, y, a.type);
      } else {
        vo[i] = static_cast<T>(float_arith(kOp, x, y));
      }
    });
  });
  return {std::move(out)};
}

// Integer power by squaring (wrapping); negative exponents give the integer part of 1/x^e.
int64_t int_pow(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
    return 0;
  }
  uint64_t result = 1;
  uint64_t b = as_u(base);
  for (int64_t e = exponent; e > 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return static_cast<int64_t>(result);
}

// Pow: the output has the base's type; the exponent may be any numeric type.
std::vector<Tensor> pow_kernel(const KernelContext& ctx) {
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  Tensor out = Tensor::zeros(a.type, pair_shape(ctx, 0, 1));
  for_each_pair(ctx, 0, 1, [&](size_t i, int64_t ia, int64_t ib) {
    if (a.is_float()) {
      const double r = std::pow(a.at(ia), b.at(ib));
      if (a.type == ElemType::kFloat) out.f32[i] = static_cast<float>(r);
      else out.f64[i] = r;
    } else if (!b.is_float()) {
      out.i64[i] = wrap_int(int_pow(a.i64[static_cast<size_t>(ia)], b.i64[static_cast<size_t>(ib)]), a.type);
    } else {
      out.i64[i] = double_to_int(std::pow(a.at(ia), b.at(ib)), a.type);
    }
  });
  return {std::move(out)};
}

// Mod: fmod=0 is the integer modulo with the sign of the divisor (Python's %), fmod=1 the C
// remainder with the sign of the dividend; float inputs require fmod=1.
std::vector<Tensor> mod_kernel(const KernelContext& ctx) {
  require_same_types(ctx, {0, 1});
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  const bool fmod = ctx.node.attr_int_or("fmod", 0) != 0;
  ctx.require(fmod || !a.is_float(), "attribute 'fmod' must be 1 for float inputs");
  Tensor out = Tensor::zeros(a.type, pair_shape(ctx, 0, 1));
  for_each_pair(ctx, 0, 1, [&](size_t i, int64_t ia, int64_t ib) {
    if (a.is_float()) {
      const double r = std::fmod(a.at(ia), b.at(ib));
      if (a.type == ElemType::kFloat) out.f32[i] = static_cast<float>(r);
      else out.f64[i] = r;
      return;
    }
    const int64_t x = a.i64[static_cast<size_t>(ia)];
    const int64_t y = b.i64[static_cast<size_t>(ib)];
    ctx.require(y != 0, "integer modulo by zero");
    if (is_unsigned(a.type)) {
      out.i64[i] = wrap_int(static_cast<int64_t>(as_u(x) % as_u(y)), a.type);
      return;
    }
    int64_t r = y == -1 ? 0 : x % y;
    if (!fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
    out.i64[i] = wrap_int(r, a.type);
  });
  return {std::move(out)};
}

// Three-way comparison of two elements of equal type: -1, 0, +1; NaN compares unordered (2).
int compare_values(const Tensor& a, int64_t ia, const Tensor& b, int64_t ib) {
  if (a.is_float()) {
    const double x = a.at(ia);
    const double y = b.at(ib);
    if (std::isnan(x) || std::isnan(y)) return 2;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  const int64_t x = a.i64[static_cast<size_t>(ia)];
  const int64_t y = b.i64[static_cast<size_t>(ib)];
  if (is_unsigned(a.type)) return as_u(x) < as_u(y) ? -1 : (as_u(x) > as_u(y) ? 1 : 0);
  return x < y ? -1 : (x > y ? 1 : 0);
}

enum class Cmp { kEqual, kLess, kGreater, kLessOrEqual, kGreaterOrEqual };

template <Cmp kOp>
std::vector<Tensor> compare_kernel(const KernelContext& ctx) {
  require_same_types(ctx, {0, 1});
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  Tensor out = Tensor::zeros(ElemType::kBool, pair_shape(ctx, 0, 1));
  for_each_pair(ctx, 0, 1, [&](size_t i, int64_t ia, int64_t ib) {
    const int c = compare_values(a, ia, b, ib);
    bool r = false;
    switch (kOp) {
      case Cmp::kEqual: r = c == 0; break;
      case Cmp::kLess: r = c == -1; break;
      case Cmp::kGreater: r = c == 1; break;
      case Cmp::kLessOrEqual: r = c == -1 || c == 0; break;
      case Cmp::kGreaterOrEqual: r = c == 1 || c == 0; break;
    }
    out.i64[i] = r ? 1 : 0;
  });
  return {std::move(out)};
}

enum class Logic { kAnd, kOr, kXor };

template <Logic kOp>
std::vector<Tensor> logic_kernel(const KernelContext& ctx) {
  for (size_t i = 0; i < 2; ++i) {
    ctx.require(ctx.in(i).type == ElemType::kBool, ctx.describe_input(i) + " must be bool");
  }
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  Tensor out = Tensor::zeros(ElemType::kBool, pair_shape(ctx, 0, 1));
  for_each_pair(ctx, 0, 1, [&](size_t i, int64_t ia, int64_t ib) {
    const bool x = a.i64[static_cast<size_t>(ia)] != 0;
    const bool y = b.i64[static_cast<size_t>(ib)] != 0;
    const bool r = kOp == Logic::kAnd ? (x && y) : (kOp == Logic::kOr ? (x || y) : (x != y));
    out.i64[i] = r ? 1 : 0;
  });
  return {std::move(out)};
}

std::vector<Tensor> not_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  ctx.require(x.type == ElemType::kBool, ctx.describe_input(0) + " must be bool");
  Tensor out = x;
  for (auto& v : out.i64) v = v != 0 ? 0 : 1;
  return {std::move(out)};
}

std::vector<Tensor> where_kernel(const KernelContext& ctx) {
  ctx.require(ctx.in(0).type == ElemType::kBool, ctx.describe_input(0) + " must be bool");
  require_same_types(ctx, {1, 2});
  const Shape shape = broadcast_shapes(ctx, {0, 1, 2});
  std::vector<int64_t> index(static_cast<size_t>(shape_numel(shape)));
  const auto mc = broadcast_index(shape, ctx.in(0).shape);
  const auto mx = broadcast_index(shape, ctx.in(1).shape);
  const auto my = broadcast_index(shape, ctx.in(2).shape);
  // Gather from X and Y concatenated: Y's elements follow X's.
  const int64_t y_base = ctx.in(1).numel();
  Tensor both = ctx.in(1);
  visit_storage(both.type, [&](auto tag) {
    using T = decltype(tag);
    const auto& ys = values<T>(ctx.in(2));
    values<T>(both).insert(values<T>(both).end(), ys.begin(), ys.end());
  });
  for (size_t i = 0; i < index.size(); ++i) {
    const auto k = static_cast<int64_t>(i);
    index[i] = ctx.in(0).i64[static_cast<size_t>(map_index(mc, k))] != 0 ? map_index(mx, k)
                                                                          : y_base + map_index(my, k);
  }
  return {gather_flat(both, shape, index)};
}

enum class Fold { kMax, kMin, kSum, kMean };

// Variadic ops fold the inputs left to right, rounding to the element type after every step
// like numpy's pairwise ufunc calls; Mean divides the folded sum by the input count.
template <Fold kOp>
std::vector<Tensor> variadic_kernel(const KernelContext& ctx) {
  std::vector<size_t> all;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    ctx.in(i);
    all.push_back(i);
  }
  require_same_types(ctx, all);
  const ElemType type = ctx.in(0).type;
  ctx.require(kOp == Fold::kMax || kOp == Fold::kMin || elem_type_is_float(type) || kOp == Fold::kSum,
              "Mean needs float inputs");
  const Shape shape = broadcast_shapes(ctx, all);
  Tensor acc = broadcast_to(ctx.in(0), shape);
  for (size_t k = 1; k < all.size(); ++k) {
    const Tensor& x = ctx.in(k);
    const auto map = broadcast_index(shape, x.shape);
    visit_storage(type, [&](auto tag) {
      using T = decltype(tag);
      auto& dst = values<T>(acc);
      const auto& src = values<T>(x);
      for (size_t i = 0; i < dst.size(); ++i) {
        const T v = src[static_cast<size_t>(map_index(map, static_cast<int64_t>(i)))];
        T& d = dst[i];
        if constexpr (std::is_same_v<T, int64_t>) {
          const int c = compare_values(x, map_index(map, static_cast<int64_t>(i)), acc, static_cast<int64_t>(i));
          if (kOp == Fold::kMax && c == 1) d = v;
          if (kOp == Fold::kMin && c == -1) d = v;
          if (kOp == Fold::kSum) d = wrap_int(static_cast<int64_t>(as_u(d) + as_u(v)), type);
        } else if (kOp == Fold::kMax || kOp == Fold::kMin) {
          if (std::isnan(v) || std::isnan(d)) {
            d = std::numeric_limits<T>::quiet_NaN();
          } else if (kOp == Fold::kMax ? v > d : v < d) {
            d = v;
          }
        } else {
          d = static_cast<T>(static_cast<double>(d) + static_cast<double>(v));
        }
      }
    });
  }
  if constexpr (kOp == Fold::kMean) {
    const auto count = static_cast<double>(all.size());
    if (type == ElemType::kFloat) {
      for (auto& v : acc.f32) v = static_cast<float>(static_cast<double>(v) / count);
    } else {
      for (auto& v : acc.f64) v /= count;
    }
  }
  return {std::move(acc)};
}

// Clip: min/max are attributes before opset 11 and optional scalar inputs from opset 11 on.
std::vector<Tensor> clip_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  if (ctx.opset < 11) {
    require_float(ctx, 0);
    const double lo = ctx.node.attr_float_or("min", std::numeric_limits<float>::lowest());
    const double hi = ctx.node.attr_float_or("max", std::numeric_limits<float>::max());
    return {map_float(ctx, 0, [&](double v) { return std::isnan(v) ? v : std::min(std::max(v, lo), hi); })};
  }
  require_same_types(ctx, {0, 1, 2});
  if (x.is_float()) {
    const double lo = ctx.has(1) ? scalar_input(ctx, 1) : -std::numeric_limits<double>::infinity();
    const double hi = ctx.has(2) ? scalar_input(ctx, 2) : std::numeric_limits<double>::infinity();
    return {map_float(ctx, 0, [&](double v) { return std::isnan(v) ? v : std::min(std::max(v, lo), hi); })};
  }
  auto bound = [&](size_t i, int64_t fallback) {
    if (!ctx.has(i)) return fallback;
    ctx.require(ctx.in(i).numel() == 1, ctx.describe_input(i) + " must hold exactly one value");
    return ctx.in(i).i64[0];
  };
  Tensor out = x;
  if (is_unsigned(x.type)) {
    const uint64_t lo = as_u(bound(1, 0));
    const uint64_t hi = as_u(bound(2, -1));
    for (auto& v : out.i64) v = static_cast<int64_t>(std::min(std::max(as_u(v), lo), hi));
  } else {
    const int64_t lo = bound(1, std::numeric_limits<int64_t>::min());
    const int64_t hi = bound(2, std::numeric_limits<int64_t>::max());
    for (auto& v : out.i64) v = std::min(std::max(v, lo), hi);
  }
  return {std::move(out)};
}

}  // namespace

std::vector<OpSpec> elementwise_ops() {
  return {
      {"Add", arith_kernel<Arith::kAdd>, 2, 2},
      {"Sub", arith_kernel<Arith::kSub>, 2, 2},
      {"Mul", arith_kernel<Arith::kMul>, 2, 2},
      {"Div", arith_kernel<Arith::kDiv>, 2, 2},
      {"Pow", pow_kernel, 2, 2},
      {"Mod", mod_kernel, 2, 2},
      {"Equal", compare_kernel<Cmp::kEqual>, 2, 2},
      {"Less", compare_kernel<Cmp::kLess>, 2, 2},
      {"Greater", compare_kernel<Cmp::kGreater>, 2, 2},
      {"LessOrEqual", compare_kernel<Cmp::kLessOrEqual>, 2, 2},
      {"GreaterOrEqual", compare_kernel<Cmp::kGreaterOrEqual>, 2, 2},
      {"And", logic_kernel<Logic::kAnd>, 2, 2},
      {"Or", logic_kernel<Logic::kOr>, 2, 2},
      {"Xor", logic_kernel<Logic::kXor>, 2, 2},
      {"Not", not_kernel, 1, 1},
      {"Where", where_kernel, 3, 3},
      {"Max", variadic_kernel<Fold::kMax>, 1, -1},
      {"Min", variadic_kernel<Fold::kMin>, 1, -1},
      {"Sum", variadic_kernel<Fold::kSum>, 1, -1},
      {"Mean", variadic_kernel<Fold::kMean>, 1, -1},
      {"Clip", clip_kernel, 1, 3},
  };
}

}  // namespace dnnsplit::engine
