// cast_tensor_exact: element type conversion that refuses to change any value.
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>

#include "dnnsplit/error.h"
#include "dnnsplit/npy.h"

namespace dnnsplit {

namespace {

struct IntRange {
  int64_t lo;
  uint64_t hi;
};

IntRange int_range(ElemType type) {
  switch (type) {
    case ElemType::kInt8: return {-128, 127};
    case ElemType::kInt16: return {-32768, 32767};
    case ElemType::kInt32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    case ElemType::kInt64:
      return {std::numeric_limits<int64_t>::min(), static_cast<uint64_t>(std::numeric_limits<int64_t>::max())};
    case ElemType::kUint8: return {0, 255};
    case ElemType::kUint16: return {0, 65535};
    case ElemType::kUint32: return {0, std::numeric_limits<uint32_t>::max()};
    case ElemType::kUint64: return {0, std::numeric_limits<uint64_t>::max()};
    case ElemType::kBool: return {0, 1};
    default: return {0, 0};
  }
}

// An integer value of any source type: magnitude and sign, so uint64 and int64 both fit.
struct IntValue {
  bool negative;
  uint64_t magnitude;
};

IntValue int_value(const Tensor& t, size_t i) {
  const int64_t v = t.i64[i];
  if (t.type == ElemType::kUint64 || v >= 0) return {false, static_cast<uint64_t>(v)};
  return {true, 0 - static_cast<uint64_t>(v)};
}

bool fits(IntValue v, IntRange r) {
  if (v.negative) return r.lo < 0 && v.magnitude <= 0 - static_cast<uint64_t>(r.lo);
  return v.magnitude <= r.hi;
}

int64_t stored(IntValue v) {
  return v.negative ? static_cast<int64_t>(0 - v.magnitude) : static_cast<int64_t>(v.magnitude);
}

// Exact in a binary float with `mantissa` significant bits (the exponent range is never the limit
// for 64-bit integers).
bool exact_in_float(uint64_t magnitude, int mantissa) {
  if (magnitude == 0) return true;
  magnitude >>= std::countr_zero(magnitude);
  return magnitude >> mantissa == 0;
}

std::string value_text(double v) {
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

}  // namespace

Tensor cast_tensor_exact(const Tensor& tensor, ElemType type, const std::string& what) {
  if (tensor.type == type) return tensor;
  const auto n = static_cast<size_t>(tensor.numel());
  Tensor out = Tensor::zeros(type, tensor.shape);
  auto fail = [&](size_t i, const std::string& value) {
    throw Error(what + ": value " + value + " at index " + std::to_string(i) + " cannot be represented exactly as " +
                elem_type_name(type) + " (converting from " + elem_type_name(tensor.type) + ")");
  };
  const bool float_source = tensor.is_float();
  for (size_t i = 0; i < n; ++i) {
    if (float_source) {
      const double v = tensor.type == ElemType::kFloat ? tensor.f32[i] : tensor.f64[i];
      if (type == ElemType::kFloat) {
        if (static_cast<double>(static_cast<float>(v)) != v && !std::isnan(v)) fail(i, value_text(v));
        out.f32[i] = static_cast<float>(v);
      } else if (type == ElemType::kDouble) {
        out.f64[i] = v;
      } else {
        // 2^64 is exact as a double; integral values below it convert to uint64 without loss.
        if (!std::isfinite(v) || std::trunc(v) != v || std::fabs(v) >= 18446744073709551616.0) fail(i, value_text(v));
        const IntValue iv{v < 0, static_cast<uint64_t>(std::fabs(v))};
        if (!fits(iv, int_range(type))) fail(i, value_text(v));
        out.i64[i] = stored(iv);
      }
      continue;
    }
    const IntValue iv = int_value(tensor, i);
    const std::string text = (iv.negative ? "-" : "") + std::to_string(iv.magnitude);
    if (type == ElemType::kFloat || type == ElemType::kDouble) {
      if (!exact_in_float(iv.magnitude, type == ElemType::kFloat ? 24 : 53)) fail(i, text);
      const double magnitude = static_cast<double>(iv.magnitude);
      const double v = iv.negative ? -magnitude : magnitude;
      if (type == ElemType::kFloat) {
        out.f32[i] = static_cast<float>(v);
      } else {
        out.f64[i] = v;
      }
    } else {
      if (!fits(iv, int_range(type))) fail(i, text);
      out.i64[i] = stored(iv);
    }
  }
  return out;
}

}  // namespace dnnsplit
