// Wire format: packed bytes checked against hand-packed bytes, round trips bit-identical over
// every bit width and type, and every refusal names the tensor, index and value.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "dnnsplit/error.h"
#include "dnnsplit/wire.h"
#include "wire_proto.h"

namespace dnnsplit::wire {
namespace {

ir::QuantType quant(int bits, bool is_signed, bool narrow = false, std::vector<float> scale = {1.0F},
                    std::vector<float> zero_point = {0.0F}, int axis = -1) {
  ir::QuantType q;
  q.bits = bits;
  q.is_signed = is_signed;
  q.narrow = narrow;
  q.bipolar = false;
  q.scale = std::move(scale);
  q.zero_point = std::move(zero_point);
  q.channel_axis = axis;
  return q;
}

TensorSpec spec(Shape shape, std::optional<ir::QuantType> q, ElemType type = ElemType::kFloat) {
  return {"t", type, std::move(shape), std::move(q)};
}

std::string bytes_of(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(WirePack, Int2IsPackedLsbFirstInTwosComplement) {
  // -2, -1, 0, 1 -> codes 0b10, 0b11, 0b00, 0b01 -> byte 0b01'00'11'10 = 0x4E.
  const auto s = spec({1, 4}, quant(2, true));
  const Tensor t = Tensor::from_floats({1, 4}, {-2, -1, 0, 1});
  EXPECT_EQ(pack_tensor(s, t, "test"), bytes_of({0x4E}));
}

TEST(WirePack, Uint4TwoValuesPerByteAndZeroPadding) {
  // 1, 15, 3 with scale 0.5 stored as x = q * 0.5 -> bytes 0xF1, 0x03.
  const auto s = spec({1, 3}, quant(4, false, false, {0.5F}));
  const Tensor t = Tensor::from_floats({1, 3}, {0.5F, 7.5F, 1.5F});
  EXPECT_EQ(pack_tensor(s, t, "test"), bytes_of({0xF1, 0x03}));
  EXPECT_EQ(s.bytes_per_image(), 2);
}

TEST(WirePack, ZeroPointShiftsTheCode) {
  // UINT8 with zero point 128: x = (q - 128) * 0.25; x = -1 -> q = 124 = 0x7C.
  const auto s = spec({1, 2}, quant(8, false, false, {0.25F}, {128.0F}));
  const Tensor t = Tensor::from_floats({1, 2}, {-1.0F, 0.5F});
  EXPECT_EQ(pack_tensor(s, t, "test"), bytes_of({0x7C, 0x82}));
}

TEST(WirePack, BipolarIsOneBitPerValue) {
  ir::QuantType q;
  q.bits = 1;
  q.is_signed = true;
  q.bipolar = true;
  q.scale = {2.0F};
  const auto s = spec({1, 9}, q);
  const Tensor t = Tensor::from_floats({1, 9}, {2, -2, -2, 2, 2, 2, -2, -2, 2});
  // bits: 1,0,0,1,1,1,0,0 | 1 -> 0b00111001 = 0x39, 0x01
  const std::string packed = pack_tensor(s, t, "test");
  EXPECT_EQ(packed, bytes_of({0x39, 0x01}));
  EXPECT_TRUE(tensors_identical(unpack_tensor(s, packed, 1, "test"), t));
  // 0 is not a bipolar value.
  EXPECT_NE(error_of([&] { pack_tensor(s, Tensor::from_floats({1, 9}, {2, 0, 2, 2, 2, 2, 2, 2, 2}), "test"); }), "");
}

// Integers across the range, as the engine's quantizer computes x: (q - z) * s in double, once
// rounded to float32; must come back bit-identical. (Above 16 bits float32 cannot tell every
// code apart; pack_tensor then refuses rather than send a different value.)
TEST(WirePack, RoundTripEveryBitWidthSignednessAndNarrowness) {
  for (int bits : {1, 2, 3, 4, 5, 6, 7, 8, 12, 16}) {
    for (bool is_signed : {false, true}) {
      for (bool narrow : {false, true}) {
        if (bits == 1 && (is_signed || narrow)) continue;  // 1-bit signed is bipolar, above
        const auto q = quant(bits, is_signed, narrow, {0.0371F}, {is_signed ? 0.0F : 3.0F});
        const int64_t lo = q.min_int(), hi = q.max_int();
        const int64_t count = std::min<int64_t>(hi - lo + 1, 3000);
        std::vector<float> values;
        for (int64_t i = 0; i < count; ++i) {
          const int64_t code = lo + (hi - lo) * i / std::max<int64_t>(1, count - 1);
          values.push_back(static_cast<float>((static_cast<double>(code) - 3.0 * !is_signed) * static_cast<double>(0.0371F)));
        }
        const auto s = spec({1, static_cast<int64_t>(values.size())}, q);
        const Tensor t = Tensor::from_floats({1, static_cast<int64_t>(values.size())}, values);
        const std::string packed = pack_tensor(s, t, "test");
        EXPECT_EQ(static_cast<int64_t>(packed.size()), (static_cast<int64_t>(values.size()) * bits + 7) / 8)
            << bits << " bits";
        const Tensor back = unpack_tensor(s, packed, 1, "test");
        EXPECT_TRUE(tensors_identical(back, t)) << bits << " bits, signed " << is_signed << ", narrow " << narrow;
      }
    }
  }
}

TEST(WirePack, PerChannelScaleAlongAxis1AndBatchOfImages) {
  // [N=3, C=2, 2]: channel c has scale 0.5 * (c + 1).
  const auto q = quant(3, true, false, {0.5F, 1.0F}, {0.0F}, 1);
  const auto s = spec({1, 2, 2}, q);
  std::vector<float> v;
  for (int n = 0; n < 3; ++n) {
    for (int c = 0; c < 2; ++c) {
      for (int k = 0; k < 2; ++k) v.push_back(static_cast<float>((n + k - 2) * 0.5 * (c + 1)));
    }
  }
  const Tensor t = Tensor::from_floats({3, 2, 2}, v);
  const std::string packed = pack_tensor(s, t, "test");
  EXPECT_EQ(static_cast<int64_t>(packed.size()), (12 * 3 + 7) / 8);
  EXPECT_TRUE(tensors_identical(unpack_tensor(s, packed, 3, "test"), t));
  // Channel 1 holds -2.0, which per-tensor scale 0.25 would need code -8 for: outside INT3.
  const auto wrong = spec({1, 2, 2}, quant(3, true, false, {0.25F}, {0.0F}));
  EXPECT_NE(error_of([&] { pack_tensor(wrong, t, "test"); }).find("outside"), std::string::npos);
}

TEST(WirePack, RawFloatAndIntegerTensorsTravelAsTheirBytes) {
  const auto f = spec({1, 3}, std::nullopt);
  const Tensor t = Tensor::from_floats({1, 3}, {1.5F, -0.0F, std::nanf("")});
  const std::string packed = pack_tensor(f, t, "test");
  EXPECT_EQ(packed.size(), 12U);
  EXPECT_TRUE(tensors_identical(unpack_tensor(f, packed, 1, "test"), t));  // -0.0 and NaN bits kept

  const auto i8 = spec({1, 3}, std::nullopt, ElemType::kInt8);
  const Tensor ti = Tensor::from_ints(ElemType::kInt8, {1, 3}, {-128, 5, 127});
  EXPECT_EQ(pack_tensor(i8, ti, "test"), bytes_of({0x80, 0x05, 0x7F}));
  EXPECT_TRUE(tensors_identical(unpack_tensor(i8, pack_tensor(i8, ti, "test"), 1, "test"), ti));

  const auto i64 = spec({1, 2}, std::nullopt, ElemType::kInt64);
  const Tensor tl = Tensor::from_ints(ElemType::kInt64, {1, 2}, {-3, int64_t{1} << 40});
  EXPECT_TRUE(tensors_identical(unpack_tensor(i64, pack_tensor(i64, tl, "test"), 1, "test"), tl));
  EXPECT_EQ(i64.bytes_per_image(), 16);
}

TEST(WirePack, NegativeZeroComesBackAsPositiveZero) {
  const auto s = spec({1, 2}, quant(2, true, false, {0.5F}));
  const Tensor t = Tensor::from_floats({1, 2}, {-0.0F, 0.5F});
  const Tensor back = unpack_tensor(s, pack_tensor(s, t, "test"), 1, "test");
  EXPECT_EQ(back.f32[0], 0.0F);
  EXPECT_FALSE(std::signbit(back.f32[0]));
  EXPECT_EQ(back.f32[1], 0.5F);
}

TEST(WirePack, RefusesValuesOffTheGridOutOfRangeOrNotFinite) {
  const auto s = spec({1, 3}, quant(2, false, false, {0.5F}));
  const std::string off = error_of([&] { pack_tensor(s, Tensor::from_floats({1, 3}, {0.5F, 0.7F, 0.0F}), "batch 7"); });
  EXPECT_NE(off.find("batch 7"), std::string::npos) << off;
  EXPECT_NE(off.find("'t'"), std::string::npos) << off;
  EXPECT_NE(off.find("index 1"), std::string::npos) << off;
  EXPECT_NE(off.find("not on its grid"), std::string::npos) << off;
  const std::string range = error_of([&] { pack_tensor(s, Tensor::from_floats({1, 3}, {0, 0, 2.0F}), "x"); });
  EXPECT_NE(range.find("outside"), std::string::npos) << range;
  EXPECT_NE(range.find("index 2"), std::string::npos) << range;
  const std::string nan = error_of([&] { pack_tensor(s, Tensor::from_floats({1, 3}, {0, std::nanf(""), 0}), "x"); });
  EXPECT_NE(nan.find("not finite"), std::string::npos) << nan;
  const std::string shape = error_of([&] { pack_tensor(s, Tensor::from_floats({1, 4}, {0, 0, 0, 0}), "x"); });
  EXPECT_NE(shape.find("shape [1, 4]"), std::string::npos) << shape;
  const std::string type = error_of([&] { pack_tensor(s, Tensor::from_ints(ElemType::kInt64, {1, 3}, {0, 0, 0}), "x"); });
  EXPECT_NE(type.find("element type int64"), std::string::npos) << type;
}

TEST(WirePack, UnpackRefusesWrongLengthsOutOfRangeCodesAndDirtyPadding) {
  const auto s = spec({1, 3}, quant(2, true, true));  // narrow INT2: -1..1, code 0b10 (-2) invalid
  EXPECT_NE(error_of([&] { unpack_tensor(s, bytes_of({0x00, 0x00}), 1, "x"); }).find("2 bytes for 1 images"),
            std::string::npos);
  const std::string code = error_of([&] { unpack_tensor(s, bytes_of({0x02}), 1, "x"); });
  EXPECT_NE(code.find("code -2 at index 0"), std::string::npos) << code;
  const std::string padding = error_of([&] { unpack_tensor(s, bytes_of({0x40}), 1, "x"); });
  EXPECT_NE(padding.find("padding"), std::string::npos) << padding;
  EXPECT_NE(error_of([&] { unpack_tensor(s, "", 0, "x"); }), "");
  const auto b = spec({1, 1}, std::nullopt, ElemType::kBool);
  EXPECT_NE(error_of([&] { unpack_tensor(b, bytes_of({0x02}), 1, "x"); }).find("not a bool"), std::string::npos);
}

TEST(WireSpec, DifferencesAreNamedAndBatchDimensionIsFree) {
  const auto a = spec({1, 4}, quant(2, true));
  auto b = a;
  b.shape = {7, 4};
  EXPECT_EQ(spec_difference(a, b), "");
  b.shape = {1, 5};
  EXPECT_NE(spec_difference(a, b).find("shape [1, 5]"), std::string::npos);
  b = a;
  b.quant->bits = 3;
  EXPECT_NE(spec_difference(a, b).find("INT3"), std::string::npos);
  b = a;
  b.quant->scale = {0.5F};
  EXPECT_NE(spec_difference(a, b).find("scale"), std::string::npos);
  b = a;
  b.name = "u";
  EXPECT_NE(spec_difference(a, b).find("'u'"), std::string::npos);
  b = a;
  b.quant.reset();
  EXPECT_NE(spec_difference(a, b).find("no quantized type"), std::string::npos);
}

TEST(WireSpec, ProtoRoundTripKeepsEveryField) {
  const auto a = spec({1, 2, 3}, quant(5, true, true, {0.5F, 0.25F}, {0.0F}, 1), ElemType::kFloat);
  const TensorSpec back = spec_from_proto(spec_to_proto(a), "test");
  EXPECT_EQ(spec_difference(a, back), "");
  EXPECT_EQ(back.shape, a.shape);
  v1::TensorSpec bad = spec_to_proto(a);
  bad.set_onnx_type(999);
  EXPECT_NE(error_of([&] { spec_from_proto(bad, "stream"); }).find("tensor 't'"), std::string::npos);
}

TEST(WireSha256, KnownVectorsAndIncrementalUpdates) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 sha;
  sha.update("a");
  sha.update("bc");
  EXPECT_EQ(sha.finish_hex(), sha256_hex("abc"));
  EXPECT_TRUE(is_sha256_hex(sha256_hex("x")));
  EXPECT_FALSE(is_sha256_hex("../../etc/passwd"));
  EXPECT_FALSE(is_sha256_hex(std::string(64, 'A')));
}

}  // namespace
}  // namespace dnnsplit::wire
