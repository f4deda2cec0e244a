// Pooling (MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool) and BatchNormalization.
#include <cmath>
#include <limits>

#include "kernel.h"

namespace dnnsplit::engine {

namespace {

struct PoolShape {
  int64_t n = 0, c = 0;
  Window window;
  std::vector<int64_t> taps;
  Shape out;
};

PoolShape pool_shape(const KernelContext& ctx) {
  const Shape& x = ctx.in(0).shape;
  ctx.require(x.size() >= 3, ctx.describe_input(0) + " must have rank >= 3 (N, C, spatial...)");
  ctx.require(ctx.node.has_attr("kernel_shape"), "required attribute 'kernel_shape' is missing");
  PoolShape s;
  s.n = x[0];
  s.c = x[1];
  const bool ceil_mode = ctx.node.attr_int_or("ceil_mode", 0) != 0;
  s.window = make_window(ctx, Shape(x.begin() + 2, x.end()), ctx.node.attr_ints_or("kernel_shape", {}), ceil_mode);
  s.taps = window_taps(s.window);
  s.out = {s.n, s.c};
  s.out.insert(s.out.end(), s.window.out.begin(), s.window.out.end());
  return s;
}

// Flat spatial index in column-major order (MaxPool's storage_order = 1).
int64_t column_major(int64_t row_major, const Shape& dims) {
  int64_t result = 0;
  int64_t stride = 1;
  std::vector<int64_t> coords(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    coords[d] = row_major % dims[d];
    row_major /= dims[d];
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    result += coords[d] * stride;
    stride *= dims[d];
  }
  return result;
}

// MaxPool: padding never wins; ties keep the first tap. Indices (optional second output) are
// flat indices into the whole input tensor.
std::vector<Tensor> max_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.in(0);
  const PoolShape s = pool_shape(ctx);
  const bool column = ctx.node.attr_int_or("storage_order", 0) != 0;
  const int64_t in_size = s.window.in_size();
  const int64_t out_size = s.window.out_size();
  const int64_t k_size = s.window.kernel_size();
  Tensor out = Tensor::zeros(x.type, s.out);
  Tensor indices = Tensor::zeros(ElemType::kInt64, s.out);
  visit_storage(x.type, [&](auto tag) {
    using T = decltype(tag);
    const auto& src = values<T>(x);
    auto& dst = values<T>(out);
    for (int64_t plane = 0; plane < s.n * s.c; ++plane) {
      const T* in = src.data() + plane * in_size;
      for (int64_t p = 0; p < out_size; ++p) {
        T best = std::numeric_limits<T>::lowest();
        int64_t best_at = -1;
        for (int64_t k = 0; k < k_size; ++k) {
          const int64_t at = s.taps[static_cast<size_t>(k * out_size + p)];
          if (at < in_size && (best_at < 0 || in[at] > best)) {
            best = in[at];
            best_at = at;
          }
        }
        const auto o = static_cast<size_t>(plane * out_size + p);
        dst[o] = best;
        if (best_at >= 0) indices.i64[o] = plane * in_size + (column ? column_major(best_at, s.window.in) : best_at);
      }
    }
  });
  return {std::move(out), std::move(indices)};
}

// Number of window taps inside the padded input, per output position (count_include_pad).
std::vector<int64_t> padded_counts(const Window& w) {
  const size_t rank = w.in.size();
  std::vector<int64_t> counts(static_cast<size_t>(w.out_size()), 1);
  std::vector<int64_t> oc(rank, 0);
  for (auto& count : counts) {
    for (size_t d = 0; d < rank; ++d) {
      int64_t inside = 0;
      for (int64_t k = 0; k < w.kernel[d]; ++k) {
        const int64_t pos = oc[d] * w.strides[d] - w.pad_begin[d] + k * w.dilations[d];
        if (pos >= -w.pad_begin[d] && pos < w.in[d] + w.pad_end[d]) ++inside;
      }
      count *= inside;
    }
    for (size_t d = rank; d-- > 0;) {
      if (++oc[d] < w.out[d]) break;
      oc[d] = 0;
    }
  }
  return counts;
}

// AveragePool: sum in double over the taps inside the input, divided by the number of those
// taps (count_include_pad = 0) or of the taps inside the padded input (count_include_pad = 1).
std::vector<Tensor> average_pool_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  const PoolShape s = pool_shape(ctx);
  const bool include_pad = ctx.node.attr_int_or("count_include_pad", 0) != 0;
  const auto counts_with_pad = padded_counts(s.window);
  const int64_t in_size = s.window.in_size();
  const int64_t out_size = s.window.out_size();
  const int64_t k_size = s.window.kernel_size();
  const auto src = x.as_doubles();
  std::vector<double> result(static_cast<size_t>(s.n * s.c * out_size));
  for (int64_t plane = 0; plane < s.n * s.c; ++plane) {
    const double* in = src.data() + plane * in_size;
    for (int64_t p = 0; p < out_size; ++p) {
      double sum = 0.0;
      int64_t valid = 0;
      for (int64_t k = 0; k < k_size; ++k) {
        const int64_t at = s.taps[static_cast<size_t>(k * out_size + p)];
        if (at < in_size) {
          sum += in[at];
          ++valid;
        }
      }
      const int64_t count = include_pad ? counts_with_pad[static_cast<size_t>(p)] : valid;
      result[static_cast<size_t>(plane * out_size + p)] = count > 0 ? sum / static_cast<double>(count) : 0.0;
    }
  }
  Tensor out = Tensor::zeros(x.type, s.out);
  for (size_t i = 0; i < result.size(); ++i) {
    if (x.type == ElemType::kFloat) out.f32[i] = static_cast<float>(result[i]);
    else out.f64[i] = result[i];
  }
  return {std::move(out)};
}

