// IDX files (the MNIST family's format), gzip'd or plain, holding unsigned bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dnnsplit::io {

struct IdxArray {
  std::vector<int64_t> dims;  // as declared in the header; dims[0] is the item count
  int64_t items_read = 0;     // how many items `data` holds
  std::vector<uint8_t> data;  // items_read * (product of dims[1..])
};

// Reads the header and the first min(max_items, dims[0]) items (all when max_items < 0).
// The file must declare unsigned bytes (type 0x08) and exactly `ndims` dimensions, all > 0.
// When every item is read, any byte after them is an error (this also makes zlib verify the
// gzip checksum). Throws Error naming the file.
IdxArray read_idx_ubyte(const std::string& path, int ndims, int64_t max_items);

}  // namespace dnnsplit::io
