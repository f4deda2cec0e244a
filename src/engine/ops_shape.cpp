// Data movement ops. Each computes, for every output element, the flat index of the input
// element it copies (gather_flat), so one copy loop serves every element type.
#include <algorithm>
#include <set>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

// The axes list of Squeeze/Unsqueeze/Split-like ops: an attribute before `input_from_opset`,
// an optional input from then on.
std::vector<int64_t> axes_arg(const KernelContext& ctx, size_t input, int64_t input_from_opset, bool* given) {
  if (ctx.opset >= input_from_opset) {
    *given = ctx.has(input);
    return *given ? int_list(ctx, input) : std::vector<int64_t>{};
  }
  *given = ctx.node.has_attr("axes");
  return ctx.node.attr_ints_or("axes", {});
}

std::vector<Tensor> identity_kernel(const KernelContext& ctx) { return {ctx.in(0)}; }

// Reshape: 0 copies the input's extent (unless allowzero = 1, opset 14+), -1 is inferred.
std::vector<Tensor> reshape_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  Shape shape = int_list(ctx, 1);
  const bool allow_zero = ctx.opset >= 14 && ctx.node.attr_int_or("allowzero", 0) != 0;
  int64_t infer_at = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allow_zero) {
      ctx.require(i < x.shape.size(), "shape " + shape_to_string(shape) + " copies dimension " + std::to_string(i) +
                                          " that " + ctx.describe_input(0) + " does not have");
      shape[i] = x.shape[i];
    }
    if (shape[i] == -1) {
      ctx.require(infer_at < 0, "shape " + shape_to_string(shape) + " has more than one -1");
      infer_at = static_cast<int64_t>(i);
    } else {
      ctx.require(shape[i] >= 0, "shape " + shape_to_string(shape) + " has a negative extent");
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    ctx.require(known != 0 && x.numel() % known == 0,
                "cannot infer the -1 of shape " + shape_to_string(shape) + " for " + ctx.describe_input(0));
    shape[static_cast<size_t>(infer_at)] = x.numel() / known;
  }
  ctx.require(shape_numel(shape) == x.numel(),
              "cannot reshape " + ctx.describe_input(0) + " to " + shape_to_string(shape));
  Tensor out = x;
  out.shape = shape;
  return {std::move(out)};
}

std::vector<Tensor> flatten_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  int64_t axis = ctx.node.attr_int_or("axis", 1);
  ctx.require(axis >= -rank && axis <= rank, "axis " + std::to_string(axis) + " is out of range for rank " +
                                                 std::to_string(rank));
  if (axis < 0) axis += rank;
  Tensor out = x;
  out.shape = {shape_numel(Shape(x.shape.begin(), x.shape.begin() + axis)),
               shape_numel(Shape(x.shape.begin() + axis, x.shape.end()))};
  return {std::move(out)};
}

std::vector<Tensor> transpose_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const auto rank = x.shape.size();
  std::vector<int64_t> reversed(rank);
  for (size_t i = 0; i < rank; ++i) reversed[i] = static_cast<int64_t>(rank - 1 - i);
  const auto perm = ctx.node.attr_ints_or("perm", reversed);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  ctx.require(sorted == [&] { auto v = reversed; std::reverse(v.begin(), v.end()); return v; }(),
              "attribute 'perm' " + shape_to_string(perm) + " is not a permutation of the axes of " +
                  ctx.describe_input(0));
  Shape out_shape(rank);
  for (size_t i = 0; i < rank; ++i) out_shape[i] = x.shape[static_cast<size_t>(perm[i])];
  const auto in_strides = strides_of(x.shape);
  std::vector<int64_t> index(static_cast<size_t>(x.numel()));
  for_each_coord(out_shape, [&](int64_t i, const std::vector<int64_t>& c) {
    int64_t at = 0;
    for (size_t d = 0; d < rank; ++d) at += c[d] * in_strides[static_cast<size_t>(perm[d])];
    index[static_cast<size_t>(i)] = at;
  });
  return {gather_flat(x, out_shape, index)};
}

std::vector<Tensor> squeeze_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  bool given = false;
  const auto axes = axes_arg(ctx, 1, 13, &given);
  std::set<int64_t> drop;
  for (int64_t a : axes) {
    const int64_t axis = normalize_axis(ctx, a, rank, "axis");
    ctx.require(x.shape[static_cast<size_t>(axis)] == 1, "cannot squeeze axis " + std::to_string(a) + " of " +
                                                             ctx.describe_input(0) + ": extent is not 1");
    drop.insert(axis);
  }
  Tensor out = x;
  out.shape.clear();
  for (int64_t d = 0; d < rank; ++d) {
    const bool squeeze = given ? drop.count(d) != 0 : x.shape[static_cast<size_t>(d)] == 1;
    if (!squeeze) out.shape.push_back(x.shape[static_cast<size_t>(d)]);
  }
  return {std::move(out)};
}

