// Reductions (ReduceX), ArgMax/ArgMin, TopK, Softmax and LogSoftmax.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

// Integer sums and products wrap (in uint64, no signed-overflow UB) like the element type.
uint64_t as_u(int64_t v) { return static_cast<uint64_t>(v); }

enum class Reduce { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };

// The reduced axes; an empty result means "no reduction" (noop_with_empty_axes).
struct ReducePlan {
  std::vector<bool> reduced;
  Shape out_keep;  // output shape with reduced axes kept as 1
  Shape out;       // the real output shape (keepdims applied)
  bool noop = false;
};

ReducePlan reduce_plan(const KernelContext& ctx, const Shape& shape, bool axes_as_input) {
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> axes;
  if (axes_as_input) {
    if (ctx.has(1)) axes = int_list(ctx, 1);
  } else {
    axes = ctx.node.attr_ints_or("axes", {});
  }
  ReducePlan plan;
  const bool keep = ctx.node.attr_int_or("keepdims", 1) != 0;
  if (axes.empty() && axes_as_input && ctx.node.attr_int_or("noop_with_empty_axes", 0) != 0) {
    plan.noop = true;
    return plan;
  }
  plan.reduced.assign(shape.size(), axes.empty());
  for (int64_t a : axes) plan.reduced[static_cast<size_t>(normalize_axis(ctx, a, rank, "axis"))] = true;
  for (size_t d = 0; d < shape.size(); ++d) {
    plan.out_keep.push_back(plan.reduced[d] ? 1 : shape[d]);
    if (!plan.reduced[d] || keep) plan.out.push_back(plan.reduced[d] ? 1 : shape[d]);
  }
  return plan;
}

// For every input element, the flat index of the output element it reduces into.
std::vector<int64_t> reduce_targets(const Shape& shape, const ReducePlan& plan) {
  const auto out_strides = strides_of(plan.out_keep);
  std::vector<int64_t> target(static_cast<size_t>(shape_numel(shape)));
  for_each_coord(shape, [&](int64_t i, const std::vector<int64_t>& c) {
    int64_t at = 0;
    for (size_t d = 0; d < c.size(); ++d) at += plan.reduced[d] ? 0 : c[d] * out_strides[d];
    target[static_cast<size_t>(i)] = at;
  });
  return target;
}