template <bool kMax>
std::vector<Tensor> global_pool_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  ctx.require(x.shape.size() >= 3, ctx.describe_input(0) + " must have rank >= 3 (N, C, spatial...)");
  Shape out_shape = x.shape;
  std::fill(out_shape.begin() + 2, out_shape.end(), 1);
  const int64_t planes = x.shape[0] * x.shape[1];
  const int64_t size = shape_numel(Shape(x.shape.begin() + 2, x.shape.end()));
  Tensor out = Tensor::zeros(x.type, out_shape);
  for (int64_t plane = 0; plane < planes; ++plane) {
    double acc = kMax ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < size; ++i) {
      const double v = x.at(plane * size + i);
      acc = kMax ? std::max(acc, v) : acc + v;
    }
    if (!kMax) acc /= static_cast<double>(size);
    if (x.type == ElemType::kFloat) out.f32[static_cast<size_t>(plane)] = static_cast<float>(acc);
    else out.f64[static_cast<size_t>(plane)] = acc;
  }
  return {std::move(out)};
}

Tensor float_tensor_like(ElemType type, const Shape& shape, const std::vector<double>& v) {
  Tensor t = Tensor::zeros(type, shape);
  for (size_t i = 0; i < v.size(); ++i) {
    if (type == ElemType::kFloat) t.f32[i] = static_cast<float>(v[i]);
    else t.f64[i] = v[i];
  }
  return t;
}

// BatchNormalization: inference mode y = (x - mean) / sqrt(var + eps) * scale + B per channel
// (axis 1). training_mode (opset 14+) normalises with the batch statistics (population
// variance) and also returns the updated running mean and variance.
std::vector<Tensor> batch_norm_kernel(const KernelContext& ctx) {
  require_float(ctx, 0);
  const Tensor& x = ctx.in(0);
  ctx.require(x.shape.size() >= 2, ctx.describe_input(0) + " must have rank >= 2 (N, C, ...)");
  const int64_t n = x.shape[0];
  const int64_t c = x.shape[1];
  const int64_t inner = shape_numel(Shape(x.shape.begin() + 2, x.shape.end()));
  std::vector<std::vector<double>> params;
  for (size_t i = 1; i <= 4; ++i) {
    require_float(ctx, i);
    ctx.require(ctx.in(i).numel() == c && ctx.in(i).shape.size() == 1,
                ctx.describe_input(i) + " must be 1-D with one value per channel (" + std::to_string(c) + ")");
    params.push_back(ctx.in(i).as_doubles());
  }
  const double eps = ctx.node.attr_float_or("epsilon", 1e-5F);
  const bool training = ctx.opset >= 14 && ctx.node.attr_int_or("training_mode", 0) != 0;
  const auto xs = x.as_doubles();
  std::vector<double> mean = params[2];
  std::vector<double> var = params[3];
  if (training) {
    const auto count = static_cast<double>(n * inner);
    for (int64_t ch = 0; ch < c; ++ch) {
      double sum = 0.0;
      double sq = 0.0;
      for (int64_t b = 0; b < n; ++b) {
        for (int64_t i = 0; i < inner; ++i) sum += xs[static_cast<size_t>((b * c + ch) * inner + i)];
      }
      const double mu = sum / count;
      for (int64_t b = 0; b < n; ++b) {
        for (int64_t i = 0; i < inner; ++i) {
          const double d = xs[static_cast<size_t>((b * c + ch) * inner + i)] - mu;
          sq += d * d;
        }
      }
      mean[static_cast<size_t>(ch)] = mu;
      var[static_cast<size_t>(ch)] = sq / count;
    }
  }
  std::vector<double> y(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto ch = static_cast<size_t>((static_cast<int64_t>(i) / inner) % c);
    y[i] = (xs[i] - mean[ch]) / std::sqrt(var[ch] + eps) * params[0][ch] + params[1][ch];
  }
  std::vector<Tensor> outputs;
  outputs.push_back(float_tensor_like(x.type, x.shape, y));
  if (training) {
    const double momentum = ctx.node.attr_float_or("momentum", 0.9F);
    std::vector<double> running_mean(static_cast<size_t>(c));
    std::vector<double> running_var(static_cast<size_t>(c));
    for (size_t ch = 0; ch < running_mean.size(); ++ch) {
      running_mean[ch] = params[2][ch] * momentum + mean[ch] * (1.0 - momentum);
      running_var[ch] = params[3][ch] * momentum + var[ch] * (1.0 - momentum);
    }
    outputs.push_back(float_tensor_like(ctx.in(3).type, {c}, running_mean));
    outputs.push_back(float_tensor_like(ctx.in(4).type, {c}, running_var));
  }
  return outputs;
}

}  // namespace

std::vector<OpSpec> pool_norm_ops() {
  return {
      {"MaxPool", max_pool_kernel, 1, 1},
      {"AveragePool", average_pool_kernel, 1, 1},
      {"GlobalAveragePool", global_pool_kernel<false>, 1, 1},
      {"GlobalMaxPool", global_pool_kernel<true>, 1, 1},
      {"BatchNormalization", batch_norm_kernel, 5, 5},
  };
}

}  // namespace dnnsplit::engine