std::vector<Tensor> unsqueeze_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  bool given = false;
  const auto axes = axes_arg(ctx, 1, 13, &given);
  ctx.require(given, "axes are required");
  const auto out_rank = static_cast<int64_t>(x.shape.size() + axes.size());
  std::set<int64_t> insert;
  for (int64_t a : axes) {
    ctx.require(insert.insert(normalize_axis(ctx, a, out_rank, "axis")).second, "axes contain a duplicate");
  }
  Tensor out = x;
  out.shape.clear();
  size_t next = 0;
  for (int64_t d = 0; d < out_rank; ++d) {
    out.shape.push_back(insert.count(d) ? 1 : x.shape[next++]);
  }
  return {std::move(out)};
}

std::vector<Tensor> concat_kernel(const KernelContext& ctx) {
  std::vector<size_t> all;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) all.push_back(i);
  require_same_types(ctx, all);
  const Tensor& first = ctx.in(0);
  const auto rank = static_cast<int64_t>(first.shape.size());
  ctx.require(ctx.node.has_attr("axis"), "required attribute 'axis' is missing");
  const int64_t axis = normalize_axis(ctx, ctx.node.attr_int("axis"), rank, "axis");
  Shape out_shape = first.shape;
  out_shape[static_cast<size_t>(axis)] = 0;
  for (size_t i : all) {
    const Shape& s = ctx.in(i).shape;
    bool match = s.size() == first.shape.size();
    for (size_t d = 0; match && d < s.size(); ++d) match = static_cast<int64_t>(d) == axis || s[d] == first.shape[d];
    ctx.require(match, ctx.describe_input(i) + " does not match " + ctx.describe_input(0) + " outside axis " +
                           std::to_string(axis));
    out_shape[static_cast<size_t>(axis)] += s[static_cast<size_t>(axis)];
  }
  const int64_t outer = shape_numel(Shape(first.shape.begin(), first.shape.begin() + axis));
  const int64_t inner = shape_numel(Shape(first.shape.begin() + axis + 1, first.shape.end()));
  Tensor out = Tensor::zeros(first.type, out_shape);
  visit_storage(first.type, [&](auto tag) {
    using T = decltype(tag);
    auto& dst = values<T>(out);
    size_t at = 0;
    for (int64_t o = 0; o < outer; ++o) {
      for (size_t i : all) {
        const auto block = static_cast<size_t>(ctx.in(i).shape[static_cast<size_t>(axis)] * inner);
        const auto& src = values<T>(ctx.in(i));
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(o) * block), block,
                    dst.begin() + static_cast<std::ptrdiff_t>(at));
        at += block;
      }
    }
  });
  return {std::move(out)};
}

// Elements [begin, begin + count) along axis.
Tensor slice_axis(const Tensor& x, size_t axis, int64_t begin, int64_t count) {
  Shape out_shape = x.shape;
  out_shape[axis] = count;
  const auto strides = strides_of(x.shape);
  std::vector<int64_t> index(static_cast<size_t>(shape_numel(out_shape)));
  for_each_coord(out_shape, [&](int64_t i, const std::vector<int64_t>& c) {
    int64_t at = 0;
    for (size_t d = 0; d < c.size(); ++d) at += (d == axis ? c[d] + begin : c[d]) * strides[d];
    index[static_cast<size_t>(i)] = at;
  });
  return gather_flat(x, out_shape, index);
}

// Split: sizes from the 'split' attribute (before opset 13) or input (13+), else equal parts.
std::vector<Tensor> split_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int_or("axis", 0), rank, "axis"));
  const auto parts = static_cast<int64_t>(ctx.node.outputs.size());
  ctx.require(parts >= 1, "needs at least one output");
  std::vector<int64_t> sizes;
  if (ctx.opset >= 13) {
    if (ctx.has(1)) sizes = int_list(ctx, 1);
  } else {
    sizes = ctx.node.attr_ints_or("split", {});
  }
  const int64_t extent = x.shape[axis];
  if (sizes.empty()) {
    ctx.require(extent % parts == 0, "cannot split extent " + std::to_string(extent) + " of " +
                                         ctx.describe_input(0) + " into " + std::to_string(parts) + " equal parts");
    sizes.assign(static_cast<size_t>(parts), extent / parts);
  }
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  ctx.require(static_cast<int64_t>(sizes.size()) == parts && total == extent,
              "split sizes " + shape_to_string(sizes) + " do not divide extent " + std::to_string(extent) + " into " +
                  std::to_string(parts) + " outputs");
  std::vector<Tensor> outputs;
  int64_t begin = 0;
  for (int64_t s : sizes) {
    ctx.require(s >= 0, "split sizes must not be negative");
    outputs.push_back(slice_axis(x, axis, begin, s));
    begin += s;
  }
  return outputs;
}

