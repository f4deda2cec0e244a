// Tensor specs: comparison and proto conversion.
#include <sstream>

#include "dnnsplit/error.h"
#include "wire_proto.h"

namespace dnnsplit::wire {

namespace {

std::string floats_text(const std::vector<float>& v) {
  std::ostringstream out;
  out.precision(9);
  out << "[";
  for (size_t i = 0; i < v.size() && i < 4; ++i) out << (i ? ", " : "") << v[i];
  if (v.size() > 4) out << ", ... (" << v.size() << " values)";
  out << "]";
  return out.str();
}

std::string quant_text(const std::optional<ir::QuantType>& q) {
  if (!q) return "no quantized type";
  return q->finn_name() + (q->narrow ? " narrow" : "") + " scale " + floats_text(q->scale) + " zero point " +
         floats_text(q->zero_point) + (q->per_channel() ? " axis " + std::to_string(q->channel_axis) : "");
}

bool same_quant(const ir::QuantType& a, const ir::QuantType& b) {
  if (a.storage_bits() != b.storage_bits() || a.bipolar != b.bipolar) return false;
  if (!a.bipolar && (a.bits != b.bits || a.is_signed != b.is_signed || a.narrow != b.narrow)) return false;
  if (a.scale != b.scale || a.zero_point != b.zero_point) return false;
  return !a.per_channel() || a.channel_axis == b.channel_axis;
}

}  // namespace

std::string spec_difference(const TensorSpec& expected, const TensorSpec& given) {
  if (expected.name != given.name) return "tensor '" + given.name + "' where '" + expected.name + "' is expected";
  const std::string who = "tensor '" + expected.name + "'";
  if (expected.type != given.type) {
    return who + " is " + elem_type_name(given.type) + " where " + elem_type_name(expected.type) + " is expected";
  }
  bool same_shape = expected.shape.size() == given.shape.size() && !given.shape.empty();
  for (size_t d = 1; same_shape && d < given.shape.size(); ++d) same_shape = expected.shape[d] == given.shape[d];
  if (!same_shape) {
    return who + " has shape " + shape_to_string(given.shape) + " where " + shape_to_string(expected.shape) +
           " is expected (dimension 0 is the batch)";
  }
  if (expected.quant.has_value() != given.quant.has_value() ||
      (expected.quant && !same_quant(*expected.quant, *given.quant))) {
    return who + " has " + quant_text(given.quant) + " where " + quant_text(expected.quant) + " is expected";
  }
  return "";
}

v1::TensorSpec spec_to_proto(const TensorSpec& spec) {
  v1::TensorSpec p;
  p.set_name(spec.name);
  p.set_onnx_type(elem_type_to_onnx(spec.type));
  for (int64_t d : spec.shape) p.add_shape(d);
  if (spec.quant) {
    auto* q = p.mutable_quant();
    q->set_bits(static_cast<uint32_t>(spec.quant->bits));
    q->set_is_signed(spec.quant->is_signed);
    q->set_narrow(spec.quant->narrow);
    q->set_bipolar(spec.quant->bipolar);
    for (float s : spec.quant->scale) q->add_scale(s);
    for (float z : spec.quant->zero_point) q->add_zero_point(z);
    q->set_channel_axis(spec.quant->channel_axis);
  }
  return p;
}

TensorSpec spec_from_proto(const v1::TensorSpec& p, const std::string& what) {
  TensorSpec spec;
  spec.name = p.name();
  const std::string where = what + ", tensor '" + p.name() + "'";
  try {
    spec.type = elem_type_from_onnx(p.onnx_type());
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  spec.shape.assign(p.shape().begin(), p.shape().end());
  check(!spec.shape.empty(), where + ": shape has no batch dimension");
  if (p.has_quant()) {
    const auto& q = p.quant();
    check(q.bits() >= 1 && q.bits() <= 64, where + ": quantized type has " + std::to_string(q.bits()) + " bits");
    check(q.scale_size() >= 1 && q.zero_point_size() >= 1, where + ": quantized type has no scale or zero point");
    ir::QuantType t;
    t.bits = static_cast<int>(q.bits());
    t.is_signed = q.is_signed();
    t.narrow = q.narrow();
    t.bipolar = q.bipolar();
    t.scale.assign(q.scale().begin(), q.scale().end());
    t.zero_point.assign(q.zero_point().begin(), q.zero_point().end());
    t.channel_axis = q.channel_axis();
    spec.quant = std::move(t);
  }
  return spec;
}

std::vector<TensorSpec> specs_from_proto(const google::protobuf::RepeatedPtrField<v1::TensorSpec>& protos,
                                         const std::string& what) {
  std::vector<TensorSpec> specs;
  for (const auto& p : protos) specs.push_back(spec_from_proto(p, what));
  return specs;
}

}  // namespace dnnsplit::wire
