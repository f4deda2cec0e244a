// .npy reader and writer against hand-written byte strings (NumPy format spec 1.0/2.0/3.0) and
// files written by NumPy itself (the shared fixtures).
#include "dnnsplit/npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "dnnsplit/error.h"
#include "io_test_util.h"

namespace dnnsplit {
namespace {

using namespace std::string_literals;
using test::bytes_of;
using test::expect_error;
using test::npy_file;

struct DtypeCase {
  std::string descr;
  ElemType type;
  std::string shape;  // as written in the header
  Shape expected_shape;
  std::string data;  // little-endian bytes, written out by hand
  std::vector<double> expected;
};

TEST(NpyRead, EveryDtypeFromHandWrittenBytes) {
  const std::vector<DtypeCase> cases = {
      {"<f4", ElemType::kFloat, "(2,)", {2}, "\x00\x00\x80\x3f\x00\x00\x00\xc0"s, {1.0, -2.0}},
      {"<f8",
       ElemType::kDouble,
       "(2,)",
       {2},
       "\x00\x00\x00\x00\x00\x00\xf8\x3f\x00\x00\x00\x00\x00\x00\xd0\xbf"s,
       {1.5, -0.25}},
      {"<i8",
       ElemType::kInt64,
       "(2,)",
       {2},
       "\xff\xff\xff\xff\xff\xff\xff\xff\x08\x07\x06\x05\x04\x03\x02\x01"s,
       {-1.0, static_cast<double>(0x0102030405060708LL)}},
      {"<i4", ElemType::kInt32, "(2,)", {2}, "\xfe\xff\xff\xff\x00\x00\x01\x00"s, {-2.0, 65536.0}},
      {"<i2", ElemType::kInt16, "(2,)", {2}, "\x00\x80\x02\x01"s, {-32768.0, 258.0}},
      {"|i1", ElemType::kInt8, "(2,)", {2}, "\x80\x7f"s, {-128.0, 127.0}},
      {"|u1", ElemType::kUint8, "(2,)", {2}, "\xff\x00"s, {255.0, 0.0}},
      {"<u2", ElemType::kUint16, "(2,)", {2}, "\xff\xff\x01\x00"s, {65535.0, 1.0}},
      {"<u4", ElemType::kUint32, "(1,)", {1}, "\xff\xff\xff\xff"s, {4294967295.0}},
      {"<u8",
       ElemType::kUint64,
       "(1,)",
       {1},
       "\x08\x07\x06\x05\x04\x03\x02\x01"s,
       {static_cast<double>(0x0102030405060708LL)}},
      {"|b1", ElemType::kBool, "(3,)", {3}, "\x00\x01\x01"s, {0.0, 1.0, 1.0}},
      // Byte-order marks that mean the same thing here.
      {"=f4", ElemType::kFloat, "(1,)", {1}, "\x00\x00\x80\x3f"s, {1.0}},
      {"<i1", ElemType::kInt8, "(1,)", {1}, "\xff"s, {-1.0}},
      {">u1", ElemType::kUint8, "(1,)", {1}, "\x07"s, {7.0}},
      // Shapes: scalar, 2-d, empty.
      {"<i2", ElemType::kInt16, "()", {}, "\x05\x00"s, {5.0}},
      {"|u1", ElemType::kUint8, "(2, 3)", {2, 3}, "\x01\x02\x03\x04\x05\x06"s, {1, 2, 3, 4, 5, 6}},
      {"<f4", ElemType::kFloat, "(3, 0, 2)", {3, 0, 2}, "", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.descr + " " + c.shape);
    const std::string dict = "{'descr': '" + c.descr + "', 'fortran_order': False, 'shape': " + c.shape + ", }\n";
    const Tensor t = parse_npy(npy_file(dict, c.data), "case.npy");
    EXPECT_EQ(t.type, c.type);
    EXPECT_EQ(t.shape, c.expected_shape);
    EXPECT_EQ(t.as_doubles(), c.expected);
  }
}

TEST(NpyRead, Uint64KeepsItsBitPattern) {
  const Tensor t = parse_npy(
      npy_file("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", "\xff\xff\xff\xff\xff\xff\xff\xff"s),
      "u8.npy");
  ASSERT_EQ(t.i64.size(), 1U);
  EXPECT_EQ(static_cast<uint64_t>(t.i64[0]), 18446744073709551615ULL);
}

TEST(NpyRead, ToleratesHeaderSpellings) {
  const std::string one = "\x00\x00\x80\x3f"s;
  const std::vector<std::string> dicts = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" + std::string(40, ' ') + "\n",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,)}",  // double quotes, no trailing comma
      "{ 'shape' : ( 1 , ) ,\t'fortran_order':False,'descr':'<f4' }\n",   // any order, odd spacing
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1L,), }\n",     // Python 2 long
  };
  for (const auto& dict : dicts) {
    SCOPED_TRACE(dict);
    const Tensor t = parse_npy(npy_file(dict, one), "spell.npy");
    EXPECT_EQ(t.shape, Shape{1});
    EXPECT_EQ(t.f32, std::vector<float>{1.0F});
  }
}