// Slice: starts/ends/axes/steps as inputs (opset 10+) or attributes (before); out-of-range
// bounds are clamped as ONNX specifies.
std::vector<Tensor> slice_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const auto rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset >= 10) {
    starts = int_list(ctx, 1);
    ends = int_list(ctx, 2);
    if (ctx.has(3)) axes = int_list(ctx, 3);
    if (ctx.has(4)) steps = int_list(ctx, 4);
  } else {
    starts = ctx.node.attr_ints_or("starts", {});
    ends = ctx.node.attr_ints_or("ends", {});
    axes = ctx.node.attr_ints_or("axes", {});
  }
  if (axes.empty()) {
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  ctx.require(ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
              "starts, ends, axes and steps must have the same length");
  std::vector<int64_t> begin(static_cast<size_t>(rank), 0);
  std::vector<int64_t> step(static_cast<size_t>(rank), 1);
  Shape out_shape = x.shape;
  std::set<int64_t> seen;
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t a = normalize_axis(ctx, axes[i], rank, "axis");
    ctx.require(seen.insert(a).second, "axes contain a duplicate");
    ctx.require(steps[i] != 0, "steps must not be 0");
    const int64_t dim = x.shape[static_cast<size_t>(a)];
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i];
    int64_t e = ends[i] < 0 ? ends[i] + dim : ends[i];
    int64_t count = 0;
    if (dim == 0) {
      s = 0;  // nothing to select (and the clamps below need dim >= 1)
    } else if (steps[i] > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + steps[i] - 1) / steps[i] : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e - steps[i] - 1) / -steps[i] : 0;
    }
    begin[static_cast<size_t>(a)] = s;
    step[static_cast<size_t>(a)] = steps[i];
    out_shape[static_cast<size_t>(a)] = count;
  }
  const auto strides = strides_of(x.shape);
  std::vector<int64_t> index(static_cast<size_t>(shape_numel(out_shape)));
  for_each_coord(out_shape, [&](int64_t i, const std::vector<int64_t>& c) {
    int64_t at = 0;
    for (size_t d = 0; d < c.size(); ++d) at += (begin[d] + c[d] * step[d]) * strides[d];
    index[static_cast<size_t>(i)] = at;
  });
  return {gather_flat(x, out_shape, index)};
}

std::vector<Tensor> gather_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const Tensor& idx = ctx.in(1);
  ctx.require(!idx.is_float(), ctx.describe_input(1) + " must be an integer tensor");
  const auto rank = static_cast<int64_t>(x.shape.size());
  const auto axis = static_cast<size_t>(normalize_axis(ctx, ctx.node.attr_int_or("axis", 0), rank, "axis"));
  const int64_t dim = x.shape[axis];
  Shape out_shape(x.shape.begin(), x.shape.begin() + static_cast<std::ptrdiff_t>(axis));
  out_shape.insert(out_shape.end(), idx.shape.begin(), idx.shape.end());
  out_shape.insert(out_shape.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.shape.end());
  const int64_t outer = shape_numel(Shape(x.shape.begin(), x.shape.begin() + static_cast<std::ptrdiff_t>(axis)));
  const int64_t inner = shape_numel(Shape(x.shape.begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.shape.end()));
  std::vector<int64_t> index;
  index.reserve(static_cast<size_t>(shape_numel(out_shape)));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k : idx.i64) {
      ctx.require(k >= -dim && k < dim, "index " + std::to_string(k) + " is out of range for extent " +
                                            std::to_string(dim) + " of " + ctx.describe_input(0));
      const int64_t row = k < 0 ? k + dim : k;
      for (int64_t i = 0; i < inner; ++i) index.push_back((o * dim + row) * inner + i);
    }
  }
  return {gather_flat(x, out_shape, index)};
}

std::vector<Tensor> expand_kernel(const KernelContext& ctx) {
  const Shape target = int_list(ctx, 1);
  const Shape shape = broadcast_two(ctx, ctx.in(0).shape, target, ctx.describe_input(0) + " and shape");
  return {broadcast_to(ctx.in(0), shape)};
}

