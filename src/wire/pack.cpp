// Tensors <-> bytes on the wire: integer codes at their bit width, raw values otherwise.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "dnnsplit/error.h"
#include "dnnsplit/wire.h"

namespace dnnsplit::wire {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian; so is this code");

namespace {

constexpr int kMaxQuantBits = 32;  // codes are packed through a 64-bit accumulator

std::string value_text(double v) {
  std::ostringstream out;
  out.precision(9);
  out << v;
  return out.str();
}

int raw_bytes(ElemType type) {
  switch (type) {
    case ElemType::kDouble:
    case ElemType::kInt64:
    case ElemType::kUint64: return 8;
    case ElemType::kFloat:
    case ElemType::kInt32:
    case ElemType::kUint32: return 4;
    case ElemType::kInt16:
    case ElemType::kUint16: return 2;
    case ElemType::kInt8:
    case ElemType::kUint8:
    case ElemType::kBool: return 1;
  }
  return 8;
}

bool raw_signed(ElemType type) {
  return type == ElemType::kInt8 || type == ElemType::kInt16 || type == ElemType::kInt32 || type == ElemType::kInt64;
}

// The scale and zero point of every element: per tensor, or per channel along channel_axis.
struct Grid {
  const ir::QuantType& quant;
  int64_t inner = 1;   // elements per step of the channel axis
  int64_t extent = 1;  // channels (1 when per tensor)

  Grid(const ir::QuantType& q, const Shape& shape, const std::string& where) : quant(q) {
    check(!q.scale.empty() && !q.zero_point.empty(), where + ": quantized type has no scale or zero point");
    if (!q.per_channel()) return;
    const int axis = q.channel_axis;
    check(axis >= 1 && axis < static_cast<int>(shape.size()),
          where + ": per-channel scale needs a channel axis in [1, " + std::to_string(shape.size()) + "), got " +
              std::to_string(axis));
    extent = shape[static_cast<size_t>(axis)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    for (const auto* v : {&q.scale, &q.zero_point}) {
      check(v->size() == 1 || static_cast<int64_t>(v->size()) == extent,
            where + ": " + std::to_string(v->size()) + " per-channel parameters for " + std::to_string(extent) +
                " channels on axis " + std::to_string(axis));
    }
  }
  int64_t channel(int64_t i) const { return extent == 1 ? 0 : (i / inner) % extent; }
  double scale(int64_t c) const { return quant.scale.size() == 1 ? quant.scale[0] : quant.scale[static_cast<size_t>(c)]; }
  double zero_point(int64_t c) const {
    return quant.zero_point.size() == 1 ? quant.zero_point[0] : quant.zero_point[static_cast<size_t>(c)];
  }
};

void check_quant(const ir::QuantType& q, const std::string& where) {
  check(q.storage_bits() >= 1 && q.storage_bits() <= kMaxQuantBits,
        where + ": " + std::to_string(q.storage_bits()) + "-bit codes are not supported on the wire (1.." +
            std::to_string(kMaxQuantBits) + ")");
  for (float s : q.scale) check(std::isfinite(s) && s != 0.0F, where + ": scale " + value_text(s) + " is not usable");
  for (float z : q.zero_point) {
    check(std::isfinite(z) && std::trunc(z) == z, where + ": zero point " + value_text(z) + " is not an integer");
  }
}

// The real value of code q, computed as the engine's quantizers do: in double, one rounding.
double decode_value(int64_t q, double scale, double zero_point) {
  return (static_cast<double>(q) - zero_point) * scale;
}

class BitWriter {
 public:
  BitWriter(std::string& out, int bits) : out_(out), bits_(bits), mask_((uint64_t{1} << bits) - 1) {}
  void put(uint64_t code) {
    acc_ |= (code & mask_) << filled_;
    filled_ += bits_;
    while (filled_ >= 8) {
      out_.push_back(static_cast<char>(acc_ & 0xFF));
      acc_ >>= 8;
      filled_ -= 8;
    }
  }
  void flush() {
    if (filled_ > 0) out_.push_back(static_cast<char>(acc_ & 0xFF));
    acc_ = 0;
    filled_ = 0;
  }

 private:
  std::string& out_;
  int bits_;
  uint64_t mask_;
  uint64_t acc_ = 0;
  int filled_ = 0;
};

class BitReader {
 public:
  BitReader(std::string_view in, int bits) : in_(in), bits_(bits), mask_((uint64_t{1} << bits) - 1) {}
  uint64_t get() {
    while (filled_ < bits_) {
      acc_ |= static_cast<uint64_t>(static_cast<unsigned char>(in_[pos_++])) << filled_;
      filled_ += 8;
    }
    const uint64_t code = acc_ & mask_;
    acc_ >>= bits_;
    filled_ -= bits_;
    return code;
  }
  // Bits left in the last byte after the final code: must be zero padding.
  uint64_t leftover() const { return acc_; }

