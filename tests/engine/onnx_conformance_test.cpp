// ONNX's own node tests (Debian package libonnx-testdata): every test whose ops the engine
// claims must reproduce ONNX's expected outputs within ONNX's tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>

#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/onnx_convert.h"
#include "engine/onnx_model_util.h"

namespace dnnsplit::engine {
namespace {

namespace fs = std::filesystem;

// node/: one test per op variant (the conformance list). pytorch-operator/, pytorch-converted/
// and simple/: small exported models, mostly opset 6-9, which exercise the older op versions.
const fs::path kTestData = "/usr/share/libonnx-testdata/data";
const std::vector<std::string> kSuites = {"node", "pytorch-operator", "pytorch-converted", "simple"};
const char* const kMissing = "testdata_missing";

// Tests of claimed ops that the engine deliberately does not reproduce. Keep this short; every
// entry needs a reason. (Element types a dnnsplit::Tensor cannot hold -- float16, bfloat16,
// string, sequences, optionals -- are skipped by unrepresentable_types(), not listed here.)
const std::map<std::string, std::string> kExcluded = {};

struct Tally {
  int passed = 0, failed = 0, skipped_op = 0, skipped_type = 0, excluded = 0;
};
// Per suite.
std::map<std::string, Tally>& tallies() {
  static std::map<std::string, Tally> t;
  return t;
}

class SummaryPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [suite, t] : tallies()) {
      std::printf("onnx conformance (%s): %d passed, %d failed, %d tests skipped (op not claimed), %d skipped "
                  "(element type not representable), %d excluded\n",
                  suite.c_str(), t.passed, t.failed, t.skipped_op, t.skipped_type, t.excluded);
    }
  }
};
[[maybe_unused]] const auto* const kSummary = ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

// "suite/test_name" for every test directory.
std::vector<std::string> test_directories() {
  std::vector<std::string> names;
  for (const auto& suite : kSuites) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(kTestData / suite, ec)) {
      const auto name = entry.path().filename().string();
      if (entry.is_directory() && name.rfind("test_", 0) == 0) names.push_back(suite + "/" + name);
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) names.push_back(kMissing);
  return names;
}

std::string suite_of(const std::string& param) { return param.substr(0, param.find('/')); }

// gtest names allow only letters, digits and '_'.
std::string test_name(const std::string& param) {
  std::string name = param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

// ONNX backend tests' comparison: same type and shape; floats within atol 1e-7 + rtol 1e-3
// (NaN matches NaN), integers exact.
void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(elem_type_name(got.type), elem_type_name(want.type)) << what;
  ASSERT_EQ(shape_to_string(got.shape), shape_to_string(want.shape)) << what;
  if (!want.is_float()) {
    ASSERT_EQ(got.i64, want.i64) << what;
    return;
  }
  int reported = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double a = got.at(i);
    const double b = want.at(i);
    const bool ok = (std::isnan(a) && std::isnan(b)) || a == b || std::fabs(a - b) <= 1e-7 + 1e-3 * std::fabs(b);
    if (!ok && reported++ < 5) ADD_FAILURE() << what << " element " << i << ": got " << a << ", expected " << b;
  }
}

class OnnxConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override {
    if (!counted_) return;
    Tally& t = tallies()[suite_of(GetParam())];
    (HasFailure() ? t.failed : t.passed)++;
  }
  bool counted_ = false;
};

void run_data_set(const onnx::ModelProto& model, const std::vector<ir::Node>& nodes, const ir::Graph& graph,
                  int64_t opset, const fs::path& set) {
  std::map<std::string, Tensor> values;
  for (const auto& init : model.graph().initializer()) values[init.name()] = tensor_from_onnx(init, init.name());
  int k = 0;
  for (const auto& input : model.graph().input()) {
    if (values.count(input.name())) continue;
    const auto file = set / ("input_" + std::to_string(k++) + ".pb");
    if (fs::exists(file)) values[input.name()] = read_tensor_proto_file(file.string());
  }
  for (const auto& node : nodes) {
    std::vector<const Tensor*> args;
    for (int id : node.inputs) {
      if (id < 0) {
        args.push_back(nullptr);
        continue;
      }
      auto it = values.find(graph.tensor(id).name);
      ASSERT_NE(it, values.end()) << node.describe() << " input '" << graph.tensor(id).name << "' has no value";
      args.push_back(&it->second);
    }
    auto outputs = run_node(node, args, opset, &graph);
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i] >= 0) values[graph.tensor(node.outputs[i]).name] = std::move(outputs[i]);
    }
  }
  for (int i = 0; i < model.graph().output_size(); ++i) {
    const auto& name = model.graph().output(i).name();
    const Tensor want = read_tensor_proto_file((set / ("output_" + std::to_string(i) + ".pb")).string());
    ASSERT_TRUE(values.count(name)) << "output '" << name << "' was not computed";
    expect_close(values[name], want, set.filename().string() + " output '" + name + "'");
  }
}

TEST_P(OnnxConformance, MatchesOnnxOutputs) {
  const std::string name = GetParam();
  if (name == kMissing) GTEST_SKIP() << "ONNX test data not found at " << kTestData << " (package libonnx-testdata)";
  const fs::path dir = kTestData / name;
  Tally& tally = tallies()[suite_of(name)];
  const auto model = test_util::read_model_proto((dir / "model.onnx").string());
  const auto& claimed = supported_standard_ops();
  for (const auto& node : model.graph().node()) {
    const bool standard = node.domain().empty() || node.domain() == "ai.onnx";
    if (!standard || std::find(claimed.begin(), claimed.end(), node.op_type()) == claimed.end()) {
      tally.skipped_op++;
      GTEST_SKIP() << "op " << node.op_type() << " not claimed";
    }
  }
  if (auto reason = test_util::unrepresentable_types(model)) {
    tally.skipped_type++;
    GTEST_SKIP() << *reason;
  }
  if (auto it = kExcluded.find(name); it != kExcluded.end()) {
    tally.excluded++;
    GTEST_SKIP() << "excluded: " << it->second;
  }
  counted_ = true;
  ir::Graph graph;
  std::vector<ir::Node> nodes;
  for (const auto& node : model.graph().node()) nodes.push_back(node_from_onnx(node, graph));
  std::vector<fs::path> sets;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0) {
      sets.push_back(entry.path());
    }
  }
  ASSERT_FALSE(sets.empty()) << dir << " has no test_data_set_*";
  std::sort(sets.begin(), sets.end());
  for (const auto& set : sets) {
    try {
      run_data_set(model, nodes, graph, test_util::default_opset(model), set);
    } catch (const Error& e) {
      ADD_FAILURE() << set << ": " << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Node, OnnxConformance, ::testing::ValuesIn(test_directories()),
                         [](const ::testing::TestParamInfo<std::string>& param) { return test_name(param.param); });

}  // namespace
}  // namespace dnnsplit::engine
