#include <string>

#include "dnnsplit/ir.h"

namespace dnnsplit::ir {

int64_t QuantType::min_int() const {
  if (bipolar) return -1;
  if (!is_signed) return 0;
  const int64_t lowest = -(int64_t{1} << (bits - 1));
  return narrow ? lowest + 1 : lowest;
}

int64_t QuantType::max_int() const {
  if (bipolar) return 1;
  if (!is_signed) {
    const int64_t highest = (int64_t{1} << bits) - 1;
    return narrow ? highest - 1 : highest;
  }
  return (int64_t{1} << (bits - 1)) - 1;
}

std::string QuantType::finn_name() const {
  if (bipolar) return "BIPOLAR";
  if (bits == 1 && !is_signed) return "BINARY";
  return (is_signed ? "INT" : "UINT") + std::to_string(bits);
}

}  // namespace dnnsplit::ir
