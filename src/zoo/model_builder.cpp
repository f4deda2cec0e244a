#include "model_builder.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dnnsplit/onnx_convert.h"

namespace dnnsplit::zoo {

void set_int_attr(onnx::NodeProto& node, const std::string& name, int64_t value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_float_attr(onnx::NodeProto& node, const std::string& name, float value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(value);
}

void set_string_attr(onnx::NodeProto& node, const std::string& name, const std::string& value) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(value);
}

void set_ints_attr(onnx::NodeProto& node, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : values) a->add_ints(v);
}

namespace {

void set_float_tensor_type(onnx::ValueInfoProto& info, const std::string& name, const Shape& shape) {
  info.set_name(name);
  auto* tensor_type = info.mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* dims = tensor_type->mutable_shape();
  for (int64_t d : shape) dims->add_dim()->set_dim_value(d);
}

// Shape of a per-channel constant that broadcasts over dimension 1 of a tensor of `rank`.
Shape channel_shape(int64_t channels, size_t rank) {
  Shape shape(rank, 1);
  shape.at(1) = channels;
  return shape;
}

}  // namespace

ModelBuilder::ModelBuilder(std::string model_name, uint64_t seed) : graph_(model_.mutable_graph()), rng_(seed) {
  model_.set_ir_version(8);
  model_.set_producer_name("dnnsplit-zoo");
  model_.set_producer_version("0.1.0");
  auto* standard = model_.add_opset_import();
  standard->set_domain("");
  standard->set_version(13);
  auto* qonnx = model_.add_opset_import();
  qonnx->set_domain(kQonnxDomain);
  qonnx->set_version(1);
  graph_->set_name(std::move(model_name));
}

std::string ModelBuilder::add_initializer(const std::string& name, const Tensor& tensor) {
  *graph_->add_initializer() = tensor_to_onnx(tensor, name);
  return name;
}

std::string ModelBuilder::scalar(const std::string& name, float value) {
  return add_initializer(name, Tensor::from_floats({}, {value}));
}

onnx::NodeProto& ModelBuilder::add_node(const std::string& op, const std::string& name,
                                        const std::vector<std::string>& inputs, const std::string& domain) {
  if (!node_names_.insert(name).second) throw std::logic_error("zoo: node name used twice: " + name);
  auto* node = graph_->add_node();
  node->set_op_type(op);
  node->set_name(name);
  if (!domain.empty()) node->set_domain(domain);
  for (const auto& input : inputs) node->add_input(input);
  node->add_output(name + "_out");
  return *node;
}

Act ModelBuilder::same_shape(const Act& x, const std::string& tensor, Stats stats) const {
  return Act{tensor, x.shape, std::move(stats), {}};
}

Act ModelBuilder::input_uint8(const std::string& name, Shape shape) {
  set_float_tensor_type(*graph_->add_input(), name, shape);
  auto* annotation = graph_->add_quantization_annotation();
  annotation->set_tensor_name(name);
  auto* entry = annotation->add_quant_parameter_tensor_names();
  entry->set_key("finn_datatype");
  entry->set_value("UINT8");
  std::vector<double> values(256);
  for (int v = 0; v < 256; ++v) values[static_cast<size_t>(v)] = v;
  const auto pixel = ChannelStats::discrete(values, std::vector<double>(256, 1.0 / 256));
  const auto channels = static_cast<size_t>(shape.at(1));
  return Act{name, std::move(shape), Stats(channels, pixel), {}};
}

Act ModelBuilder::elementwise(const Act& x, const std::string& node, const std::string& op,
                              const std::vector<float>& values) {
  const bool per_channel = values.size() > 1;
  if (per_channel && static_cast<int64_t>(values.size()) != x.channels()) {
    throw std::logic_error("zoo: per-channel constant of wrong size for " + node);
  }
  const std::string constant = node + "_param";
  if (per_channel) {
    add_initializer(constant, Tensor::from_floats(channel_shape(x.channels(), x.shape.size()), values));
  } else {
    scalar(constant, values.at(0));
  }
  auto& proto = add_node(op, node, {x.name, constant});
  std::vector<double> a(values.size(), 1.0);
  std::vector<double> b(values.size(), 0.0);
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (op == "Div") a[i] = 1.0 / v;
    else if (op == "Mul") a[i] = v;
    else if (op == "Sub") b[i] = -v;
    else if (op == "Add") b[i] = v;
    else throw std::logic_error("zoo: elementwise op " + op);
  }
  return same_shape(x, proto.output(0), affine_stats(x.stats, a, b));
}