 private:
  std::string_view in_;
  int bits_;
  uint64_t mask_;
  uint64_t acc_ = 0;
  int filled_ = 0;
  size_t pos_ = 0;
};

void check_batch_shape(const TensorSpec& spec, const Tensor& t, const std::string& where) {
  check(t.type == spec.type, where + ": element type " + elem_type_name(t.type) + " where the spec says " +
                                 elem_type_name(spec.type));
  bool same = t.shape.size() == spec.shape.size() && !t.shape.empty() && t.shape[0] >= 1;
  for (size_t d = 1; same && d < t.shape.size(); ++d) same = t.shape[d] == spec.shape[d];
  check(same, where + ": shape " + shape_to_string(t.shape) + " does not match " + shape_to_string(spec.shape) +
                  " (any batch of at least one image in dimension 0)");
}

std::string pack_quant(const TensorSpec& spec, const Tensor& t, const std::string& where) {
  const ir::QuantType& q = *spec.quant;
  check_quant(q, where);
  const Grid grid(q, t.shape, where);
  const int bits = q.storage_bits();
  const int64_t n = t.numel();
  const int64_t lo = q.min_int();
  const int64_t hi = q.max_int();
  std::string out;
  out.reserve(static_cast<size_t>(spec.packed_bytes(t.shape[0])));
  BitWriter writer(out, bits);
  for (int64_t i = 0; i < n; ++i) {
    const double x = t.at(i);
    const int64_t c = grid.channel(i);
    const double s = grid.scale(c);
    const double z = grid.zero_point(c);
    auto fail = [&](const std::string& why) {
      throw Error(where + ": value " + value_text(x) + " at index " + std::to_string(i) + " " + why + " (" +
                  q.finn_name() + ", scale " + value_text(s) + ", zero point " + value_text(z) + ")");
    };
    if (!std::isfinite(x)) fail("is not finite");
    const double code = std::nearbyint(x / s + z);
    if (code < static_cast<double>(lo) || code > static_cast<double>(hi) || (q.bipolar && code == 0.0)) {
      fail("lies outside the type's range");
    }
    const auto qv = static_cast<int64_t>(code);
    const double back = decode_value(qv, s, z);
    bool exact = false;
    if (t.type == ElemType::kFloat) {
      exact = static_cast<float>(back) == t.f32[static_cast<size_t>(i)];
    } else if (t.type == ElemType::kDouble) {
      exact = back == t.f64[static_cast<size_t>(i)];
    } else {
      exact = back == x;
    }
    if (!exact) fail("is not on its grid: the nearest code " + std::to_string(qv) + " decodes to " + value_text(back));
    writer.put(q.bipolar ? (qv > 0 ? 1U : 0U) : static_cast<uint64_t>(qv));
  }
  writer.flush();
  return out;
}

Tensor unpack_quant(const TensorSpec& spec, std::string_view bytes, Shape shape, const std::string& where) {
  const ir::QuantType& q = *spec.quant;
  check_quant(q, where);
  const Grid grid(q, shape, where);
  const int bits = q.storage_bits();
  const bool sign_extend = q.is_signed && !q.bipolar;
  const int64_t lo = q.min_int();
  const int64_t hi = q.max_int();
  Tensor t = Tensor::zeros(spec.type, std::move(shape));
  const int64_t n = t.numel();
  BitReader reader(bytes, bits);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t code = reader.get();
    int64_t qv = 0;
    if (q.bipolar) {
      qv = code != 0 ? 1 : -1;
    } else if (sign_extend && (code >> (bits - 1)) != 0) {
      qv = static_cast<int64_t>(code) - (int64_t{1} << bits);
    } else {
      qv = static_cast<int64_t>(code);
    }
    if (qv < lo || qv > hi) {
      throw Error(where + ": code " + std::to_string(qv) + " at index " + std::to_string(i) + " lies outside " +
                  q.finn_name() + (q.narrow ? " (narrow)" : "") + " range [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
    }
    const int64_t c = grid.channel(i);
    const double y = decode_value(qv, grid.scale(c), grid.zero_point(c));
    const auto k = static_cast<size_t>(i);
    if (t.type == ElemType::kFloat) {
      t.f32[k] = static_cast<float>(y);
    } else if (t.type == ElemType::kDouble) {
      t.f64[k] = y;
    } else {
      check(std::trunc(y) == y, where + ": code " + std::to_string(qv) + " at index " + std::to_string(i) +
                                    " decodes to " + value_text(y) + ", not an integer of " + elem_type_name(t.type));
      t.i64[k] = static_cast<int64_t>(y);
    }
  }
  check(reader.leftover() == 0, where + ": the padding bits after the last value are not zero");
  return t;
}

std::string pack_raw(const TensorSpec& spec, const Tensor& t, const std::string& where) {
  const auto n = static_cast<size_t>(t.numel());
  const int width = raw_bytes(spec.type);
  std::string out(n * static_cast<size_t>(width), '\0');
  if (t.type == ElemType::kFloat) {
    if (n > 0) std::memcpy(out.data(), t.f32.data(), n * sizeof(float));
    return out;
  }
  if (t.type == ElemType::kDouble) {
    if (n > 0) std::memcpy(out.data(), t.f64.data(), n * sizeof(double));
    return out;
  }
  const bool is_signed = raw_signed(t.type);
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = t.i64[i];
    if (width < 8) {
      const int64_t lo = is_signed ? -(int64_t{1} << (8 * width - 1)) : 0;
      const int64_t hi = is_signed ? (int64_t{1} << (8 * width - 1)) - 1 : (int64_t{1} << (8 * width)) - 1;
      const int64_t top = t.type == ElemType::kBool ? 1 : hi;
      check(v >= lo && v <= top, where + ": value " + std::to_string(v) + " at index " + std::to_string(i) +
                                     " does not fit " + elem_type_name(t.type));
    }
    const auto bits = static_cast<uint64_t>(v);
    for (int b = 0; b < width; ++b) out[i * static_cast<size_t>(width) + static_cast<size_t>(b)] = static_cast<char>((bits >> (8 * b)) & 0xFF);
  }
  return out;
}

Tensor unpack_raw(const TensorSpec& spec, std::string_view bytes, Shape shape, const std::string& where) {
  Tensor t = Tensor::zeros(spec.type, std::move(shape));
  const auto n = static_cast<size_t>(t.numel());
  const int width = raw_bytes(spec.type);
  if (t.type == ElemType::kFloat) {
    if (n > 0) std::memcpy(t.f32.data(), bytes.data(), n * sizeof(float));
    return t;
  }
  if (t.type == ElemType::kDouble) {
    if (n > 0) std::memcpy(t.f64.data(), bytes.data(), n * sizeof(double));
    return t;
  }
  const bool is_signed = raw_signed(t.type);
  for (size_t i = 0; i < n; ++i) {
    uint64_t bits = 0;
    for (int b = 0; b < width; ++b) {
      bits |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i * static_cast<size_t>(width) + static_cast<size_t>(b)])) << (8 * b);
    }
    int64_t v = static_cast<int64_t>(bits);
    if (is_signed && width < 8 && (bits >> (8 * width - 1)) != 0) v -= int64_t{1} << (8 * width);
    if (t.type == ElemType::kBool) {
      check(v == 0 || v == 1, where + ": byte " + std::to_string(v) + " at index " + std::to_string(i) + " is not a bool");
    }
    t.i64[i] = v;
  }
  return t;
}

}  // namespace