TEST(NpyRead, Versions2And3UseAFourByteHeaderLength) {
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    const Tensor t = parse_npy(
        npy_file("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }\n", "\x01\x00\xff\xff"s, major), "v.npy");
    EXPECT_EQ(t.i64, (std::vector<int64_t>{1, -1}));
  }
}

TEST(NpyRead, RejectsBadFilesNamingFileAndField) {
  const std::string f4 = "\x00\x00\x80\x3f"s;
  auto with_descr = [&](const std::string& descr) {
    return npy_file("{'descr': " + descr + ", 'fortran_order': False, 'shape': (1,), }\n", f4);
  };
  auto with_shape = [&](const std::string& shape, const std::string& descr = "<f4") {
    return npy_file("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n", f4);
  };
  struct Bad {
    std::string bytes;
    std::vector<std::string> message_parts;
  };
  const std::vector<Bad> cases = {
      {"", {"magic"}},
      {"\x93NUMPX\x01\x00"s, {"magic"}},
      {"\x93NUMPY\x04\x00\x10\x00"s, {"version 4.0"}},
      {"\x93NUMPY\x01\x01\x10\x00"s, {"version 1.1"}},
      {"\x93NUMPY\x01\x00\x10"s, {"header length"}},
      {"\x93NUMPY\x01\x00\xff\x00{}"s, {"header length field says 255"}},
      {with_descr("'>f4'"), {"'descr'", "big-endian"}},
      {with_descr("'|f4'"), {"'descr'", "one-byte"}},
      {with_descr("'|O'"), {"'descr'", "object"}},
      {with_descr("[('a', '<f4')]"), {"'descr'", "structured"}},
      {with_descr("'<U1'"), {"'descr'", "string"}},
      {with_descr("'<c8'"), {"'descr'", "complex"}},
      {with_descr("'<f2'"), {"'descr'", "float16"}},
      {with_descr("'x'"), {"'descr'"}},
      {with_descr("<f4"), {"'descr'", "quoted"}},
      {npy_file("{'descr': '<f4", f4), {"'descr'", "unterminated"}},
      {npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", f4), {"'fortran_order'", "Fortran"}},
      {npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }", f4), {"'fortran_order'", "True or False"}},
      {npy_file("{'descr': '<f4', 'fortran_order': False}", f4), {"'shape'"}},
      {npy_file("{'fortran_order': False, 'shape': (1,)}", f4), {"'descr'"}},
      {npy_file("{'descr': '<f4', 'shape': (1,)}", f4), {"'fortran_order'"}},
      {npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", f4), {"'descr'", "twice"}},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", f4), {"'extra'"}},
      {npy_file("['descr']", f4), {"'{'"}},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", f4), {"after the header dict"}},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) 'x'}", f4), {"'shape'", "','"}},
      {with_shape("[1]"), {"'shape'", "tuple"}},
      {with_shape("(-1,)"), {"'shape'", "non-negative"}},
      {with_shape("(2.5,)"), {"'shape'", "non-negative"}},
      {with_shape("(1)"), {"'shape'", "(n,)"}},
      {with_shape("(99999999999999999999,)"), {"'shape'", "too large"}},
      {with_shape("(4294967296, 4294967296)"), {"'shape'", "elements"}},
      {with_shape("(4611686018427387904,)", "<f8"), {"'shape'", "bytes"}},
      {with_shape("(2,)"), {"truncated", "needs 8 bytes", "has 4"}},
      {npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4 + "x"), {"1 unexpected bytes"}},
      {npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", "\x01\x02"s), {"bool element 1", "2"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.bytes);
    auto parts = c.message_parts;
    parts.push_back("bad.npy");
    expect_error([&] { parse_npy(c.bytes, "bad.npy"); }, parts);
  }
}

TEST(NpyRead, MissingFileNamesIt) {
  expect_error([] { read_npy("/nonexistent/dir/x.npy"); }, {"cannot open .npy file '/nonexistent/dir/x.npy'"});
}

TEST(NpyWrite, BytesFollowTheSpec) {
  // Header padded with spaces to a multiple of 64 bytes in all (here 128), ending in '\n'; then the raw values.
  const std::string dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }";
  const std::string expected_header =
      "\x93NUMPY\x01\x00\x76\x00"s + dict + std::string(128 - 10 - dict.size() - 1, ' ') + "\n";
  ASSERT_EQ(expected_header.size(), 128U);
  EXPECT_EQ(npy_to_bytes(Tensor::from_ints(ElemType::kUint8, {2}, {7, 255})), expected_header + "\x07\xff"s);
  const std::string scalar = npy_to_bytes(Tensor::from_floats({}, {1.0F}));
  EXPECT_NE(scalar.find("'shape': (), }"), std::string::npos);
  const std::string matrix = npy_to_bytes(Tensor::from_ints(ElemType::kInt16, {2, 1}, {1, -2}));
  EXPECT_NE(matrix.find("'descr': '<i2'"), std::string::npos);
  EXPECT_NE(matrix.find("'shape': (2, 1), }"), std::string::npos);
  EXPECT_EQ(matrix.substr(matrix.size() - 4), "\x01\x00\xfe\xff"s);
}

