#include "dnnsplit/tensor.h"

#include <cstring>
#include <sstream>

#include "dnnsplit/error.h"
#include "onnx/onnx_pb.h"

namespace dnnsplit {

bool elem_type_is_float(ElemType type) { return type == ElemType::kFloat || type == ElemType::kDouble; }

std::string elem_type_name(ElemType type) {
  switch (type) {
    case ElemType::kFloat: return "float32";
    case ElemType::kDouble: return "float64";
    case ElemType::kInt64: return "int64";
    case ElemType::kInt32: return "int32";
    case ElemType::kInt16: return "int16";
    case ElemType::kInt8: return "int8";
    case ElemType::kUint8: return "uint8";
    case ElemType::kUint16: return "uint16";
    case ElemType::kUint32: return "uint32";
    case ElemType::kUint64: return "uint64";
    case ElemType::kBool: return "bool";
  }
  return "unknown";
}

ElemType elem_type_from_onnx(int onnx_data_type) {
  using TP = onnx::TensorProto;
  switch (onnx_data_type) {
    case TP::FLOAT: return ElemType::kFloat;
    case TP::DOUBLE: return ElemType::kDouble;
    case TP::INT64: return ElemType::kInt64;
    case TP::INT32: return ElemType::kInt32;
    case TP::INT16: return ElemType::kInt16;
    case TP::INT8: return ElemType::kInt8;
    case TP::UINT8: return ElemType::kUint8;
    case TP::UINT16: return ElemType::kUint16;
    case TP::UINT32: return ElemType::kUint32;
    case TP::UINT64: return ElemType::kUint64;
    case TP::BOOL: return ElemType::kBool;
    default: break;
  }
  const auto* descriptor = TP::DataType_descriptor();
  const auto* value = descriptor->FindValueByNumber(onnx_data_type);
  throw Error("unsupported tensor element type " + (value ? value->name() : std::to_string(onnx_data_type)));
}

int elem_type_to_onnx(ElemType type) {
  using TP = onnx::TensorProto;
  switch (type) {
    case ElemType::kFloat: return TP::FLOAT;
    case ElemType::kDouble: return TP::DOUBLE;
    case ElemType::kInt64: return TP::INT64;
    case ElemType::kInt32: return TP::INT32;
    case ElemType::kInt16: return TP::INT16;
    case ElemType::kInt8: return TP::INT8;
    case ElemType::kUint8: return TP::UINT8;
    case ElemType::kUint16: return TP::UINT16;
    case ElemType::kUint32: return TP::UINT32;
    case ElemType::kUint64: return TP::UINT64;
    case ElemType::kBool: return TP::BOOL;
  }
  return TP::UNDEFINED;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

Tensor Tensor::zeros(ElemType type, Shape shape) {
  Tensor t;
  t.type = type;
  t.shape = std::move(shape);
  const auto n = static_cast<size_t>(std::max<int64_t>(0, t.numel()));
  if (type == ElemType::kFloat) {
    t.f32.assign(n, 0.0F);
  } else if (type == ElemType::kDouble) {
    t.f64.assign(n, 0.0);
  } else {
    t.i64.assign(n, 0);
  }
  return t;
}

Tensor Tensor::from_floats(Shape shape, std::vector<float> values) {
  Tensor t;
  t.type = ElemType::kFloat;
  t.shape = std::move(shape);
  check(static_cast<int64_t>(values.size()) == t.numel(), "tensor of shape " + shape_to_string(t.shape) +
                                                              " given " + std::to_string(values.size()) + " values");
  t.f32 = std::move(values);
  return t;
}

Tensor Tensor::from_ints(ElemType type, Shape shape, std::vector<int64_t> values) {
  Tensor t;
  t.type = type;
  t.shape = std::move(shape);
  check(!elem_type_is_float(type), "from_ints needs an integer element type");
  check(static_cast<int64_t>(values.size()) == t.numel(), "tensor of shape " + shape_to_string(t.shape) +
                                                              " given " + std::to_string(values.size()) + " values");
  t.i64 = std::move(values);
  return t;
}

double Tensor::at(int64_t i) const {
  const auto k = static_cast<size_t>(i);
  if (type == ElemType::kFloat) return f32[k];
  if (type == ElemType::kDouble) return f64[k];
  return static_cast<double>(i64[k]);
}

std::vector<double> Tensor::as_doubles() const {
  if (type == ElemType::kFloat) return {f32.begin(), f32.end()};
  if (type == ElemType::kDouble) return f64;
  std::vector<double> out(i64.size());
  for (size_t i = 0; i < i64.size(); ++i) out[i] = static_cast<double>(i64[i]);
  return out;
}

std::vector<int64_t> Tensor::as_ints() const {
  if (!is_float()) return i64;
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<int64_t>(at(static_cast<int64_t>(i)));
  return out;
}

bool tensors_identical(const Tensor& a, const Tensor& b) {
  if (a.type != b.type || a.shape != b.shape) return false;
  if (a.type == ElemType::kFloat) {
    return a.f32.size() == b.f32.size() &&
           (a.f32.empty() || std::memcmp(a.f32.data(), b.f32.data(), a.f32.size() * sizeof(float)) == 0);
  }
  if (a.type == ElemType::kDouble) {
    return a.f64.size() == b.f64.size() &&
           (a.f64.empty() || std::memcmp(a.f64.data(), b.f64.data(), a.f64.size() * sizeof(double)) == 0);
  }
  return a.i64 == b.i64;
}

}  // namespace dnnsplit
