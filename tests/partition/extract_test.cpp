// Cut analysis and stage sub-models at the IR level: which tensors cross a cut, what a stage
// file holds, and that running the stages one after another gives the whole model's outputs bit
// for bit at every cut position (including inside residual blocks).
#include <gtest/gtest.h>

#include "dnnsplit/analysis.h"
#include "dnnsplit/error.h"
#include "partition_test_util.h"

namespace dnnsplit::partition {
namespace {

ir::TensorInfo activation(const std::string& name, int bits) {
  ir::TensorInfo info;
  info.name = name;
  info.shape = {1, 8};
  ir::QuantType q;
  q.bits = bits;
  q.is_signed = false;
  info.quant = q;
  return info;
}

// x -> n0 Relu -> a -> n1 Relu -> b -> n2 Mul(b, w) -> c -> n3 Add(a, c) -> d; outputs d and b.
// a skips n1 and n2 (a residual), b is a model output made early, w is a constant.
ir::Graph residual_graph() {
  ir::Graph g;
  g.name = "residual";
  const int x = g.add_tensor(activation("x", 8));
  const int a = g.add_tensor(activation("a", 4));
  const int b = g.add_tensor(activation("b", 2));
  const int c = g.add_tensor(activation("c", 3));
  ir::TensorInfo w_info;
  w_info.name = "w";
  w_info.shape = {1, 8};
  w_info.constant = Tensor::from_floats({1, 8}, std::vector<float>(8, 2.0F));
  const int w = g.add_tensor(w_info);
  ir::TensorInfo d_info;
  d_info.name = "d";
  d_info.shape = {1, 8};
  const int d = g.add_tensor(d_info);  // float: 4 bytes per element
  g.nodes = {{"n0", "Relu", "", {x}, {a}, {}},
             {"n1", "Relu", "", {a}, {b}, {}},
             {"n2", "Mul", "", {b, w}, {c}, {}},
             {"n3", "Add", "", {a, c}, {d}, {}}};
  g.inputs = {x};
  g.outputs = {d, b};
  return g;
}

std::vector<std::string> names(const ir::Graph& g, const std::vector<int>& ids) {
  std::vector<std::string> out;
  for (int id : ids) out.push_back(g.tensor(id).name);
  return out;
}

TEST(CutAnalysis, CrossingTensorsOfAResidualGraph) {
  const ir::Graph g = residual_graph();
  using V = std::vector<std::string>;
  EXPECT_EQ(names(g, crossing_tensors(g, 0)), (V{"x"}));
  EXPECT_EQ(names(g, crossing_tensors(g, 1)), (V{"a"}));
  EXPECT_EQ(names(g, crossing_tensors(g, 2)), (V{"a", "b"}));
  EXPECT_EQ(names(g, crossing_tensors(g, 3)), (V{"a", "b", "c"}));  // b stays: it is a model output
  EXPECT_EQ(names(g, crossing_tensors(g, 4)), (V{"d", "b"}));       // model outputs, in their order
  // 8 elements at 4 bits + 8 at 2 bits + 8 at 3 bits = 4 + 2 + 3 bytes.
  EXPECT_EQ(crossing_bytes(g, crossing_tensors(g, 3)), 9);
  EXPECT_EQ(crossing_bytes(g, crossing_tensors(g, 4)), 8 * 4 + 2);
  EXPECT_THROW(crossing_tensors(g, 5), Error);
  EXPECT_THROW(crossing_tensors(g, -1), Error);
}

TEST(CutAnalysis, StageHoldsItsNodesConstantsAndPassThroughs) {
  const ir::Graph g = residual_graph();
  const ir::Graph s = extract_stage(g, 2, 4, "tail");
  using V = std::vector<std::string>;
  EXPECT_EQ(names(s, s.inputs), (V{"a", "b"}));
  EXPECT_EQ(names(s, s.outputs), (V{"d", "b"}));  // b passes through
  ASSERT_EQ(s.nodes.size(), 2U);
  EXPECT_EQ(s.nodes[0].name, "n2");
  EXPECT_EQ(s.nodes[1].name, "n3");
  const int w = s.find_tensor("w");
  ASSERT_GE(w, 0);
  EXPECT_TRUE(s.tensor(w).is_constant());
  EXPECT_EQ(s.tensor(s.find_tensor("a")).quant, g.tensor(g.find_tensor("a")).quant);
  EXPECT_EQ(s.find_tensor("x"), -1);  // nothing of the head is copied
  EXPECT_THROW(extract_stage(g, 2, 2, "empty"), Error);
  EXPECT_THROW(extract_stage(g, 0, 5, "too long"), Error);
}

TEST(CutAnalysis, StageFileKeepsTheQuantTypeOfItsInputs) {
  const ir::Graph model = import_model(test::zoo_file("cnv-w2a2"));
  // Cut after the last conv's activation: its output is an INT2 narrow tensor.
  const int conv5 = model.find_tensor("conv5_act_out");
  ASSERT_GE(conv5, 0);
  const int position = model.producer(conv5) + 1;
  const ir::Graph stage = extract_stage(model, position, static_cast<int>(model.nodes.size()), "tail");
  const ir::Graph back = import_model_from_bytes(export_model_to_bytes(stage), "tail");
  ASSERT_EQ(back.inputs.size(), 1U);
  const ir::TensorInfo& input = back.tensor(back.inputs[0]);
  EXPECT_EQ(input.name, "conv5_act_out");
  ASSERT_TRUE(input.quant.has_value());
  EXPECT_EQ(*input.quant, *model.tensor(conv5).quant);
  EXPECT_EQ(input.quant->finn_name(), "INT2");
  EXPECT_EQ(packed_bytes_per_image(back, back.inputs[0]), 64);
}

void expect_same(const std::vector<Tensor>& whole, const std::vector<Tensor>& split, const std::string& what) {
  ASSERT_EQ(whole.size(), split.size()) << what;
  for (size_t i = 0; i < whole.size(); ++i) EXPECT_TRUE(tensors_identical(whole[i], split[i])) << what << " output " << i;
}

// Every two-way cut position of the model (and, for residual models, three-way splits whose
// second cut lies 2 or 4 nodes later, so that tensors pass through a stage) gives the whole
// model's outputs.
void check_every_cut(const ir::Graph& model, bool three_way) {
  const std::vector<Tensor> inputs = test::test_inputs(model, 2, 42);
  const std::vector<Tensor> whole = engine::Session(model).run(inputs);
  const int n = static_cast<int>(model.nodes.size());
  for (int p = 1; p < n; ++p) {
    expect_same(whole, test::run_split(model, {p}, inputs), model.name + " cut at " + std::to_string(p));
    if (!three_way || p % 3 != 0) continue;
    for (int q = p + 2; q < std::min(n, p + 5); q += 2) {
      expect_same(whole, test::run_split(model, {p, q}, inputs),
                  model.name + " cuts at " + std::to_string(p) + ", " + std::to_string(q));
    }
  }
}

TEST(SplitIsInvisible, ResNet8AtEveryNodeIncludingInsideResidualBlocks) {
  const ir::Graph model = import_model(test::zoo_file("resnet8-w4a4"));
  // Some cut positions must carry two tensors (the block input and the branch) to be a real test.
  int multi = 0;
  for (int p = 1; p < static_cast<int>(model.nodes.size()); ++p) multi += crossing_tensors(model, p).size() > 1 ? 1 : 0;
  EXPECT_GT(multi, 5);
  check_every_cut(model, true);
}

TEST(SplitIsInvisible, TfcAtEveryNode) { check_every_cut(import_model(test::zoo_file("tfc-w2a2")), false); }

TEST(SplitIsInvisible, CnvAtEveryLayerBoundary) {
  const ir::Graph model = import_model(test::zoo_file("cnv-w2a2"));
  const std::vector<Tensor> inputs = test::test_inputs(model, 1, 7);
  const std::vector<Tensor> whole = engine::Session(model).run(inputs);
  for (const LayerRow& row : analyze_layers(model)) {
    const int p = row.nodes.back() + 1;
    if (p >= static_cast<int>(model.nodes.size())) continue;
    expect_same(whole, test::run_split(model, {p}, inputs), "cnv-w2a2 cut after " + row.name);
  }
}

TEST(SplitIsInvisible, QonnxZooFixturesAtEveryNode) {
  for (const char* name : {"qonnx-zoo/TFC_1W1A.onnx", "qonnx-zoo/TFC_2W2A.onnx"}) {
    const std::string path = test::shared_fixture(name);
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "fixtures not found at " << path;
    check_every_cut(import_model(path), false);
  }
}

}  // namespace
}  // namespace dnnsplit::partition