template <Reduce kOp>
std::vector<Tensor> reduce_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  // ReduceSum takes its axes as an input from opset 13, the other reductions from opset 18.
  const bool axes_input = ctx.opset >= 18 || (kOp == Reduce::kSum && ctx.opset >= 13);
  ctx.require(axes_input || !ctx.has(1), "takes its axes as an attribute before opset 18, not as an input");
  const ReducePlan plan = reduce_plan(ctx, x.shape, axes_input);
  if (plan.noop) return {x};
  const auto target = reduce_targets(x.shape, plan);
  const auto out_n = static_cast<size_t>(shape_numel(plan.out));
  const double count = out_n == 0 ? 0.0 : static_cast<double>(x.numel()) / static_cast<double>(out_n);
  Tensor out = Tensor::zeros(x.type, plan.out);
  const bool exact_int = !x.is_float() && (kOp == Reduce::kSum || kOp == Reduce::kProd || kOp == Reduce::kMax ||
                                           kOp == Reduce::kMin || kOp == Reduce::kSumSquare || kOp == Reduce::kL1 ||
                                           kOp == Reduce::kMean);
  if (exact_int) {
    std::vector<int64_t> acc(out_n, kOp == Reduce::kProd ? 1 : 0);
    std::vector<bool> first(out_n, true);
    for (size_t i = 0; i < target.size(); ++i) {
      const int64_t v = x.i64[i];
      auto& a = acc[static_cast<size_t>(target[i])];
      const bool f = first[static_cast<size_t>(target[i])];
      first[static_cast<size_t>(target[i])] = false;
      switch (kOp) {
        case Reduce::kMax: a = f ? v : std::max(a, v); break;
        case Reduce::kMin: a = f ? v : std::min(a, v); break;
        case Reduce::kProd: a = static_cast<int64_t>(as_u(a) * as_u(v)); break;
        case Reduce::kSumSquare: a = static_cast<int64_t>(as_u(a) + as_u(v) * as_u(v)); break;
        case Reduce::kL1: a = static_cast<int64_t>(as_u(a) + (v < 0 ? 0 - as_u(v) : as_u(v))); break;
        default: a = static_cast<int64_t>(as_u(a) + as_u(v)); break;
      }
    }
    for (size_t i = 0; i < out_n; ++i) {
      out.i64[i] = wrap_int(kOp == Reduce::kMean ? acc[i] / static_cast<int64_t>(count) : acc[i], x.type);
    }
    return {std::move(out)};
  }
  // Float path: accumulate in double. LogSumExp subtracts the maximum first for stability.
  const auto xs = x.as_doubles();
  std::vector<double> shift(out_n, 0.0);
  if (kOp == Reduce::kLogSumExp) {
    shift.assign(out_n, -std::numeric_limits<double>::infinity());
    for (size_t i = 0; i < xs.size(); ++i) {
      auto& s = shift[static_cast<size_t>(target[i])];
      s = std::max(s, xs[i]);
    }
    for (auto& s : shift) s = std::isfinite(s) ? s : 0.0;
  }
  double init = 0.0;
  if (kOp == Reduce::kProd) init = 1.0;
  if (kOp == Reduce::kMax) init = -std::numeric_limits<double>::infinity();
  if (kOp == Reduce::kMin) init = std::numeric_limits<double>::infinity();
  std::vector<double> acc(out_n, init);
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto t = static_cast<size_t>(target[i]);
    const double v = xs[i];
    switch (kOp) {
      case Reduce::kMax: acc[t] = (std::isnan(v) || v > acc[t]) ? v : acc[t]; break;
      case Reduce::kMin: acc[t] = (std::isnan(v) || v < acc[t]) ? v : acc[t]; break;
      case Reduce::kProd: acc[t] *= v; break;
      case Reduce::kSumSquare:
      case Reduce::kL2: acc[t] += v * v; break;
      case Reduce::kL1: acc[t] += std::fabs(v); break;
      case Reduce::kLogSumExp: acc[t] += std::exp(v - shift[t]); break;
      default: acc[t] += v; break;
    }
  }
  for (size_t i = 0; i < out_n; ++i) {
    double r = acc[i];
    if (kOp == Reduce::kMean) r /= count;
    if (kOp == Reduce::kL2) r = std::sqrt(r);
    if (kOp == Reduce::kLogSum) r = std::log(r);
    if (kOp == Reduce::kLogSumExp) r = std::log(r) + shift[i];
    if (x.type == ElemType::kFloat) out.f32[i] = static_cast<float>(r);
    else if (x.type == ElemType::kDouble) out.f64[i] = r;
    else out.i64[i] = double_to_int(r, x.type);
  }
  return {std::move(out)};
}

// Geometry of "along one axis" ops: outer x extent x inner blocks.
struct AxisBlocks {
  int64_t axis = 0, outer = 1, extent = 1, inner = 1;
};

AxisBlocks axis_blocks(const KernelContext& ctx, const Shape& shape, int64_t axis_attr) {
  AxisBlocks b;
  b.axis = normalize_axis(ctx, axis_attr, static_cast<int64_t>(shape.size()), "axis");
  b.outer = shape_numel(Shape(shape.begin(), shape.begin() + b.axis));
  b.extent = shape[static_cast<size_t>(b.axis)];
  b.inner = shape_numel(Shape(shape.begin() + b.axis + 1, shape.end()));
  return b;
}

template <bool kMax>
std::vector<Tensor> arg_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const AxisBlocks b = axis_blocks(ctx, x.shape, ctx.node.attr_int_or("axis", 0));
  ctx.require(b.extent > 0, "cannot take the arg of an empty axis");
  const bool last = ctx.node.attr_int_or("select_last_index", 0) != 0;
  Shape out_shape = x.shape;
  if (ctx.node.attr_int_or("keepdims", 1) != 0) {
    out_shape[static_cast<size_t>(b.axis)] = 1;
  } else {
    out_shape.erase(out_shape.begin() + b.axis);
  }
  Tensor out = Tensor::zeros(ElemType::kInt64, out_shape);
  for (int64_t o = 0; o < b.outer; ++o) {
    for (int64_t in = 0; in < b.inner; ++in) {
      int64_t best = 0;
      for (int64_t k = 1; k < b.extent; ++k) {
        const double v = x.at((o * b.extent + k) * b.inner + in);
        const double cur = x.at((o * b.extent + best) * b.inner + in);
        const bool better = kMax ? (v > cur || (last && v == cur)) : (v < cur || (last && v == cur));
        if (better) best = k;
      }
      out.i64[static_cast<size_t>(o * b.inner + in)] = best;
    }
  }
  return {std::move(out)};
}

