#include "dnnsplit/npy.h"

#include <bit>
#include <cstring>
#include <limits>

#include "dnnsplit/error.h"
#include "dnnsplit/file_util.h"
#include "npy_header.h"

namespace dnnsplit {

namespace {

struct NpyType {
  ElemType type;
  size_t size;  // bytes per element
};

// Maps a 'descr' string to an element type; throws Error naming the file and the field.
NpyType npy_type_from_descr(const std::string& descr, const std::string& file) {
  const std::string field = file + ": field 'descr' is '" + descr + "': ";
  check(descr.size() >= 2, field + "not a NumPy dtype string");
  const char order = descr[0];
  const std::string code = descr.substr(1);
  check(order == '<' || order == '>' || order == '|' || order == '=',
        field + "the first character must be a byte order mark (<, >, |, =)");
  static const struct {
    const char* code;
    ElemType type;
  } kCodes[] = {
      {"f4", ElemType::kFloat},  {"f8", ElemType::kDouble}, {"i8", ElemType::kInt64}, {"i4", ElemType::kInt32},
      {"i2", ElemType::kInt16},  {"i1", ElemType::kInt8},   {"u1", ElemType::kUint8}, {"u2", ElemType::kUint16},
      {"u4", ElemType::kUint32}, {"u8", ElemType::kUint64}, {"b1", ElemType::kBool},
  };
  for (const auto& entry : kCodes) {
    if (code != entry.code) continue;
    const auto size = static_cast<size_t>(code[1] - '0');
    // Byte order is moot for one-byte types; for wider ones only little-endian is read.
    if (size > 1) {
      check(order != '>', field + "big-endian data is not supported (save with dtype '<" + code + "')");
      check(order != '|', field + "'|' (no byte order) is only valid for one-byte types");
      check(order != '=' || std::endian::native == std::endian::little,
            field + "native byte order of a big-endian host is not supported");
    }
    return {entry.type, size};
  }
  const char kind = code[0];
  std::string why = "unsupported dtype (supported: f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1)";
  if (kind == 'O') why = "object arrays are not supported";
  if (kind == 'V') why = "structured / void dtypes are not supported";
  if (kind == 'U' || kind == 'S' || kind == 'a') why = "string dtypes are not supported";
  if (kind == 'c') why = "complex dtypes are not supported";
  if (code == "f2") why = "float16 is not supported (convert to float32)";
  throw Error(field + why);
}

uint64_t load_le(const unsigned char* p, size_t size) {
  uint64_t v = 0;
  for (size_t i = 0; i < size; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

void store_le(std::string& out, uint64_t v, size_t size) {
  for (size_t i = 0; i < size; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

int64_t sign_extend(uint64_t v, size_t size) {
  if (size == 8) return static_cast<int64_t>(v);
  const uint64_t sign = uint64_t{1} << (8 * size - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

bool is_signed_int(ElemType t) {
  return t == ElemType::kInt8 || t == ElemType::kInt16 || t == ElemType::kInt32 || t == ElemType::kInt64;
}

size_t elem_size(ElemType type) {
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
  return 0;
}

}  // namespace

std::string npy_descr(ElemType type) {
  switch (type) {
    case ElemType::kFloat: return "<f4";
    case ElemType::kDouble: return "<f8";
    case ElemType::kInt64: return "<i8";
    case ElemType::kInt32: return "<i4";
    case ElemType::kInt16: return "<i2";
    case ElemType::kInt8: return "|i1";
    case ElemType::kUint8: return "|u1";
    case ElemType::kUint16: return "<u2";
    case ElemType::kUint32: return "<u4";
    case ElemType::kUint64: return "<u8";
    case ElemType::kBool: return "|b1";
  }
  throw Error("npy_descr: unknown element type");
}

Tensor parse_npy(std::string_view bytes, const std::string& name_for_messages) {
  const std::string& file = name_for_messages;
  const io::NpyHeader header = io::parse_npy_header(bytes, file);
  const NpyType npy = npy_type_from_descr(header.descr, file);
  check(!header.fortran_order, file +
                                   ": field 'fortran_order' is True; Fortran-ordered arrays are not supported "
                                   "(save with np.ascontiguousarray)");
  // The element count and byte count must fit before anything is allocated.
  uint64_t count = 1;
  for (int64_t d : header.shape) {
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count) ||
        count > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw Error(file + ": field 'shape' " + shape_to_string(header.shape) + " has more elements than fit in 64 bits");
    }
  }
  uint64_t data_bytes = 0;
  check(!__builtin_mul_overflow(count, npy.size, &data_bytes),
        file + ": field 'shape' " + shape_to_string(header.shape) + " needs more bytes than fit in 64 bits");
  const uint64_t available = bytes.size() - header.data_offset;
  check(available >= data_bytes, file + ": data truncated: shape " + shape_to_string(header.shape) + " of '" +
                                     header.descr + "' needs " + std::to_string(data_bytes) + " bytes, the file has " +
                                     std::to_string(available) + " after the header");
  check(available == data_bytes, file + ": " + std::to_string(available - data_bytes) +
                                     " unexpected bytes after the data (shape " + shape_to_string(header.shape) +
                                     " of '" + header.descr + "' needs " + std::to_string(data_bytes) + ")");

  Tensor t;
  t.type = npy.type;
  t.shape = header.shape;
  const auto n = static_cast<size_t>(count);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + header.data_offset);
  if (npy.type == ElemType::kFloat) {
    t.f32.resize(n);
    for (size_t i = 0; i < n; ++i) t.f32[i] = std::bit_cast<float>(static_cast<uint32_t>(load_le(p + 4 * i, 4)));
  } else if (npy.type == ElemType::kDouble) {
    t.f64.resize(n);
    for (size_t i = 0; i < n; ++i) t.f64[i] = std::bit_cast<double>(load_le(p + 8 * i, 8));
  } else {
    t.i64.resize(n);
    const bool is_signed = is_signed_int(npy.type);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t v = load_le(p + npy.size * i, npy.size);
      t.i64[i] = is_signed ? sign_extend(v, npy.size) : static_cast<int64_t>(v);
    }
    if (npy.type == ElemType::kBool) {
      for (size_t i = 0; i < n; ++i) {
        if (t.i64[i] > 1) {
          throw Error(file + ": bool element " + std::to_string(i) + " is byte " + std::to_string(t.i64[i]) +
                      ", not 0 or 1");
        }
      }
    }
  }
  return t;
}

Tensor read_npy(const std::string& path) {
  return parse_npy(read_file_bytes(path, ".npy file"), path);
}

std::string npy_to_bytes(const Tensor& tensor) {
  const auto n = static_cast<size_t>(tensor.numel());
  const size_t size = elem_size(tensor.type);
  const std::string what =
      "writing a " + elem_type_name(tensor.type) + " tensor of shape " + shape_to_string(tensor.shape) + " as .npy";
  for (int64_t d : tensor.shape) {
    if (d < 0) throw Error(what + ": negative dimension");
  }
  const size_t stored = tensor.type == ElemType::kFloat    ? tensor.f32.size()
                        : tensor.type == ElemType::kDouble ? tensor.f64.size()
                                                           : tensor.i64.size();
  check(stored == n, what + ": the tensor holds " + std::to_string(stored) + " values");

  std::string out = io::format_npy_header(npy_descr(tensor.type), tensor.shape);
  out.reserve(out.size() + n * size);
  if (tensor.type == ElemType::kFloat) {
    for (float v : tensor.f32) store_le(out, std::bit_cast<uint32_t>(v), 4);
  } else if (tensor.type == ElemType::kDouble) {
    for (double v : tensor.f64) store_le(out, std::bit_cast<uint64_t>(v), 8);
  } else {
    // Values must fit the element type (uint64 is a bit pattern, so every int64 fits).
    int64_t lo = 0;
    int64_t hi = 1;
    if (tensor.type == ElemType::kUint64 || tensor.type == ElemType::kInt64) {
      lo = std::numeric_limits<int64_t>::min();
      hi = std::numeric_limits<int64_t>::max();
    } else if (is_signed_int(tensor.type)) {
      hi = (int64_t{1} << (8 * size - 1)) - 1;
      lo = -hi - 1;
    } else if (tensor.type != ElemType::kBool) {
      hi = (int64_t{1} << (8 * size)) - 1;
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = tensor.i64[i];
      if (v < lo || v > hi) {
        throw Error(what + ": value " + std::to_string(v) + " at index " + std::to_string(i) + " does not fit " +
                    elem_type_name(tensor.type));
      }
      store_le(out, static_cast<uint64_t>(v), size);
    }
  }
  return out;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  std::string bytes;
  try {
    bytes = npy_to_bytes(tensor);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  write_file_atomic(path, bytes, ".npy file");
}

}  // namespace dnnsplit
