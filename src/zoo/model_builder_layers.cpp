// The layer-level calls of ModelBuilder: convolutions, matrix products, normalisation, pooling.
#include <cmath>
#include <stdexcept>

#include "model_builder.h"

namespace dnnsplit::zoo {

namespace {

// Moments of sum_i w_i x_i for independent inputs: mean sum w mean_i, variance sum w^2 var_i.
struct Accumulator {
  double mean = 0.0;
  double var = 0.0;
  void add(double w, const ChannelStats& x) {
    mean += w * x.mean;
    var += w * w * x.var;
  }
};

double average_var(const Stats& stats) {
  double sum = 0.0;
  for (const auto& s : stats) sum += s.var;
  return stats.empty() ? 1.0 : sum / static_cast<double>(stats.size());
}

}  // namespace

Act ModelBuilder::conv(const Act& x, const std::string& node, int64_t out_channels, int64_t kernel, int64_t stride,
                       int64_t pad, int64_t group, const WeightQuant& wq) {
  const int64_t in_channels = x.channels();
  if (x.shape.size() != 4 || in_channels % group != 0 || out_channels % group != 0) {
    throw std::logic_error("zoo: bad conv " + node);
  }
  const int64_t group_in = in_channels / group;
  const Shape weight_shape{out_channels, group_in, kernel, kernel};
  std::vector<double> w;
  const std::string weight =
      quantized_weight(node, weight_shape, group_in * kernel * kernel, out_channels, true, wq, w);
  auto& proto = add_node("Conv", node, {x.name, weight});
  set_ints_attr(proto, "dilations", {1, 1});
  set_int_attr(proto, "group", group);
  set_ints_attr(proto, "kernel_shape", {kernel, kernel});
  set_ints_attr(proto, "pads", {pad, pad, pad, pad});
  set_ints_attr(proto, "strides", {stride, stride});

  const int64_t per_out = group_in * kernel * kernel;
  Stats out;
  for (int64_t co = 0; co < out_channels; ++co) {
    const int64_t first_in = (co / (out_channels / group)) * group_in;
    Accumulator acc;
    for (int64_t j = 0; j < per_out; ++j) {
      acc.add(w[static_cast<size_t>(co * per_out + j)], x.stats[static_cast<size_t>(first_in + j / (kernel * kernel))]);
    }
    out.push_back(ChannelStats::normal(acc.mean, acc.var));
  }
  const int64_t h = (x.shape[2] + 2 * pad - kernel) / stride + 1;
  const int64_t wd = (x.shape[3] + 2 * pad - kernel) / stride + 1;
  return Act{proto.output(0), {x.shape[0], out_channels, h, wd}, std::move(out), {}};
}

Act ModelBuilder::matmul(const Act& x, const std::string& node, int64_t out_features, const WeightQuant& wq) {
  if (x.shape.size() != 2) throw std::logic_error("zoo: matmul input must be 2-D: " + node);
  const int64_t in_features = x.channels();
  std::vector<double> w;
  const std::string weight = quantized_weight(node, {in_features, out_features}, in_features, out_features, false, wq, w);
  auto& proto = add_node("MatMul", node, {x.name, weight});
  Stats out;
  for (int64_t j = 0; j < out_features; ++j) {
    Accumulator acc;
    for (int64_t i = 0; i < in_features; ++i) {
      acc.add(w[static_cast<size_t>(i * out_features + j)], x.stats[static_cast<size_t>(i)]);
    }
    out.push_back(ChannelStats::normal(acc.mean, acc.var));
  }
  return Act{proto.output(0), {x.shape[0], out_features}, std::move(out), {}};
}

Act ModelBuilder::batch_norm(const Act& x, const std::string& node, float epsilon) {
  const auto channels = static_cast<size_t>(x.channels());
  std::vector<float> gamma(channels), beta(channels), mean(channels), var(channels);
  Stats out;
  for (size_t c = 0; c < channels; ++c) {
    gamma[c] = static_cast<float>(rng_.uniform(0.9, 1.1));
    beta[c] = static_cast<float>(0.1 * rng_.normal());
    mean[c] = static_cast<float>(x.stats[c].mean);
    var[c] = static_cast<float>(x.stats[c].var > 0.0 ? x.stats[c].var : 1.0);
    const double normalised_var = x.stats[c].var / (static_cast<double>(var[c]) + epsilon);
    out.push_back(ChannelStats::normal(beta[c], static_cast<double>(gamma[c]) * gamma[c] * normalised_var));
  }
  const Shape shape{x.channels()};
  auto& proto = add_node("BatchNormalization", node,
                         {x.name, add_initializer(node + "_gamma", Tensor::from_floats(shape, gamma)),
                          add_initializer(node + "_beta", Tensor::from_floats(shape, beta)),
                          add_initializer(node + "_mean", Tensor::from_floats(shape, mean)),
                          add_initializer(node + "_var", Tensor::from_floats(shape, var))});
  set_float_attr(proto, "epsilon", epsilon);
  set_float_attr(proto, "momentum", 0.9F);
  return same_shape(x, proto.output(0), std::move(out));
}

Act ModelBuilder::max_pool(const Act& x, const std::string& node, int64_t kernel, int64_t stride) {
  auto& proto = add_node("MaxPool", node, {x.name});
  set_ints_attr(proto, "kernel_shape", {kernel, kernel});
  set_ints_attr(proto, "pads", {0, 0, 0, 0});
  set_ints_attr(proto, "strides", {stride, stride});
  const Shape shape{x.shape[0], x.shape[1], (x.shape[2] - kernel) / stride + 1, (x.shape[3] - kernel) / stride + 1};
  return Act{proto.output(0), shape, max_of_stats(x.stats, static_cast<int>(kernel * kernel)), {}};
}

Act ModelBuilder::average_pool(const Act& x, const std::string& node, int64_t kernel, int64_t stride) {
  auto& proto = add_node("AveragePool", node, {x.name});
  set_ints_attr(proto, "kernel_shape", {kernel, kernel});
  set_ints_attr(proto, "pads", {0, 0, 0, 0});
  set_ints_attr(proto, "strides", {stride, stride});
  const Shape shape{x.shape[0], x.shape[1], (x.shape[2] - kernel) / stride + 1, (x.shape[3] - kernel) / stride + 1};
  return Act{proto.output(0), shape, mean_of_stats(x.stats, static_cast<int>(kernel * kernel)), {}};
}

Act ModelBuilder::global_average_pool(const Act& x, const std::string& node) {
  auto& proto = add_node("GlobalAveragePool", node, {x.name});
  return Act{proto.output(0), {x.shape[0], x.shape[1], 1, 1},
             mean_of_stats(x.stats, static_cast<int>(x.shape[2] * x.shape[3])), {}};
}

Act ModelBuilder::trunc(const Act& x, const std::string& node, float scale, int in_bits, int out_bits) {
  auto& proto = add_node("Trunc", node,
                         {x.name, scalar(node + "_scale", scale), scalar(node + "_zeropt", 0.0F),
                          scalar(node + "_in_bitwidth", static_cast<float>(in_bits)),
                          scalar(node + "_out_bitwidth", static_cast<float>(out_bits))},
                         kQonnxDomain);
  set_string_attr(proto, "rounding_mode", "FLOOR");
  const double shift = std::ldexp(1.0, in_bits - out_bits);
  return same_shape(x, proto.output(0), map_stats(x.stats, [&](double v) {
    return std::floor(std::nearbyint(v / scale) / shift) * scale;
  }));
}

Act ModelBuilder::flatten(const Act& x, const std::string& node) {
  auto& proto = add_node("Flatten", node, {x.name});
  set_int_attr(proto, "axis", 1);
  int64_t inner = 1;
  for (size_t i = 2; i < x.shape.size(); ++i) inner *= x.shape[i];
  return Act{proto.output(0), {x.shape[0], x.channels() * inner}, repeat_stats(x.stats, inner), {}};
}

Act ModelBuilder::add(const Act& a, const Act& b, const std::string& node) {
  if (a.shape != b.shape) throw std::logic_error("zoo: add of different shapes at " + node);
  auto& proto = add_node("Add", node, {a.name, b.name});
  return same_shape(a, proto.output(0), sum_stats(a.stats, b.stats));
}

Act ModelBuilder::bias(const Act& x, const std::string& node) {
  const double spread = std::sqrt(average_var(x.stats));
  std::vector<float> values(static_cast<size_t>(x.channels()));
  for (auto& v : values) v = static_cast<float>(0.1 * spread * rng_.normal());
  const std::string constant = add_initializer(node + "_param", Tensor::from_floats({x.channels()}, values));
  auto& proto = add_node("Add", node, {x.name, constant});
  std::vector<double> b(values.begin(), values.end());
  return same_shape(x, proto.output(0), affine_stats(x.stats, {1.0}, b));
}

Act ModelBuilder::tensor_norm(const Act& x, const std::string& prefix, bool folded) {
  // One scalar mean and variance over all features, as Brevitas' TensorNorm keeps.
  double mean = 0.0;
  for (const auto& s : x.stats) mean += s.mean / static_cast<double>(x.stats.size());
  double var = 0.0;
  for (const auto& s : x.stats) var += (s.var + (s.mean - mean) * (s.mean - mean)) / static_cast<double>(x.stats.size());
  constexpr double kEpsilon = 1e-4;
  const double gamma = rng_.uniform(0.9, 1.1);
  const double beta = 0.1 * rng_.normal();
  const double std_dev = std::sqrt(var + kEpsilon);
  if (folded) {
    const double a = gamma / std_dev;
    const Act scaled = elementwise(x, prefix + "_mul", "Mul", {static_cast<float>(a)});
    return elementwise(scaled, prefix + "_add", "Add", {static_cast<float>(beta - mean * a)});
  }
  const Act centred = elementwise(x, prefix + "_sub", "Sub", {static_cast<float>(mean)});
  const Act normalised = elementwise(centred, prefix + "_div", "Div", {static_cast<float>(std_dev)});
  const Act scaled = elementwise(normalised, prefix + "_mul", "Mul", {static_cast<float>(gamma)});
  return elementwise(scaled, prefix + "_add", "Add", {static_cast<float>(beta)});
}

}  // namespace dnnsplit::zoo
