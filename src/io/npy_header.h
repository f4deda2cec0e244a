// The .npy header: magic, version, length and the Python-dict literal after it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "dnnsplit/tensor.h"

namespace dnnsplit::io {

struct NpyHeader {
  int major = 1;
  std::string descr;  // as written, e.g. "<f4"
  bool fortran_order = false;
  Shape shape;
  size_t data_offset = 0;  // where the array data starts in the file
};

// Parses the prefix of a .npy file up to the data. Throws Error naming `file` and the field.
NpyHeader parse_npy_header(std::string_view bytes, const std::string& file);

// The full prefix (magic, version, length, padded dict) for an array of this dtype and shape.
std::string format_npy_header(const std::string& descr, const Shape& shape);

}  // namespace dnnsplit::io