int64_t TensorSpec::elements_per_image() const {
  check(!shape.empty(), "tensor '" + name + "' has no batch dimension (scalar) and cannot travel as a batch");
  int64_t n = 1;
  for (size_t d = 1; d < shape.size(); ++d) {
    check(shape[d] > 0, "tensor '" + name + "' has dimension " + std::to_string(d) + " of unknown or zero extent " +
                            std::to_string(shape[d]) + " in " + shape_to_string(shape));
    check(n <= std::numeric_limits<int64_t>::max() / shape[d], "tensor '" + name + "' is too large");
    n *= shape[d];
  }
  return n;
}

int TensorSpec::bits_per_value() const { return quant ? quant->storage_bits() : 8 * raw_bytes(type); }

int64_t TensorSpec::bytes_per_image() const { return packed_bytes(1); }

int64_t TensorSpec::packed_bytes(int64_t images) const {
  const int64_t per = elements_per_image();
  const int64_t bits = bits_per_value();
  // Batches are bounded far below this by message limits; refuse before anything overflows.
  check(images >= 0 && (per == 0 || images <= std::numeric_limits<int64_t>::max() / 64 / per),
        "tensor '" + name + "': " + std::to_string(images) + " images are too many");
  return (images * per * bits + 7) / 8;
}

std::string TensorSpec::describe() const {
  return "'" + name + "' " + (quant ? quant->finn_name() : elem_type_name(type)) + " " + shape_to_string(shape);
}

TensorSpec spec_from_tensor_info(const ir::TensorInfo& info) { return {info.name, info.type, info.shape, info.quant}; }

std::string pack_tensor(const TensorSpec& spec, const Tensor& tensor, const std::string& what) {
  const std::string where = what + ", tensor '" + spec.name + "'";
  check_batch_shape(spec, tensor, where);
  return spec.quant ? pack_quant(spec, tensor, where) : pack_raw(spec, tensor, where);
}

Tensor unpack_tensor(const TensorSpec& spec, std::string_view bytes, int64_t images, const std::string& what) {
  const std::string where = what + ", tensor '" + spec.name + "'";
  check(images >= 1, where + ": a batch needs at least one image, got " + std::to_string(images));
  const int64_t expected = spec.packed_bytes(images);
  check(static_cast<int64_t>(bytes.size()) == expected,
        where + ": " + std::to_string(bytes.size()) + " bytes for " + std::to_string(images) + " images where " +
            std::to_string(expected) + " are expected (" + std::to_string(spec.bits_per_value()) + " bits x " +
            std::to_string(spec.elements_per_image()) + " values per image)");
  Shape shape = spec.shape;
  shape[0] = images;
  return spec.quant ? unpack_quant(spec, bytes, std::move(shape), where) : unpack_raw(spec, bytes, std::move(shape), where);
}

}  // namespace dnnsplit::wire
