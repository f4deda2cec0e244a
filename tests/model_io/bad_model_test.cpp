#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "test_models.h"

namespace dnnsplit {
namespace {

// Runs the import and returns the error message (fails the test when no Error is thrown).
std::string import_error(const std::string& bytes, const std::string& name = "bad.onnx") {
  try {
    import_model_from_bytes(bytes, name);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "import did not fail";
  return "";
}

TEST(BadModel, GarbageBytes) {
  const auto msg = import_error("this is not a protobuf at all \x01\x02\x03\xff\xfe");
  EXPECT_NE(msg.find("bad.onnx"), std::string::npos);
}

}  // namespace
}  // namespace dnnsplit

namespace dnnsplit {
namespace {

// (1,3) + (1,4): incompatible broadcast in node 'mismatched_add'.
onnx::ModelProto mismatched_add_model() {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, 3});
  testing::add_float_init(m, "b", {1, 4}, {1, 2, 3, 4});
  testing::add_node(m, "Add", "mismatched_add", {"x", "b"}, {"y"});
  testing::add_output(m, "y", {1, 4});
  return m;
}

TEST(BadModel, EmptyFile) { EXPECT_NE(import_error("").find("empty"), std::string::npos); }

TEST(BadModel, TruncatedFile) {
  const std::string bytes = testing::serialize(testing::small_conv_model());
  const auto msg = import_error(bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(msg.find("bad.onnx"), std::string::npos);
}

TEST(BadModel, MissingFileNamesThePath) {
  try {
    import_model("/nonexistent/dir/model.onnx");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.onnx"), std::string::npos);
  }
}

TEST(BadModel, UnknownOpNamesTheNode) {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, 4});
  testing::add_node(m, "FrobnicateOp", "mystery_node", {"x"}, {"y"}, "com.example");
  testing::add_output(m, "y", {1, 4});
  const auto msg = import_error(testing::serialize(m));
  EXPECT_NE(msg.find("mystery_node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FrobnicateOp"), std::string::npos) << msg;
}

TEST(BadModel, UnknownStandardOpNamesTheNode) {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, 4});
  testing::add_node(m, "NotAnOnnxOp", "odd_node", {"x"}, {"y"});
  testing::add_output(m, "y", {1, 4});
  const auto msg = import_error(testing::serialize(m));
  EXPECT_NE(msg.find("NotAnOnnxOp"), std::string::npos) << msg;
}

TEST(BadModel, MissingInitializerNamesTheInput) {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, 4});
  testing::add_node(m, "Add", "add_bias", {"x", "bias_that_is_missing"}, {"y"});
  testing::add_output(m, "y", {1, 4});
  const auto msg = import_error(testing::serialize(m));
  EXPECT_NE(msg.find("bias_that_is_missing"), std::string::npos) << msg;
}

TEST(BadModel, ShapeMismatchNamesTheNode) {
  const auto msg = import_error(testing::serialize(mismatched_add_model()));
  EXPECT_NE(msg.find("mismatched_add"), std::string::npos) << msg;
}

TEST(BadModel, DynamicNonBatchDimension) {
  auto m = testing::empty_model();
  testing::add_input(m, "x", {1, -1});
  testing::add_node(m, "Relu", "relu", {"x"}, {"y"});
  testing::add_output(m, "y", {1, -1});
  const auto msg = import_error(testing::serialize(m));
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dimension 1"), std::string::npos) << msg;
}

TEST(BadModel, NonIntegerBitwidth) {
  auto m = testing::small_conv_model();
  for (auto& init : *m.mutable_graph()->mutable_initializer()) {
    if (init.name() == "w_q_bits") init.set_float_data(0, 2.5F);
  }
  const auto msg = import_error(testing::serialize(m));
  EXPECT_NE(msg.find("w_q"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bitwidth"), std::string::npos) << msg;
}

TEST(BadModel, ErrorsAreOneLine) {
  const auto msg = import_error(testing::serialize(mismatched_add_model()));
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

}  // namespace
}  // namespace dnnsplit