std::vector<Tensor> tile_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const auto repeats = int_list(ctx, 1);
  ctx.require(repeats.size() == x.shape.size(), "repeats must have one value per axis of " + ctx.describe_input(0));
  Shape out_shape = x.shape;
  for (size_t d = 0; d < repeats.size(); ++d) {
    ctx.require(repeats[d] >= 0, "repeats must not be negative");
    out_shape[d] *= repeats[d];
  }
  const auto strides = strides_of(x.shape);
  std::vector<int64_t> index(static_cast<size_t>(shape_numel(out_shape)));
  for_each_coord(out_shape, [&](int64_t i, const std::vector<int64_t>& c) {
    int64_t at = 0;
    for (size_t d = 0; d < c.size(); ++d) at += (c[d] % x.shape[d]) * strides[d];
    index[static_cast<size_t>(i)] = at;
  });
  return {gather_flat(x, out_shape, index)};
}

// Source coordinate of a padded position, or -1 for constant padding.
int64_t pad_source(int64_t pos, int64_t dim, const std::string& mode) {
  if (pos >= 0 && pos < dim) return pos;
  if (mode == "edge") return std::clamp<int64_t>(pos, 0, dim - 1);
  if (mode == "reflect") {
    if (dim == 1) return 0;
    const int64_t period = 2 * (dim - 1);  // reflection without repeating the edge
    int64_t m = ((pos % period) + period) % period;
    return m < dim ? m : period - m;
  }
  return -1;
}

// Pad: pads [x1_begin, x2_begin, ..., x1_end, x2_end] (negative values crop), modes constant,
// reflect, edge; pads/value are attributes before opset 11, inputs from 11 on.
std::vector<Tensor> pad_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const size_t rank = x.shape.size();
  const std::string mode = ctx.node.attr_string_or("mode", "constant");
  ctx.require(mode == "constant" || mode == "reflect" || mode == "edge", "attribute 'mode' has unknown value '" +
                                                                             mode + "'");
  std::vector<int64_t> pads;
  double value = 0.0;
  if (ctx.opset >= 11) {
    pads = int_list(ctx, 1);
    if (ctx.has(2)) value = scalar_input(ctx, 2);
    ctx.require(!ctx.has(3), "the 'axes' input (opset 18) is not supported");
  } else {
    pads = ctx.node.attr_ints_or("pads", {});
    value = ctx.node.attr_float_or("value", 0.0F);
  }
  ctx.require(pads.size() == 2 * rank, "pads need " + std::to_string(2 * rank) + " values for " +
                                           ctx.describe_input(0) + ", got " + std::to_string(pads.size()));
  Shape out_shape(rank);
  for (size_t d = 0; d < rank; ++d) {
    out_shape[d] = x.shape[d] + pads[d] + pads[d + rank];
    ctx.require(out_shape[d] >= 0, "pads crop more than the extent of " + ctx.describe_input(0));
    ctx.require(mode == "constant" || x.shape[d] > 0 || out_shape[d] == 0,
                "mode '" + mode + "' cannot pad an empty axis");
  }
  const auto strides = strides_of(x.shape);
  std::vector<int64_t> index(static_cast<size_t>(shape_numel(out_shape)));
  for_each_coord(out_shape, [&](int64_t i, const std::vector<int64_t>& c) {
    int64_t at = 0;
    for (size_t d = 0; d < rank && at >= 0; ++d) {
      const int64_t src = pad_source(c[d] - pads[d], x.shape[d], mode);
      at = src < 0 ? -1 : at + src * strides[d];
    }
    index[static_cast<size_t>(i)] = at;
  });
  return {gather_flat(x, out_shape, index, value)};
}

}  // namespace

std::vector<OpSpec> shape_ops() {
  return {
      {"Identity", identity_kernel, 1, 1},
      {"Reshape", reshape_kernel, 2, 2},
      {"Flatten", flatten_kernel, 1, 1},
      {"Transpose", transpose_kernel, 1, 1},
      {"Squeeze", squeeze_kernel, 1, 2},
      {"Unsqueeze", unsqueeze_kernel, 1, 2},
      {"Concat", concat_kernel, 1, -1},
      {"Split", split_kernel, 1, 2},
      {"Slice", slice_kernel, 1, 5},
      {"Gather", gather_kernel, 2, 2},
      {"Expand", expand_kernel, 2, 2},
      {"Tile", tile_kernel, 2, 2},
      {"Pad", pad_kernel, 1, 4},
  };
}

}  // namespace dnnsplit::engine
