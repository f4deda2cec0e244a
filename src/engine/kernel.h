// Internal to the engine: the kernel interface, the kernel tables of each op family and the
// tensor helpers the kernels share. Not part of the public API.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "dnnsplit/error.h"
#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::engine {

// What a kernel sees of one node execution.
struct KernelContext {
  const ir::Node& node;
  const std::vector<const Tensor*>& inputs;  // nullptr for omitted optional inputs
  int64_t opset;
  const ir::Graph* graph = nullptr;  // only for tensor names in messages

  bool has(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  // Input i; throws naming the node when it is absent.
  const Tensor& in(size_t i) const;
  // "input 1 'weight' [64, 3, 3, 3]" for messages.
  std::string describe_input(size_t i) const;
  [[noreturn]] void fail(const std::string& message) const;
  void require(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }
};

using Kernel = std::vector<Tensor> (*)(const KernelContext&);

struct OpSpec {
  const char* op_type;
  Kernel kernel;
  int min_inputs;
  int max_inputs;  // -1: variadic
};

// Kernel tables, one per op family (ops_<family>.cpp).
std::vector<OpSpec> elementwise_ops();
std::vector<OpSpec> activation_ops();
std::vector<OpSpec> linear_ops();
std::vector<OpSpec> pool_norm_ops();
std::vector<OpSpec> shape_ops();
std::vector<OpSpec> tensor_ops();
std::vector<OpSpec> reduce_ops();
std::vector<OpSpec> qonnx_ops();  // looked up only for QONNX domains

// The spec for a node, or nullptr when the engine does not implement it.
const OpSpec* find_op(const ir::Node& node);

// Throws Error naming the node when the engine lacks the op or the input count is wrong
// (present[i]: input i is given).
void check_node_arity(const ir::Node& node, size_t input_count, const std::vector<bool>& present);

// ---- typed storage access ------------------------------------------------------------------
// Kernels are templates over the storage type: float (float32), double (float64) or int64_t
// (every integer type and bool).
template <typename T>
std::vector<T>& values(Tensor& t) {
  if constexpr (std::is_same_v<T, float>) {
    return t.f32;
  } else if constexpr (std::is_same_v<T, double>) {
    return t.f64;
  } else {
    static_assert(std::is_same_v<T, int64_t>);
    return t.i64;
  }
}
template <typename T>
const std::vector<T>& values(const Tensor& t) {
  return values<T>(const_cast<Tensor&>(t));
}

// Calls fn(T{}) with T the storage type of `type`.
template <typename Fn>
decltype(auto) visit_storage(ElemType type, Fn&& fn) {
  if (type == ElemType::kFloat) return fn(float{});
  if (type == ElemType::kDouble) return fn(double{});
  return fn(int64_t{});
}

// Wraps an integer to the range of the element type, as C++ conversion to that type would
// (two's complement), so integer arithmetic overflows like ONNX runtimes do; bool -> 0/1.
int64_t wrap_int(int64_t value, ElemType type);
// Converts a double to an integer element type: NaN -> 0, truncation toward zero, saturating
// to int64 before wrapping (the C++ cast would be undefined out of range).
int64_t double_to_int(double value, ElemType type);
bool is_unsigned(ElemType type);

// ---- shapes, axes, broadcasting --------------------------------------------------------------
// Axis in [-rank, rank) -> [0, rank); fails naming the node and `what` otherwise.
int64_t normalize_axis(const KernelContext& ctx, int64_t axis, int64_t rank, const std::string& what);
std::vector<int64_t> strides_of(const Shape& shape);
// Numpy-style multidirectional broadcast of all given shapes.
Shape broadcast_shapes(const KernelContext& ctx, const std::vector<size_t>& input_indices);
Shape broadcast_two(const KernelContext& ctx, const Shape& a, const Shape& b, const std::string& what);
// For each element of `out` (row-major), the flat index of the element of a tensor of shape
// `in` that broadcasts to it. Empty when in == out (the identity map).
std::vector<int64_t> broadcast_index(const Shape& out, const Shape& in);
inline int64_t map_index(const std::vector<int64_t>& map, int64_t i) {
  return map.empty() ? i : map[static_cast<size_t>(i)];
}

// Calls fn(flat_index, coords) for every element of `shape`, in row-major order.
template <typename Fn>
void for_each_coord(const Shape& shape, Fn fn) {
  const int64_t total = shape_numel(shape);
  std::vector<int64_t> coords(shape.size(), 0);
  for (int64_t i = 0; i < total; ++i) {
    fn(i, static_cast<const std::vector<int64_t>&>(coords));
    for (size_t d = shape.size(); d-- > 0;) {
      if (++coords[d] < shape[d]) break;
      coords[d] = 0;
    }
  }
}

// Copies src elements into a new tensor of shape `shape`: element i takes src[index[i]], or
// `fill` when index[i] < 0.
Tensor gather_flat(const Tensor& src, Shape shape, const std::vector<int64_t>& index, double fill = 0.0);

// src broadcast (numpy rules, src's shape must broadcast to `shape`) to `shape`.
Tensor broadcast_to(const Tensor& src, const Shape& shape);

// Integer list from a 1-D (or scalar) integer tensor input, e.g. Reshape's shape.
std::vector<int64_t> int_list(const KernelContext& ctx, size_t input);
// One scalar value of an input as double (for Clip min/max, Range, ...).
double scalar_input(const KernelContext& ctx, size_t input);

// ---- sliding windows (Conv, pools) ------------------------------------------------------------
// Spatial geometry of a windowed op from its attributes auto_pad, pads, strides, dilations.
struct Window {
  Shape in, kernel, out;  // spatial extents
  std::vector<int64_t> strides, dilations, pad_begin, pad_end;
  int64_t in_size() const { return shape_numel(in); }
  int64_t out_size() const { return shape_numel(out); }
  int64_t kernel_size() const { return shape_numel(kernel); }
};
// ceil_mode: output extents rounded up, a last window starting in the end padding is dropped.
Window make_window(const KernelContext& ctx, const Shape& in_spatial, const Shape& kernel, bool ceil_mode);
// Tap table, layout [kernel position][output position] (both row-major): the flat spatial
// input index each tap reads, or in_size() when it falls into the padding.
std::vector<int64_t> window_taps(const Window& window);

// Every input tensor (present) has the same element type as input `first`.
void require_same_types(const KernelContext& ctx, const std::vector<size_t>& input_indices);
void require_float(const KernelContext& ctx, size_t input);

}  // namespace dnnsplit::engine

namespace dnnsplit::engine {

// Elementwise map of a float input (float32 or float64): computed in double, rounded once to
// the input's type.
template <typename F>
Tensor map_float(const KernelContext& ctx, size_t input, F f) {
  require_float(ctx, input);
  const Tensor& x = ctx.in(input);
  Tensor out = Tensor::zeros(x.type, x.shape);
  visit_storage(x.type, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, int64_t>) {
      const auto& src = values<T>(x);
      auto& dst = values<T>(out);
      for (size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<T>(f(static_cast<double>(src[i])));
    }
  });
  return out;
}

// Like map_float, with integer inputs mapped by g(int64) and wrapped to the element type.
template <typename F, typename G>
Tensor map_numeric(const KernelContext& ctx, size_t input, F f, G g) {
  const Tensor& x = ctx.in(input);
  if (x.is_float()) return map_float(ctx, input, f);
  Tensor out = Tensor::zeros(x.type, x.shape);
  for (size_t i = 0; i < x.i64.size(); ++i) out.i64[i] = wrap_int(g(x.i64[i]), x.type);
  return out;
}

}  // namespace dnnsplit::engine
