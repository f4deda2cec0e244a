// NumPy .npy files <-> Tensor (format versions 1.0, 2.0 and 3.0).
//
// Accepted dtypes: <f4 <f8 <i8 <i4 <i2 <u2 <u4 <u8 and the one-byte |i1 |u1 |b1 ('=' means
// little-endian on this host; one-byte types accept any byte-order mark since it is moot).
// Rejected, each with an Error naming the file and the header field: big-endian data,
// fortran_order True, object / structured / string / complex / half dtypes, shapes whose
// element count or byte count overflows, truncated data, and bytes after the data (NumPy's
// own reader ignores them, but they almost always mean a wrong shape or dtype in the header).
// Bool bytes other than 0 and 1 are rejected too. uint64 values are kept as their bit pattern
// in int64 storage, as everywhere in dnnsplit.
#pragma once

#include <string>
#include <string_view>

#include "dnnsplit/tensor.h"

namespace dnnsplit {

Tensor read_npy(const std::string& path);
// Parses the bytes of a whole .npy file; name_for_messages stands in for the file name.
Tensor parse_npy(std::string_view bytes, const std::string& name_for_messages);

// Writes a version 1.0 file (2.0 when the header needs it) with the header padded to 64
// bytes, as NumPy does. Atomic: written to a temporary file beside path, then renamed.
// Throws Error when a value does not fit its element type or the file cannot be written.
void write_npy(const std::string& path, const Tensor& tensor);
std::string npy_to_bytes(const Tensor& tensor);

// The dtype string write_npy uses for an element type, e.g. "<f4", "|u1".
std::string npy_descr(ElemType type);

// Converts a tensor to another element type when every value is exactly representable there
// (e.g. float 3.0 -> uint8 3); otherwise throws Error naming `what`, the index and the value.
Tensor cast_tensor_exact(const Tensor& tensor, ElemType type, const std::string& what);

}  // namespace dnnsplit
