// `dnnsplit zoo list / build`: output, atomic writes, errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit {
namespace {

using test::run_cli;

TEST(ZooCli, ListJsonHasEveryModel) {
  const auto r = run_cli({"zoo", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), zoo_list().size());
  EXPECT_EQ(list[1]["name"], "cnv-w2a2");
  EXPECT_EQ(list[1]["input_shape"], (std::vector<int64_t>{1, 3, 32, 32}));
  EXPECT_EQ(list[1]["input_datatype"], "UINT8");
}

TEST(ZooCli, ListTableHasOneLinePerModel) {
  const auto r = run_cli({"zoo", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t lines = 0;
  for (char c : r.out) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, zoo_list().size() + 1);  // header + models
  EXPECT_NE(r.out.find("mobilenetv1-w4a4  [1, 3, 224, 224] UINT8"), std::string::npos) << r.out;
}

TEST(ZooCli, BuildWritesTheLibraryBytes) {
  const test::TempDir dir;
  const std::string path = dir.path() + "/cnv.onnx";
  const auto r = run_cli({"zoo", "build", "cnv-w2a2", "-o", path, "--seed", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::bytes_of(path), zoo_build("cnv-w2a2", 3));
  // No temporary file is left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
  // The default seed is the documented one.
  const auto d = run_cli({"zoo", "build", "tfc-w1a1", "-o", path});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(test::bytes_of(path), zoo_build("tfc-w1a1", 1));
  EXPECT_NE(run_cli({"zoo", "build", "--help"}).out.find("--seed UINT=1"), std::string::npos);
}

TEST(ZooCli, UnknownNameIsAnError) {
  const test::TempDir dir;
  const auto r = run_cli({"zoo", "build", "alexnet", "-o", dir.path() + "/x.onnx"});
  test::expect_cli_error(r, {"'alexnet'", "cnv-w2a2", "mobilenetv1-w4a4"});
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/x.onnx"));
}

TEST(ZooCli, UnwritableOutputIsAnError) {
  const test::TempDir dir;
  const std::string path = dir.path() + "/missing/dir/x.onnx";
  test::expect_cli_error(run_cli({"zoo", "build", "tfc-w1a1", "-o", path}), {path});
}

TEST(ZooCli, MissingArgumentsAreUsageErrors) {
  EXPECT_EQ(run_cli({"zoo"}).exit_code, 2);
  EXPECT_EQ(run_cli({"zoo", "build", "cnv-w2a2"}).exit_code, 2);
  EXPECT_EQ(run_cli({"zoo", "build", "cnv-w2a2", "-o", "x.onnx", "--seed", "minus"}).exit_code, 2);
}

}  // namespace
}  // namespace dnnsplit
