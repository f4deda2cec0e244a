// Ops that make tensors or change their element type: Constant, ConstantOfShape, Range,
// Shape, Size, Cast, CastLike.
#include <algorithm>
#include <cmath>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

// Constant: exactly one of value / value_float(s) / value_int(s) (sparse and string values are
// not representable in a Tensor).
std::vector<Tensor> constant_kernel(const KernelContext& ctx) {
  const auto& node = ctx.node;
  int given = 0;
  for (const char* key : {"value", "value_float", "value_floats", "value_int", "value_ints", "sparse_value",
                          "value_string", "value_strings"}) {
    given += node.has_attr(key) ? 1 : 0;
  }
  ctx.require(given == 1, "needs exactly one value attribute");
  if (const Tensor* t = node.attr_tensor("value")) return {*t};
  if (node.has_attr("value_float")) return {Tensor::from_floats({}, {node.attr_float_or("value_float", 0.0F)})};
  if (node.has_attr("value_floats")) {
    auto v = node.attr_floats_or("value_floats", {});
    const auto n = static_cast<int64_t>(v.size());
    return {Tensor::from_floats({n}, std::move(v))};
  }
  if (node.has_attr("value_int")) return {Tensor::from_ints(ElemType::kInt64, {}, {node.attr_int("value_int")})};
  if (node.has_attr("value_ints")) {
    auto v = node.attr_ints_or("value_ints", {});
    const auto n = static_cast<int64_t>(v.size());
    return {Tensor::from_ints(ElemType::kInt64, {n}, std::move(v))};
  }
  ctx.fail("sparse and string constants are not supported");
}

std::vector<Tensor> constant_of_shape_kernel(const KernelContext& ctx) {
  const Shape shape = int_list(ctx, 0);
  for (int64_t d : shape) ctx.require(d >= 0, "shape " + shape_to_string(shape) + " has a negative extent");
  Tensor value = Tensor::from_floats({1}, {0.0F});
  if (const Tensor* t = ctx.node.attr_tensor("value")) {
    ctx.require(t->numel() == 1, "attribute 'value' must hold exactly one element");
    value = *t;
  }
  return {gather_flat(value, shape, std::vector<int64_t>(static_cast<size_t>(shape_numel(shape)), 0))};
}

// Range: count = max(ceil((limit - start) / delta), 0); element i = start + i * delta.
std::vector<Tensor> range_kernel(const KernelContext& ctx) {
  require_same_types(ctx, {0, 1, 2});
  const ElemType type = ctx.in(0).type;
  const double start = scalar_input(ctx, 0);
  const double limit = scalar_input(ctx, 1);
  const double delta = scalar_input(ctx, 2);
  ctx.require(delta != 0.0, "delta must not be 0");
  const auto count = static_cast<int64_t>(std::max(std::ceil((limit - start) / delta), 0.0));
  Tensor out = Tensor::zeros(type, {count});
  for (int64_t i = 0; i < count; ++i) {
    const auto k = static_cast<size_t>(i);
    if (type == ElemType::kFloat) {
      out.f32[k] = static_cast<float>(start + static_cast<double>(i) * delta);
    } else if (type == ElemType::kDouble) {
      out.f64[k] = start + static_cast<double>(i) * delta;
    } else {
      out.i64[k] = wrap_int(ctx.in(0).i64[0] + i * ctx.in(2).i64[0], type);
    }
  }
  return {std::move(out)};
}

// Shape (start/end attributes from opset 15, clamped to the rank).
std::vector<Tensor> shape_kernel(const KernelContext& ctx) {
  const Shape& s = ctx.in(0).shape;
  const auto rank = static_cast<int64_t>(s.size());
  auto clamp_axis = [rank](int64_t a) { return std::clamp<int64_t>(a < 0 ? a + rank : a, 0, rank); };
  const int64_t start = clamp_axis(ctx.node.attr_int_or("start", 0));
  const int64_t end = clamp_axis(ctx.node.attr_int_or("end", rank));
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(s[static_cast<size_t>(i)]);
  const auto n = static_cast<int64_t>(dims.size());
  return {Tensor::from_ints(ElemType::kInt64, {n}, std::move(dims))};
}

std::vector<Tensor> size_kernel(const KernelContext& ctx) {
  return {Tensor::from_ints(ElemType::kInt64, {}, {ctx.in(0).numel()})};
}

// Element type conversion: float -> integer truncates toward zero, anything -> bool is x != 0,
// uint64 keeps its unsigned value when converted to float.
Tensor cast_to(const Tensor& x, ElemType to) {
  Tensor out = Tensor::zeros(to, x.shape);
  const bool from_u64 = x.type == ElemType::kUint64;
  for (size_t i = 0; i < static_cast<size_t>(x.numel()); ++i) {
    if (to == ElemType::kFloat) {
      // One rounding from whatever the source holds.
      if (x.type == ElemType::kFloat) out.f32[i] = x.f32[i];
      else if (x.type == ElemType::kDouble) out.f32[i] = static_cast<float>(x.f64[i]);
      else if (from_u64) out.f32[i] = static_cast<float>(static_cast<uint64_t>(x.i64[i]));
      else out.f32[i] = static_cast<float>(x.i64[i]);
    } else if (to == ElemType::kDouble) {
      out.f64[i] = from_u64 ? static_cast<double>(static_cast<uint64_t>(x.i64[i])) : x.at(static_cast<int64_t>(i));
    } else if (x.is_float()) {
      out.i64[i] = double_to_int(x.at(static_cast<int64_t>(i)), to);
    } else {
      out.i64[i] = wrap_int(x.i64[i], to);
    }
  }
  return out;
}

std::vector<Tensor> cast_kernel(const KernelContext& ctx) {
  ctx.require(ctx.node.has_attr("to"), "required attribute 'to' is missing");
  ElemType to{};
  try {
    to = elem_type_from_onnx(static_cast<int>(ctx.node.attr_int("to")));
  } catch (const Error& e) {
    ctx.fail(std::string("attribute 'to': ") + e.what());
  }
  return {cast_to(ctx.in(0), to)};
}

std::vector<Tensor> cast_like_kernel(const KernelContext& ctx) { return {cast_to(ctx.in(0), ctx.in(1).type)}; }

}  // namespace

std::vector<OpSpec> tensor_ops() {
  return {
      {"Constant", constant_kernel, 0, 0},
      {"ConstantOfShape", constant_of_shape_kernel, 1, 1},
      {"Range", range_kernel, 3, 3},
      {"Shape", shape_kernel, 1, 1},
      {"Size", size_kernel, 1, 1},
      {"Cast", cast_kernel, 1, 1},
      {"CastLike", cast_like_kernel, 2, 2},
  };
}

}  // namespace dnnsplit::engine