Act ModelBuilder::quant(const Act& x, const std::string& node, const ActQuant& q) {
  if (q.bits == 1) {
    auto& proto = add_node("BipolarQuant", node, {x.name, scalar(node + "_scale", 1.0F)}, kQonnxDomain);
    return same_shape(x, proto.output(0), map_stats(x.stats, [](double v) { return v >= 0.0 ? 1.0 : -1.0; }));
  }
  const int64_t max_int = q.is_signed ? (int64_t{1} << (q.bits - 1)) - 1 : (int64_t{1} << q.bits) - 1 - (q.narrow ? 1 : 0);
  const int64_t min_int = q.is_signed ? -(int64_t{1} << (q.bits - 1)) + (q.narrow ? 1 : 0) : 0;
  // Scale: fixed, or the 99.5th percentile of |x| mapped to the largest code.
  std::vector<float> scales;
  if (q.scale > 0.0) {
    scales.push_back(static_cast<float>(q.scale));
  } else {
    std::vector<double> ranges;
    for (const auto& s : x.stats) {
      double range = s.quantile(0.995);
      if (q.is_signed) range = std::max(range, -s.quantile(0.005));
      if (!(range > 0.0)) range = std::max(std::sqrt(s.var), 1e-3);
      ranges.push_back(range / static_cast<double>(max_int));
    }
    if (q.per_channel) {
      for (double r : ranges) scales.push_back(static_cast<float>(r));
    } else {
      double sum = 0.0;
      for (double r : ranges) sum += r;
      scales.push_back(static_cast<float>(sum / static_cast<double>(ranges.size())));
    }
  }
  std::string scale_name = node + "_scale";
  if (scales.size() > 1) {
    add_initializer(scale_name, Tensor::from_floats(channel_shape(x.channels(), x.shape.size()), scales));
  } else {
    scalar(scale_name, scales[0]);
  }
  auto& proto = add_node("Quant", node,
                         {x.name, scale_name, scalar(node + "_zeropt", 0.0F),
                          scalar(node + "_bitwidth", static_cast<float>(q.bits))},
                         kQonnxDomain);
  set_int_attr(proto, "narrow", q.narrow ? 1 : 0);
  set_string_attr(proto, "rounding_mode", "ROUND");
  set_int_attr(proto, "signed", q.is_signed ? 1 : 0);
  Stats out;
  for (size_t c = 0; c < x.stats.size(); ++c) {
    const double s = scales.size() > 1 ? scales[c] : scales[0];
    out.push_back(map_stats({x.stats[c]}, [&](double v) {
      const double code = std::clamp(std::nearbyint(v / s), static_cast<double>(min_int), static_cast<double>(max_int));
      return code * s;
    })[0]);
  }
  Act result = same_shape(x, proto.output(0), std::move(out));
  result.quant_scale = scales;
  return result;
}

Act ModelBuilder::relu(const Act& x, const std::string& node) {
  auto& proto = add_node("Relu", node, {x.name});
  return same_shape(x, proto.output(0), map_stats(x.stats, [](double v) { return std::max(v, 0.0); }));
}

std::string ModelBuilder::quantized_weight(const std::string& node, const Shape& shape, int64_t fan_in,
                                           int64_t out_axis_size, bool out_axis_first, const WeightQuant& wq,
                                           std::vector<double>& values) {
  const int64_t count = shape_numel(shape);
  const int64_t max_code = wq.bits == 1 ? 1 : (int64_t{1} << (wq.bits - 1)) - 1;
  // He-like spread: real weights uniform over about +-sqrt(3/fan_in), variance ~1/fan_in.
  const double base = wq.scale > 0.0 ? wq.scale
                                     : std::sqrt(3.0 / static_cast<double>(fan_in)) / static_cast<double>(max_code);
  std::vector<float> scales;
  if (wq.per_channel && wq.scale <= 0.0) {
    for (int64_t c = 0; c < out_axis_size; ++c) scales.push_back(static_cast<float>(base * rng_.uniform(0.75, 1.25)));
  } else {
    scales.push_back(static_cast<float>(base));
  }
  const int64_t inner = count / out_axis_size;
  std::vector<float> raw(static_cast<size_t>(count));
  values.assign(static_cast<size_t>(count), 0.0);
  for (int64_t i = 0; i < count; ++i) {
    const int64_t channel = out_axis_first ? i / inner : i % out_axis_size;
    const double s = scales.size() > 1 ? scales[static_cast<size_t>(channel)] : scales[0];
    double code = 0.0;
    double stored = 0.0;
    if (wq.bits == 1) {
      code = rng_.uniform() < 0.5 ? -1.0 : 1.0;
      stored = code * s * rng_.uniform(0.05, 1.0);
    } else {
      code = static_cast<double>(rng_.uniform_int(-max_code, max_code));
      // The float weight rounds back to its code: off-grid by less than 0.4 of a step.
      stored = (code + rng_.uniform(-0.4, 0.4)) * s;
    }
    raw[static_cast<size_t>(i)] = static_cast<float>(stored);
    values[static_cast<size_t>(i)] = code * s;
  }
  const std::string weight = add_initializer(node + "_w", Tensor::from_floats(shape, raw));
  const std::string quantizer = node + "_wq";
  std::string scale_name = quantizer + "_scale";
  if (scales.size() > 1) {
    Shape scale_shape(shape.size(), 1);
    scale_shape[out_axis_first ? 0 : shape.size() - 1] = out_axis_size;
    add_initializer(scale_name, Tensor::from_floats(scale_shape, scales));
  } else {
    scalar(scale_name, scales[0]);
  }
  if (wq.bits == 1) return add_node("BipolarQuant", quantizer, {weight, scale_name}, kQonnxDomain).output(0);
  auto& proto = add_node("Quant", quantizer,
                         {weight, scale_name, scalar(quantizer + "_zeropt", 0.0F),
                          scalar(quantizer + "_bitwidth", static_cast<float>(wq.bits))},
                         kQonnxDomain);
  set_int_attr(proto, "narrow", 1);
  set_string_attr(proto, "rounding_mode", "ROUND");
  set_int_attr(proto, "signed", 1);
  return proto.output(0);
}

std::string ModelBuilder::finish(const Act& output) {
  set_float_tensor_type(*graph_->add_output(), output.name, output.shape);
  std::string bytes;
  if (!model_.SerializeToString(&bytes)) throw std::logic_error("zoo: cannot serialize the model");
  return bytes;
}

}  // namespace dnnsplit::zoo
