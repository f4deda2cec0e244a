// Split stages of CNV-W2A2 that end right after a max-pool or a flatten / reshape of a quantized
// tensor, as the partitioner exports them: the reference's Quant gives -0 for small negatives,
// which codes cannot hold, so the plan must produce these outputs with the reference nodes.
// Each stage runs on the reference's output of the stages before it, plan and Session bit for bit.
#include <cmath>

#include "dnnsplit/partition.h"
#include "plan_test_util.h"

namespace dnnsplit::kernels {
namespace {

using namespace dnnsplit::kernels::testing;

size_t negative_zeros(const std::vector<Tensor>& tensors) {
  size_t n = 0;
  for (const auto& t : tensors) {
    for (float v : t.f32) n += v == 0.0F && std::signbit(v) ? 1 : 0;
  }
  return n;
}

TEST(FastPlan, CnvStagesCutAfterPoolAndFlattenMatchReference) {
  const auto graph = zoo_graph("cnv-w2a2");
  std::vector<int> cuts;  // positions right after each max-pool and flatten / reshape
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const std::string& op = graph.nodes[i].op_type;
    if (op == "MaxPool" || op == "Flatten" || op == "Reshape") cuts.push_back(static_cast<int>(i) + 1);
  }
  ASSERT_GE(cuts.size(), 3u) << "cnv-w2a2 should have two max-pools and a flatten";
  std::vector<Tensor> feed = {random_images(graph.tensor(graph.inputs[0]).shape, 3, 17)};
  int begin = 0;
  size_t zeros_seen = 0;
  for (int end : cuts) {
    const std::string what = "cnv-w2a2 nodes [" + std::to_string(begin) + ", " + std::to_string(end) + ")";
    const ir::Graph stage = partition::extract_stage(graph, begin, end, "stage");
    ASSERT_EQ(stage.outputs.size(), 1u) << what;
    const auto& last = stage.nodes.back();
    ASSERT_EQ(stage.outputs[0], last.outputs[0]) << what << " should end at its " << last.op_type;
    compare_with_reference(stage, feed, what, {{true, 1, 0}, {false, 1, 0}, {true, 2, 2}});
    feed = engine::Session(stage).run(feed);
    zeros_seen += negative_zeros(feed);
    begin = end;
  }
  EXPECT_GT(zeros_seen, 0u) << "the stage outputs should hold -0 for the test to mean anything";
}

}  // namespace
}  // namespace dnnsplit::kernels
