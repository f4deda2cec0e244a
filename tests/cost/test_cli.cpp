// `dnnsplit estimate` and `dnnsplit boards` as a user runs them: output contents, JSON keys, and
// exit code 2 with a message naming the culprit for bad input.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dnnsplit/model_io.h"
#include "model_builders.h"

namespace dnnsplit::cost {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

class CostCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = cost_test::temp_dir("cli");
    export_model(cost_test::build_cnv_w2a2(), (dir_ / "cnv.onnx").string());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static RunResult run(const std::string& args) {
    const std::string err_file = (dir_ / "stderr.txt").string();
    const std::string cmd = std::string(DNNSPLIT_BINARY) + " " + args + " 2>" + err_file;
    RunResult r;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
    const int status = pclose(pipe);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(err_file);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    return r;
  }
  static std::string model() { return (dir_ / "cnv.onnx").string(); }
  static std::string folding() {
    return std::string(DNNSPLIT_SOURCE_DIR) + "/data/foldings/cnv-w2a2_folding_config.json";
  }
  static std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  static fs::path dir_;
};

fs::path CostCli::dir_;

TEST_F(CostCli, EstimateJsonWithShippedFolding) {
  const RunResult r = run("estimate " + model() + " --board zedboard --folding " + folding() + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["layers"].size(), 19u);
  const auto& total = doc["total"];
  for (const char* key : {"lut", "bram18", "uram", "dsp", "cycles"}) EXPECT_TRUE(total.contains(key)) << key;
  EXPECT_NEAR(total["lut"].get<double>(), 18836.0, 0.02 * 18836.0);
  EXPECT_EQ(total["bram18"].get<int64_t>(), 202);
  EXPECT_EQ(total["dsp"].get<int64_t>(), 0);
  EXPECT_EQ(doc["bottleneck"]["name"], "MVAU_hls_3");
  EXPECT_EQ(doc["bottleneck"]["cycles"].get<int64_t>(), 115200);
  EXPECT_TRUE(doc["fits"].get<bool>());
  EXPECT_NEAR(doc["fps"].get<double>(), 1e8 / 115200.0, 1e-6);
  EXPECT_NEAR(doc["utilization"]["bram18"]["percent"].get<double>(), 100.0 * 202 / 280, 1e-9);
  int64_t sum = 0;
  for (const auto& l : doc["layers"]) sum += l["cycles"].get<int64_t>();
  EXPECT_EQ(total["cycles"].get<int64_t>(), sum);
  EXPECT_EQ(doc["layers"][2]["name"], "MVAU_hls_0");
  EXPECT_EQ(doc["layers"][2]["ir_node_names"][0].get<std::string>().rfind("Conv", 0), 0u);
  EXPECT_TRUE(doc["software_nodes"].empty());
}

TEST_F(CostCli, EstimateTableAndAutoFold) {
  RunResult r = run("estimate " + model() + " --board pynq-z1 --folding " + folding());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("MVAU_hls_3"), std::string::npos);
  EXPECT_NE(r.out.find("202"), std::string::npos);
  EXPECT_NE(r.out.find("fits on pynq-z1: yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bottleneck: MVAU_hls_3, 115,200 cycles"), std::string::npos) << r.out;
  r = run("estimate " + model() + " --board zedboard --target-fps 2000 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["auto_fold"]["target_cycles"].get<int64_t>(), 50000);
  EXPECT_LT(doc["max_cycles"].get<int64_t>(), 50000);
  EXPECT_GE(doc["fps"].get<double>(), 2000.0);
}

TEST_F(CostCli, FinnHardwareModelFixture) {
  const std::string path = std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/finn/cybsec_mlp_hw_pe_simd.onnx";
  if (!fs::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
  const RunResult r = run("estimate " + path + " --board pynq-z1 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["total"]["lut"].get<int64_t>(), 1279);
  EXPECT_EQ(doc["total"]["bram18"].get<int64_t>(), 8);
}

TEST_F(CostCli, FloatQonnxModelWithInputType) {
  const std::string path = std::string(DNNSPLIT_SHARED_DIR) + "/fixtures/qonnx-zoo/TFC_2W2A.onnx";
  if (!fs::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
  RunResult r = run("estimate " + path + " --board pynq-z1 --json");
  EXPECT_EQ(r.code, 2);  // a float input: FINN needs its integer type
  EXPECT_NE(r.err.find("has no integer type"), std::string::npos) << r.err;
  r = run("estimate " + path + " --board pynq-z1 --input-type UINT8 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  std::vector<std::string> names;
  for (const auto& l : doc["layers"]) names.push_back(l["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"Thresholding_rtl_0", "MVAU_hls_0", "MVAU_hls_1", "MVAU_hls_2",
                                             "MVAU_hls_3", "LabelSelect_hls_0"}));
  EXPECT_EQ(doc["layers"][1]["cycles"].get<int64_t>(), 784 * 64);  // MW 784, MH 64 at PE = SIMD = 1
  r = run("estimate " + path + " --board pynq-z1 --input-type FLOAT32");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--input-type 'FLOAT32' is not a FINN integer type"), std::string::npos) << r.err;
}

TEST_F(CostCli, Boards) {
  RunResult r = run("boards");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"zedboard", "pynq-z1", "ultra96", "zcu104", "kv260", "u250", "u280"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
  r = run("boards --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc.size(), 7u);
  EXPECT_EQ(doc[0]["bram18"].get<int64_t>(), 280);
  EXPECT_EQ(doc[0]["dsp_block"], "DSP48E1");
  const std::string extra = write("extra.json", R"({"boards": [{"name": "tiny", "part": "xc7z010clg400-1",
      "lut": 17600, "ff": 35200, "lutram": 6000, "bram18": 120, "uram": 0, "dsp": 80, "clock_mhz": 100,
      "reconfig_ms": 100, "link_mbps": 100, "source": "DS190"}]})");
  r = run("boards --json --boards-file " + extra);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 8u);
  // the small board does not hold CNV-W2A2: 202 BRAM18 > 0.8 * 120
  r = run("estimate " + model() + " --board tiny --boards-file " + extra + " --folding " + folding() + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out)["fits"].get<bool>());
}

TEST_F(CostCli, BadInputExitsTwoWithAMessage) {
  RunResult r = run("estimate " + model() + " --board zedbord");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown board 'zedbord'"), std::string::npos) << r.err;
  r = run("estimate " + model() + " --board zedboard --folding " +
          write("missing.json", R"({"MVAU_hls_42": {"PE": 1}})"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("layer 'MVAU_hls_42' does not exist"), std::string::npos) << r.err;
  r = run("estimate " + model() + " --board zedboard --folding " + write("pe.json", R"({"MVAU_hls_2": {"PE": 3}})"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("MVAU_hls_2: PE 3 does not divide MH 128"), std::string::npos) << r.err;
  const std::string no_dsp = write("nodsp.json", R"({"boards": [{"name": "tiny", "part": "xc7z010clg400-1",
      "lut": 17600, "ff": 35200, "lutram": 6000, "bram18": 120, "uram": 0, "clock_mhz": 100,
      "reconfig_ms": 100, "link_mbps": 100, "source": "DS190"}]})");
  r = run("boards --boards-file " + no_dsp);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("board #1 ('tiny'): missing field 'dsp'"), std::string::npos) << r.err;
  r = run("estimate " + model() + " --board zedboard --folding " + folding() + " --target-fps 100");
  EXPECT_EQ(r.code, 2);  // the two folding sources exclude each other
  r = run("estimate /nonexistent/model.onnx --board zedboard");
  EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace dnnsplit::cost
