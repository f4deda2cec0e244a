// `dnnsplit bench`: the report's shape (not its speed): --json gives top-level images_per_s,
// latency percentiles and one entry per plan step; errors are one line with exit code 2.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Result {
  int status = -1;
  std::string out;
};

Result run(const std::string& args) {
  Result r;
  FILE* pipe = popen((std::string(DNNSPLIT_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.out.append(buffer, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(BenchCli, JsonReport) {
  const Result r = run("bench tfc-w2a2 --seconds 0.05 --batch 3 --threads 2 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_GT(report.at("images_per_s").get<double>(), 0.0);
  EXPECT_EQ(report.at("threads").get<int>(), 2);
  EXPECT_EQ(report.at("batch").get<int>(), 3);
  EXPECT_EQ(report.at("engine").get<std::string>(), "fast");
  EXPECT_LE(report.at("latency_ms").at("p50").get<double>(), report.at("latency_ms").at("p99").get<double>());
  double share = 0.0;
  bool has_kernel = false;
  for (const auto& layer : report.at("layers")) {
    share += layer.at("share").get<double>();
    has_kernel = has_kernel || !layer.at("kernel").get<std::string>().empty();
  }
  EXPECT_NEAR(share, 1.0, 1e-6);
  EXPECT_TRUE(has_kernel);
}

TEST(BenchCli, ReferenceEngine) {
  const Result r = run("bench tfc-w2a2 --seconds 0.05 --reference --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("engine").get<std::string>(), "reference");
}

TEST(BenchCli, UnknownModelIsOneLineError) {
  const Result r = run("bench no-such-model.onnx --seconds 0.05");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("no-such-model.onnx"), std::string::npos) << r.out;
}

TEST(BenchCli, BadOptionsAreOneLineErrors) {
  for (const char* args : {"--threads 0", "--batch 0", "--seconds -1", "--seconds abc"}) {
    const Result r = run(std::string("bench tfc-w2a2 ") + args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.out;
    EXPECT_EQ(r.out.find("dnnsplit: error: "), 0u) << args << ": " << r.out;
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << args << ": not one line: " << r.out;
  }
}

}  // namespace