// TopK: k as attribute (before opset 10) or input; values sorted, equal values by index.
std::vector<Tensor> topk_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const AxisBlocks b = axis_blocks(ctx, x.shape, ctx.node.attr_int_or("axis", -1));
  int64_t k = 0;
  if (ctx.opset >= 10) {
    const auto ks = int_list(ctx, 1);
    ctx.require(ks.size() == 1, "input K must hold exactly one value");
    k = ks[0];
  } else {
    k = ctx.node.attr_int("k");
  }
  ctx.require(k >= 0 && k <= b.extent, "k = " + std::to_string(k) + " is out of range for extent " +
                                           std::to_string(b.extent) + " of " + ctx.describe_input(0));
  const bool largest = ctx.node.attr_int_or("largest", 1) != 0;
  Shape out_shape = x.shape;
  out_shape[static_cast<size_t>(b.axis)] = k;
  std::vector<int64_t> source;  // flat input index of every output element
  Tensor indices = Tensor::zeros(ElemType::kInt64, out_shape);
  source.resize(static_cast<size_t>(shape_numel(out_shape)));
  std::vector<int64_t> order(static_cast<size_t>(b.extent));
  for (int64_t o = 0; o < b.outer; ++o) {
    for (int64_t in = 0; in < b.inner; ++in) {
      auto at = [&](int64_t i) { return x.at((o * b.extent + i) * b.inner + in); };
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t p, int64_t q) { return largest ? at(p) > at(q) : at(p) < at(q); });
      for (int64_t j = 0; j < k; ++j) {
        const auto dst = static_cast<size_t>((o * k + j) * b.inner + in);
        indices.i64[dst] = order[static_cast<size_t>(j)];
        source[dst] = (o * b.extent + order[static_cast<size_t>(j)]) * b.inner + in;
      }
    }
  }
  return {gather_flat(x, out_shape, source), std::move(indices)};
}

// Softmax / LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1) and
// normalised over the whole trailing block; from 13 on along the single axis (default -1).
template <bool kLog>
std::vector<Tensor> softmax_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  const bool legacy = ctx.opset < 13;
  AxisBlocks b = axis_blocks(ctx, x.shape, ctx.node.attr_int_or("axis", legacy ? 1 : -1));
  if (legacy) {
    b.extent *= b.inner;
    b.inner = 1;
  }
  const auto xs = x.as_doubles();
  std::vector<double> y(xs.size());
  for (int64_t o = 0; o < b.outer; ++o) {
    for (int64_t in = 0; in < b.inner; ++in) {
      auto idx = [&](int64_t i) { return static_cast<size_t>((o * b.extent + i) * b.inner + in); };
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < b.extent; ++i) max = std::max(max, xs[idx(i)]);
      double sum = 0.0;
      for (int64_t i = 0; i < b.extent; ++i) sum += std::exp(xs[idx(i)] - max);
      for (int64_t i = 0; i < b.extent; ++i) {
        y[idx(i)] = kLog ? (xs[idx(i)] - max) - std::log(sum) : std::exp(xs[idx(i)] - max) / sum;
      }
    }
  }
  Tensor out = Tensor::zeros(x.type, x.shape);
  for (size_t i = 0; i < y.size(); ++i) {
    if (x.type == ElemType::kFloat) out.f32[i] = static_cast<float>(y[i]);
    else out.f64[i] = y[i];
  }
  return {std::move(out)};
}

}  // namespace

std::vector<OpSpec> reduce_ops() {
  return {
      {"ReduceSum", reduce_kernel<Reduce::kSum>, 1, 2},
      {"ReduceMean", reduce_kernel<Reduce::kMean>, 1, 2},
      {"ReduceMax", reduce_kernel<Reduce::kMax>, 1, 2},
      {"ReduceMin", reduce_kernel<Reduce::kMin>, 1, 2},
      {"ReduceProd", reduce_kernel<Reduce::kProd>, 1, 2},
      {"ReduceSumSquare", reduce_kernel<Reduce::kSumSquare>, 1, 2},
      {"ReduceL1", reduce_kernel<Reduce::kL1>, 1, 2},
      {"ReduceL2", reduce_kernel<Reduce::kL2>, 1, 2},
      {"ReduceLogSum", reduce_kernel<Reduce::kLogSum>, 1, 2},
      {"ReduceLogSumExp", reduce_kernel<Reduce::kLogSumExp>, 1, 2},
      {"ArgMax", arg_kernel<true>, 1, 1},
      {"ArgMin", arg_kernel<false>, 1, 1},
      {"TopK", topk_kernel, 1, 2},
      {"Softmax", softmax_kernel<false>, 1, 1},
      {"LogSoftmax", softmax_kernel<true>, 1, 1},
  };
}

}  // namespace dnnsplit::engine
