// Every zoo model and the QONNX zoo fixtures with every strategy (HEAVY: many plans and engine
// runs; the release ctest runs it, the sanitizer run leaves it out).
#include <gtest/gtest.h>

#include <map>

#include "plan_check.h"

namespace dnnsplit::partition {
namespace {

using test_plan::options;
using test_plan::plan_check_and_verify;
using test_plan::read_json;
namespace fs = std::filesystem;
using nlohmann::json;

// Every zoo model but MobileNet (mobilenet_test.cpp, HEAVY) with every strategy.
TEST(Plan, EveryStrategyOnSmallZooModelsVerifies) {
  const test::TempDir dir;
  for (const char* name : {"cnv-w1a1", "cnv-w2a2", "tfc-w1a1", "tfc-w2a2", "resnet8-w4a4"}) {
    const std::string& model = test::zoo_file(name);
    for (const auto& [strategy, stages] : std::vector<std::pair<Strategy, int>>{
             {Strategy::kFill, 0}, {Strategy::kMinTransfer, 0}, {Strategy::kMinTransfer, 3}, {Strategy::kBalanced, 3}}) {
      plan_check_and_verify(model, dir.path() + "/" + name + "-" + strategy_name(strategy) + std::to_string(stages),
                            strategy, stages);
    }
  }
}

// The QONNX model zoo's TFC files as Brevitas exported them: float input, so the host quantizes
// it (the quantizer stays in software) unless --input-type says what FINN would get.
TEST(Plan, QonnxZooFixturesWithEveryStrategy) {
  const test::TempDir dir;
  for (const char* name : {"TFC_1W1A.onnx", "TFC_2W2A.onnx"}) {
    const std::string model = test::shared_fixture(std::string("qonnx-zoo/") + name);
    if (!fs::exists(model)) GTEST_SKIP() << "fixtures not found at " << model;
    for (const auto& [strategy, stages] : std::vector<std::pair<Strategy, int>>{
             {Strategy::kFill, 0}, {Strategy::kMinTransfer, 3}, {Strategy::kBalanced, 2}}) {
      const std::string out = dir.path() + "/" + name + "-" + strategy_name(strategy);
      const json plan = plan_check_and_verify(model, out, strategy, stages);
      // The input quantizer (and the affine ops before it) run on the host.
      const ir::Graph graph = import_model(model);
      std::map<std::string, const ir::Node*> by_name;
      for (const auto& node : graph.nodes) by_name[node.name] = &node;
      bool has_quantizer = false;
      for (const auto& s : plan["stages"]) {
        for (const auto& n : s["software_nodes"]) {
          const ir::Node& node = *by_name.at(n.get<std::string>());
          has_quantizer = has_quantizer || ir::is_quant_op(node) || ir::is_bipolar_quant_op(node);
        }
      }
      EXPECT_TRUE(has_quantizer) << out;
    }
    // With the input's integer type given, the quantizer is a hardware Thresholding layer.
    PlanOptions o = options({"zedboard"}, Strategy::kFill);
    o.selection.input_type = "UINT8";
    plan_model(model, o, dir.path() + "/typed");
    const json typed = read_json(dir.path() + "/typed/plan.json");
    EXPECT_EQ(typed["stages"][0]["hardware_layers_in_model"][0], "Thresholding_rtl_0");
  }
}

}  // namespace
}  // namespace dnnsplit::partition
