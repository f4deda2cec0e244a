// Bad input to the dnnsplit binary: every case must exit with code 2 and print exactly one line,
// "dnnsplit: error: ...", naming the file / node / field at fault.
#include <gtest/gtest.h>

#include "cli_models.h"
#include "cli_test_util.h"
#include "dnnsplit/npy.h"

namespace dnnsplit {
namespace {

using namespace std::string_literals;
using test::expect_cli_error;
using test::run_cli;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = test::write_model(dir_.path() + "/add_relu.onnx", test::add_relu_model());
    input_ = dir_.path() + "/in.npy";
    write_npy(input_, Tensor::from_floats({1, 4}, {1.0F, 2.0F, 3.0F, 4.0F}));
  }
  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string path = dir_.path() + "/" + name;
    test::write_bytes(path, bytes);
    return path;
  }
  test::TempDir dir_;
  std::string model_;
  std::string input_;
};

TEST_F(BadInput, GarbageOnnx) {
  const std::string path = file("garbage.onnx", "this is not an ONNX model\n");
  expect_cli_error(run_cli({"exec", path, "--input", input_}), {path});
}

TEST_F(BadInput, TruncatedOnnx) {
  const std::string bytes = testing::serialize(test::add_relu_model());
  const std::string path = file("truncated.onnx", bytes.substr(0, bytes.size() / 2));
  expect_cli_error(run_cli({"exec", path, "--input", input_}), {path});
}

TEST_F(BadInput, MissingModelFile) {
  const std::string path = dir_.path() + "/nowhere.onnx";
  expect_cli_error(run_cli({"exec", path, "--input", input_}), {path});
}

TEST_F(BadInput, UnknownOp) {
  auto m = test::add_relu_model();
  m.mutable_graph()->mutable_node(1)->set_op_type("FrobnicateOp");
  const std::string path = test::write_model(dir_.path() + "/unknown_op.onnx", m);
  expect_cli_error(run_cli({"exec", path, "--input", input_}), {path, "FrobnicateOp"});
}

TEST_F(BadInput, MissingInitializer) {
  auto m = test::add_relu_model();
  m.mutable_graph()->mutable_initializer()->Clear();
  m.mutable_graph()->mutable_node(0)->set_input(1, "b_missing");
  const std::string path = test::write_model(dir_.path() + "/missing_init.onnx", m);
  expect_cli_error(run_cli({"exec", path, "--input", input_}), {path, "b_missing"});
}

TEST_F(BadInput, InputShapeMismatch) {
  const std::string npy = dir_.path() + "/wrong_shape.npy";
  write_npy(npy, Tensor::from_floats({1, 3}, {1.0F, 2.0F, 3.0F}));
  expect_cli_error(run_cli({"exec", model_, "--input", npy}), {npy, "[1, 3]", "model input 'x'", "[N, 4]"});
}

TEST_F(BadInput, InputDtypeNotSupported) {
  const std::string complex = file("complex.npy", test::npy_file("{'descr': '<c8', 'fortran_order': False, "
                                                                 "'shape': (1, 4), }\n",
                                                                 std::string(32, '\0')));
  expect_cli_error(run_cli({"exec", model_, "--input", complex}), {complex, "'descr'", "complex"});
  const std::string big = file("big.npy", test::npy_file("{'descr': '>f4', 'fortran_order': False, "
                                                         "'shape': (1, 4), }\n",
                                                         std::string(16, '\0')));
  expect_cli_error(run_cli({"exec", model_, "--input", big}), {big, "'descr'", "big-endian"});
}

TEST_F(BadInput, InputNotRepresentableInModelType) {
  // An int8 .npy of -1 into a model whose input is uint8.
  auto m = testing::empty_model();
  testing::add_value_info(m.mutable_graph()->add_input(), "x", {1, 2}, onnx::TensorProto::UINT8);
  testing::add_node(m, "Identity", "id", {"x"}, {"y"});
  testing::add_value_info(m.mutable_graph()->add_output(), "y", {1, 2}, onnx::TensorProto::UINT8);
  const std::string path = test::write_model(dir_.path() + "/u8.onnx", m);
  const std::string npy = dir_.path() + "/negative.npy";
  write_npy(npy, Tensor::from_ints(ElemType::kInt8, {1, 2}, {3, -1}));
  expect_cli_error(run_cli({"exec", path, "--input", npy}), {npy, "value -1 at index 1", "uint8"});
}

TEST_F(BadInput, MissingOrTruncatedNpy) {
  const std::string missing = dir_.path() + "/none.npy";
  expect_cli_error(run_cli({"exec", model_, "--input", missing}), {missing});
  const std::string truncated =
      file("short.npy", npy_to_bytes(Tensor::from_floats({1, 4}, {1, 2, 3, 4})).substr(0, 70));
  expect_cli_error(run_cli({"exec", model_, "--input", truncated}), {truncated, "truncated"});
}

TEST_F(BadInput, TopLargerThanOutput) {
  expect_cli_error(run_cli({"exec", model_, "--input", input_, "--top", "5"}), {model_, "'y'", "5 requested"});
}

TEST_F(BadInput, OutputDirectoryMissing) {
  const std::string out = dir_.path() + "/no/such/dir/out.npy";
  expect_cli_error(run_cli({"exec", model_, "--input", input_, "-o", out}), {out});
}

TEST_F(BadInput, WrongNumberOfInputs) {
  expect_cli_error(run_cli({"exec", model_, "--input", input_, "--input", input_}), {model_, "1 inputs", "2 --input"});
}

TEST_F(BadInput, CommandLineErrors) {
  expect_cli_error(run_cli({"frobnicate"}), {"frobnicate"});
  expect_cli_error(run_cli({}), {"subcommand"});
  expect_cli_error(run_cli({"exec", model_}), {"--input"});
  expect_cli_error(run_cli({"exec", model_, "--input", input_, "--bogus"}), {"--bogus"});
  expect_cli_error(run_cli({"exec", model_, "--input", input_, "--top", "0"}), {"--top"});
  expect_cli_error(run_cli({"eval", model_}), {"--dataset"});
  expect_cli_error(run_cli({"eval", model_, "--dataset", "mnist"}), {"--dataset", "mnist"});
}

TEST_F(BadInput, UnknownZooNames) {
  expect_cli_error(run_cli({"zoo", "build", "nosuchnet", "-o", dir_.path() + "/z.onnx"}), {"nosuchnet"});
  expect_cli_error(run_cli({"zoo", "frobnicate"}), {"frobnicate"});
}

TEST_F(BadInput, EvalDatasetMissing) {
  const std::string images = "/t10k-images-idx3-ubyte.gz";
  const std::string model = test::write_model(dir_.path() + "/picker.onnx", test::picker_model({1, 1, 28, 28}, 0));
  expect_cli_error(run_cli({"eval", model, "--dataset", "fashion-mnist", "--data-dir", dir_.path()}),
                   {dir_.path() + images,
                    "install the Debian package dataset-fashion-mnist "
                    "(sudo apt-get install dataset-fashion-mnist)"});
}

TEST_F(BadInput, EvalModelInputNotAnImage) {
  expect_cli_error(run_cli({"eval", model_, "--dataset", "fashion-mnist"}), {model_, "'x'", "[1, 4]"});
}

}  // namespace
}  // namespace dnnsplit