TEST(NpyWrite, RoundTripsEveryElementType) {
  const test::TempDir dir;
  std::vector<Tensor> tensors = {
      Tensor::from_floats({2, 2}, {1.5F, -0.0F, std::nanf(""), -INFINITY}),
      Tensor::from_ints(ElemType::kInt64, {3}, {INT64_MIN, -1, INT64_MAX}),
      Tensor::from_ints(ElemType::kInt32, {2}, {INT32_MIN, INT32_MAX}),
      Tensor::from_ints(ElemType::kInt16, {2}, {-32768, 32767}),
      Tensor::from_ints(ElemType::kInt8, {2}, {-128, 127}),
      Tensor::from_ints(ElemType::kUint8, {1, 2}, {0, 255}),
      Tensor::from_ints(ElemType::kUint16, {1}, {65535}),
      Tensor::from_ints(ElemType::kUint32, {1}, {4294967295}),
      Tensor::from_ints(ElemType::kUint64, {2}, {-1, 0}),
      Tensor::from_ints(ElemType::kBool, {3}, {1, 0, 1}),
      Tensor::from_ints(ElemType::kInt8, {0, 3}, {}),
  };
  Tensor f64;
  f64.type = ElemType::kDouble;
  f64.shape = {2};
  f64.f64 = {0.1, -1e300};
  tensors.push_back(f64);
  for (const auto& t : tensors) {
    SCOPED_TRACE(elem_type_name(t.type) + " " + shape_to_string(t.shape));
    const std::string path = dir.path() + "/t.npy";
    write_npy(path, t);
    const Tensor back = read_npy(path);
    EXPECT_TRUE(tensors_identical(t, back));
    const std::string bytes = bytes_of(path);
    const size_t data_offset = bytes.find('\n') + 1;
    EXPECT_EQ(data_offset % 64, 0U) << "the data must start 64-byte aligned";
  }
  EXPECT_EQ(test::files_in(dir.path()), std::vector<std::string>{"t.npy"}) << "no temporary files left";
}

TEST(NpyWrite, LongHeaderSwitchesToVersion2) {
  const Tensor t = Tensor::from_floats(Shape(22000, 1), {2.0F});  // "1, " x 22000 > 65535 bytes
  const std::string bytes = npy_to_bytes(t);
  EXPECT_EQ(bytes[6], '\x02');
  EXPECT_EQ(bytes.find('\n') % 64, 63U);
  EXPECT_TRUE(tensors_identical(parse_npy(bytes, "long.npy"), t));
}

TEST(NpyWrite, RejectsValuesThatDoNotFitAndKeepsTheOldFile) {
  const test::TempDir dir;
  const std::string path = dir.path() + "/keep.npy";
  const Tensor old = Tensor::from_ints(ElemType::kUint8, {1}, {9});
  write_npy(path, old);
  expect_error(
      [&] {
        write_npy(path, Tensor::from_ints(ElemType::kInt8, {2}, {1, 200}));
      },
      {path, "value 200 at index 1", "int8"});
  expect_error([&] { write_npy(path, Tensor::from_ints(ElemType::kBool, {1}, {2})); }, {"value 2", "bool"});
  expect_error([&] { write_npy(path, Tensor::from_ints(ElemType::kUint16, {1}, {-1})); }, {"value -1", "uint16"});
  Tensor short_storage = Tensor::from_floats({2}, {1.0F, 2.0F});
  short_storage.f32.pop_back();
  expect_error([&] { write_npy(path, short_storage); }, {"holds 1 values"});
  EXPECT_TRUE(tensors_identical(read_npy(path), old));
  EXPECT_EQ(test::files_in(dir.path()), std::vector<std::string>{"keep.npy"});
  expect_error([&] { write_npy(dir.path() + "/no/such/dir/x.npy", old); }, {"cannot write .npy file", "no/such/dir"});
}

TEST(NpyFixtures, ReadsAndRewritesNumPyFilesByteForByte) {
  const std::string dir = std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/finn";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "fixtures not found at " << dir;
  const Tensor input = read_npy(dir + "/tfc_w1a1_input.npy");
  EXPECT_EQ(input.type, ElemType::kFloat);
  EXPECT_EQ(input.shape, (Shape{4, 1, 28, 28}));
  for (float v : input.f32) {
    ASSERT_TRUE(v >= 0.0F && v <= 255.0F && v == std::floor(v)) << v;
  }
  const Tensor expected = read_npy(dir + "/tfc_w1a1_expected_output.npy");
  EXPECT_EQ(expected.type, ElemType::kInt64);
  EXPECT_EQ(expected.shape, Shape{4});
  EXPECT_EQ(expected.i64, (std::vector<int64_t>{7, 2, 1, 0}));  // the fixture README's labels
  // Our writer produces the same bytes NumPy wrote.
  EXPECT_EQ(npy_to_bytes(expected), bytes_of(dir + "/tfc_w1a1_expected_output.npy"));
  EXPECT_EQ(npy_to_bytes(input), bytes_of(dir + "/tfc_w1a1_input.npy"));
}

}  // namespace
}  // namespace dnnsplit
