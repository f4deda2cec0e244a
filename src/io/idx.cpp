#include "idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>

#include "dnnsplit/error.h"

namespace dnnsplit::io {

namespace {

constexpr uint8_t kTypeUnsignedByte = 0x08;
constexpr uint64_t kReadChunk = uint64_t{1} << 24;

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// Appends exactly size bytes to out; gzread reads plain files transparently, so both forms work.
// The buffer grows as data arrives, so a header claiming terabytes fails on the missing data,
// not on allocation.
void read_exact(gzFile file, std::vector<uint8_t>& out, uint64_t size, const std::string& path,
                const std::string& what) {
  uint64_t done = 0;
  while (done < size) {
    const uint64_t want = std::min(size - done, kReadChunk);
    const size_t old_size = out.size();
    out.resize(old_size + want);
    const int got = gzread(file, out.data() + old_size, static_cast<unsigned>(want));
    out.resize(old_size + static_cast<size_t>(std::max(got, 0)));
    if (got <= 0) {
      int code = Z_OK;
      const char* message = gzerror(file, &code);
      std::string reason = "the file ends early";
      if (got < 0 || (code != Z_OK && code != Z_STREAM_END)) reason = std::string("zlib: ") + message;
      throw Error(path + ": truncated or corrupt IDX file: " + what + " needs " + std::to_string(size) +
                  " bytes, got " + std::to_string(done) + " (" + reason + ")");
    }
    done += static_cast<uint64_t>(got);
  }
}

std::string hex_byte(uint8_t b) {
  const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

}  // namespace

IdxArray read_idx_ubyte(const std::string& path, int ndims, int64_t max_items) {
  GzHandle file(gzopen(path.c_str(), "rb"));
  if (!file) throw Error("cannot open IDX file '" + path + "': " + std::strerror(errno));
  gzbuffer(file.get(), 1 << 17);

  std::vector<uint8_t> magic;
  read_exact(file.get(), magic, 4, path, "the magic number");
  check(magic[0] == 0 && magic[1] == 0, path + ": not an IDX file (the magic number must start with two zero bytes)");
  check(magic[2] == kTypeUnsignedByte,
        path + ": IDX element type " + hex_byte(magic[2]) + " is not unsigned byte (0x08)");
  check(magic[3] == ndims,
        path + ": IDX file has " + std::to_string(magic[3]) + " dimensions, expected " + std::to_string(ndims));

  IdxArray array;
  uint64_t item_size = 1;
  for (int i = 0; i < ndims; ++i) {
    std::vector<uint8_t> b;
    read_exact(file.get(), b, 4, path, "dimension " + std::to_string(i));
    const int64_t d = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
    check(d > 0, path + ": IDX dimension " + std::to_string(i) + " is 0");
    array.dims.push_back(d);
    if (i > 0) {
      check(!__builtin_mul_overflow(item_size, static_cast<uint64_t>(d), &item_size) && item_size < (uint64_t{1} << 40),
            path + ": IDX items of more than 2^40 bytes");
    }
  }
  const int64_t count = array.dims[0];
  array.items_read = max_items < 0 ? count : std::min(max_items, count);
  // count < 2^32 and item_size < 2^40: the product fits in 64 bits.
  read_exact(file.get(), array.data, static_cast<uint64_t>(array.items_read) * item_size, path,
             std::to_string(array.items_read) + " items of " + std::to_string(item_size) + " bytes");
  if (array.items_read == count) {
    uint8_t extra = 0;
    const int got = gzread(file.get(), &extra, 1);
    int code = Z_OK;
    const char* message = gzerror(file.get(), &code);
    check(got >= 0 && (code == Z_OK || code == Z_STREAM_END),
          path + ": corrupt gzip data after the last item (zlib: " + message + ")");
    check(got == 0, path + ": unexpected bytes after the " + std::to_string(count) + " items the header declares");
  }
  return array;
}

}  // namespace dnnsplit::io
