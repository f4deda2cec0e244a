// Writing IDX files (optionally gzip'd) in tests, spelled out from the format description.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dnnsplit::test {

inline std::string gzip(const std::string& raw) {
  z_stream stream{};
  // windowBits 15 + 16: write a gzip wrapper, as the dataset files have.
  EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, raw.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

inline std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// IDX: two zero bytes, the element type (0x08 = unsigned byte), the dimension count, the
// dimensions as big-endian 32-bit integers, then the data.
inline std::string idx(const std::vector<uint32_t>& dims, const std::string& data, char type = 0x08) {
  std::string out = {0, 0, type, static_cast<char>(dims.size())};
  for (uint32_t d : dims) out += be32(d);
  return out + data;
}

}  // namespace dnnsplit::test
