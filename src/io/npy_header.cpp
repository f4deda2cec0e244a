#include "npy_header.h"

#include <cstdint>
#include <limits>
#include <optional>

#include "dnnsplit/error.h"

namespace dnnsplit::io {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kAlignment = 64;  // NumPy pads the prefix so the data is 64-byte aligned

// A recursive-descent reader for the one dict literal NumPy writes: string keys, and values
// that are strings, True/False or tuples of non-negative integers. Nothing else is valid.
class DictReader {
 public:
  DictReader(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  NpyHeader read() {
    NpyHeader header;
    bool seen_descr = false;
    bool seen_fortran = false;
    bool seen_shape = false;
    skip_space();
    expect('{', "the header dict must start with '{'");
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = read_string("a dict key");
      skip_space();
      expect(':', "expected ':' after key '" + key + "'");
      skip_space();
      if (key == "descr") {
        check_unique(seen_descr, key);
        if (peek() == '[') fail("field 'descr': structured dtypes are not supported");
        header.descr = read_string("field 'descr'");
      } else if (key == "fortran_order") {
        check_unique(seen_fortran, key);
        header.fortran_order = read_bool("field 'fortran_order'");
      } else if (key == "shape") {
        check_unique(seen_shape, key);
        header.shape = read_shape();
      } else {
        fail("unexpected header key '" + key + "' (allowed: descr, fortran_order, shape)");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}' after field '" + key + "'");
    }
    ++pos_;
    skip_space();  // the padding: spaces and the final newline
    if (pos_ != text_.size()) fail("unexpected text after the header dict");
    if (!seen_descr) fail("the header has no field 'descr'");
    if (!seen_fortran) fail("the header has no field 'fortran_order'");
    if (!seen_shape) fail("the header has no field 'shape'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(file_ + ": invalid .npy header: " + what); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c, const std::string& what) {
    if (peek() != c) fail(what);
    ++pos_;
  }
  void check_unique(bool& seen, const std::string& key) const {
    if (seen) fail("field '" + key + "' appears twice");
    seen = true;
  }

  std::string read_string(const std::string& what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(what + " must be a quoted string");
    const size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') fail(what + " contains an escape sequence");
      ++pos_;
    }
    if (pos_ == text_.size()) fail(what + " is an unterminated string");
    return std::string(text_.substr(start, pos_++ - start));
  }

  bool read_bool(const std::string& what) {
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail(what + " must be True or False");
  }

  Shape read_shape() {
    expect('(', "field 'shape' must be a tuple such as (4, 1, 28, 28)");
    Shape shape;
    bool trailing_comma = false;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      shape.push_back(read_dimension());
      skip_space();
      trailing_comma = peek() == ',';
      if (trailing_comma) {
        ++pos_;
      } else if (peek() != ')') {
        fail("field 'shape' must be a tuple of non-negative integers");
      }
    }
    ++pos_;
    // In Python "(3)" is the integer 3, not a tuple: NumPy rejects it, so do we.
    if (shape.size() == 1 && !trailing_comma) fail("field 'shape' is '(n)', which is not a tuple; write '(n,)'");
    return shape;
  }

  int64_t read_dimension() {
    if (peek() < '0' || peek() > '9') fail("field 'shape' must be a tuple of non-negative integers");
    int64_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const int digit = peek() - '0';
      if (value > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("field 'shape' has a dimension too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (peek() == 'L') ++pos_;  // Python 2 wrote long integers as "3L"
    return value;
  }

  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(std::string_view bytes, const std::string& file) {
  check(bytes.size() >= kMagic.size() + 2 && bytes.substr(0, kMagic.size()) == kMagic,
        file + ": not a .npy file (the magic string \\x93NUMPY is missing)");
  const auto major = static_cast<uint8_t>(bytes[6]);
  const auto minor = static_cast<uint8_t>(bytes[7]);
  check((major == 1 || major == 2 || major == 3) && minor == 0,
        file + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
            " (supported: 1.0, 2.0, 3.0)");
  // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4 (little-endian).
  const size_t length_bytes = major == 1 ? 2 : 4;
  check(bytes.size() >= 8 + length_bytes, file + ": .npy file truncated inside the header length field");
  size_t header_length = 0;
  for (size_t i = 0; i < length_bytes; ++i) {
    header_length |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
  }
  const size_t start = 8 + length_bytes;
  check(header_length <= bytes.size() - start, file + ": .npy file truncated: the header length field says " +
                                                   std::to_string(header_length) + " bytes but only " +
                                                   std::to_string(bytes.size() - start) + " follow");
  NpyHeader header = DictReader(bytes.substr(start, header_length), file).read();
  header.major = major;
  header.data_offset = start + header_length;
  return header;
}

std::string format_npy_header(const std::string& descr, const Shape& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  // Pad with spaces so that magic + version + length + dict + '\n' is a multiple of 64.
  auto padded_length = [&](size_t prefix) {
    const size_t unpadded = prefix + dict.size() + 1;
    return dict.size() + 1 + (kAlignment - unpadded % kAlignment) % kAlignment;
  };
  const bool v1 = padded_length(10) <= std::numeric_limits<uint16_t>::max();
  const size_t length = padded_length(v1 ? 10 : 12);
  dict.resize(length - 1, ' ');
  dict += '\n';
  std::string out(kMagic);
  out += static_cast<char>(v1 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < (v1 ? 2U : 4U); ++i) out += static_cast<char>((length >> (8 * i)) & 0xFF);
  return out + dict;
}

}  // namespace dnnsplit::io
