// A runtime tensor: shape plus values. Float tensors keep float32 values; every integer or bool
// ONNX element type keeps its values in int64 storage (the element type says how to write it back).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnnsplit {

using Shape = std::vector<int64_t>;

enum class ElemType : uint8_t {
  kFloat,   // float32
  kDouble,  // float64 (stored as float32 is NOT enough for it: kept in f64)
  kInt64,
  kInt32,
  kInt16,
  kInt8,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kBool,
};

bool elem_type_is_float(ElemType type);
std::string elem_type_name(ElemType type);
// ONNX TensorProto::DataType value <-> ElemType; throws Error for unsupported types.
ElemType elem_type_from_onnx(int onnx_data_type);
int elem_type_to_onnx(ElemType type);

int64_t shape_numel(const Shape& shape);
std::string shape_to_string(const Shape& shape);

struct Tensor {
  ElemType type = ElemType::kFloat;
  Shape shape;
  std::vector<float> f32;    // kFloat
  std::vector<double> f64;   // kDouble
  std::vector<int64_t> i64;  // every integer type and bool

  Tensor() = default;
  static Tensor zeros(ElemType type, Shape shape);
  static Tensor from_floats(Shape shape, std::vector<float> values);
  static Tensor from_ints(ElemType type, Shape shape, std::vector<int64_t> values);

  int64_t numel() const { return shape_numel(shape); }
  bool is_float() const { return elem_type_is_float(type); }
  // Value i as double, whatever the storage.
  double at(int64_t i) const;
  // All values as doubles / int64 (converting).
  std::vector<double> as_doubles() const;
  std::vector<int64_t> as_ints() const;
};

// True when both tensors have the same type, shape and bit-identical values.
bool tensors_identical(const Tensor& a, const Tensor& b);

}  // namespace dnnsplit
