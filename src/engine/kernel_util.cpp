// Helpers shared by the kernels: typed conversions, axes, broadcasting, index-map copies.
#include <cmath>
#include <limits>

#include "kernel.h"

namespace dnnsplit::engine {

const Tensor& KernelContext::in(size_t i) const {
  if (!has(i)) fail("required input " + std::to_string(i) + " is missing");
  return *inputs[i];
}

std::string KernelContext::describe_input(size_t i) const {
  std::string text = "input " + std::to_string(i);
  if (graph != nullptr && i < node.inputs.size() && node.inputs[i] >= 0) {
    text += " '" + graph->tensor(node.inputs[i]).name + "'";
  }
  if (has(i)) text += " " + elem_type_name(inputs[i]->type) + shape_to_string(inputs[i]->shape);
  return text;
}

void KernelContext::fail(const std::string& message) const { throw Error(node.describe() + ": " + message); }

bool is_unsigned(ElemType type) {
  return type == ElemType::kUint8 || type == ElemType::kUint16 || type == ElemType::kUint32 ||
         type == ElemType::kUint64 || type == ElemType::kBool;
}

int64_t wrap_int(int64_t value, ElemType type) {
  switch (type) {
    case ElemType::kInt32: return static_cast<int32_t>(value);
    case ElemType::kInt16: return static_cast<int16_t>(value);
    case ElemType::kInt8: return static_cast<int8_t>(value);
    case ElemType::kUint8: return static_cast<uint8_t>(value);
    case ElemType::kUint16: return static_cast<uint16_t>(value);
    case ElemType::kUint32: return static_cast<uint32_t>(value);
    case ElemType::kBool: return value != 0 ? 1 : 0;
    default: return value;  // int64 and uint64 (kept as its bit pattern)
  }
}

int64_t double_to_int(double value, ElemType type) {
  if (std::isnan(value)) return 0;
  if (type == ElemType::kBool) return value != 0.0 ? 1 : 0;
  constexpr double kLimit = 9223372036854775807.0;  // 2^63
  if (type == ElemType::kUint64 && value >= kLimit) {
    if (value >= 2.0 * kLimit) return -1;  // saturate at 2^64-1
    return static_cast<int64_t>(static_cast<uint64_t>(value));
  }
  if (value >= kLimit) return wrap_int(std::numeric_limits<int64_t>::max(), type);
  if (value < -kLimit) return wrap_int(std::numeric_limits<int64_t>::min(), type);
  return wrap_int(static_cast<int64_t>(value), type);
}

int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank, const std::string& what) {
  ctx.require(axis >= -rank && axis < rank, what + " " + std::to_string(axis) + " is out of range for rank " +
                                                std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> strides_of(const Shape& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

Shape broadcast_two(const KernelContext& ctx, const Shape& a, const Shape& b, const std::string& what) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      ctx.fail(what + ": shapes " + shape_to_string(a) + " and " + shape_to_string(b) + " cannot be broadcast");
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_shapes(const KernelContext& ctx, const std::vector<size_t>& input_indices) {
  Shape out;
  std::string names;
  for (size_t k = 0; k < input_indices.size(); ++k) {
    const size_t i = input_indices[k];
    names += (k ? " and " : "") + ctx.describe_input(i);
    out = k == 0 ? ctx.in(i).shape : broadcast_two(ctx, out, ctx.in(i).shape, names);
  }
  return out;
}

std::vector<int64_t> broadcast_index(const Shape& out, const Shape& in) {
  if (in == out) return {};
  const auto rank = out.size();
  std::vector<int64_t> in_strides(rank, 0);  // 0 on broadcast dimensions
  const auto src_strides = strides_of(in);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != 1) in_strides[rank - in.size() + i] = src_strides[i];
  }
  const int64_t total = shape_numel(out);
  std::vector<int64_t> map(static_cast<size_t>(total));
  std::vector<int64_t> coord(rank, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < total; ++i) {
    map[static_cast<size_t>(i)] = offset;
    // Odometer increment over the output coordinates, keeping the source offset in step.
    for (size_t d = rank; d-- > 0;) {
      if (++coord[d] < out[d]) {
        offset += in_strides[d];
        break;
      }
      offset -= in_strides[d] * (out[d] - 1);
      coord[d] = 0;
    }
  }
  return map;
}

Tensor gather_flat(const Tensor& src, Shape shape, const std::vector<int64_t>& index, double fill) {
  Tensor out = Tensor::zeros(src.type, std::move(shape));
  visit_storage(src.type, [&](auto tag) {
    using T = decltype(tag);
    const auto& from = values<T>(src);
    auto& to = values<T>(out);
    T fill_value{};
    if constexpr (std::is_same_v<T, int64_t>) {
      fill_value = double_to_int(fill, src.type);
    } else {
      fill_value = static_cast<T>(fill);
    }
    for (size_t i = 0; i < to.size(); ++i) {
      to[i] = index[i] < 0 ? fill_value : from[static_cast<size_t>(index[i])];
    }
  });
  return out;
}

Tensor broadcast_to(const Tensor& src, const Shape& shape) {
  if (src.shape == shape) return src;
  return gather_flat(src, shape, broadcast_index(shape, src.shape));
}

std::vector<int64_t> int_list(const KernelContext& ctx, size_t input) {
  const Tensor& t = ctx.in(input);
  ctx.require(!t.is_float(), ctx.describe_input(input) + " must be an integer tensor");
  ctx.require(t.shape.size() <= 1, ctx.describe_input(input) + " must be a 1-D tensor");
  return t.i64;
}

double scalar_input(const KernelContext& ctx, size_t input) {
  const Tensor& t = ctx.in(input);
  ctx.require(t.numel() == 1, ctx.describe_input(input) + " must hold exactly one value");
  return t.at(0);
}

void require_same_types(const KernelContext& ctx, const std::vector<size_t>& input_indices) {
  const Tensor* first = nullptr;
  size_t first_index = 0;
  for (size_t i : input_indices) {
    if (!ctx.has(i)) continue;
    if (first == nullptr) {
      first = ctx.inputs[i];
      first_index = i;
    } else if (ctx.inputs[i]->type != first->type) {
      ctx.fail(ctx.describe_input(i) + " has another element type than " + ctx.describe_input(first_index));
    }
  }
}

void require_float(const KernelContext& ctx, size_t input) {
  ctx.require(ctx.in(input).is_float(), ctx.describe_input(input) + " must be a float tensor");
}

}  // namespace dnnsplit::engine
