// End to end with real `dnnsplit node` processes on 127.0.0.1: every run's outputs are compared
// bit for bit with the engine running the whole model in this process.
#include <gtest/gtest.h>

#include <memory>

#include "client.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/orchestrator.h"
#include "runtime_support.h"

namespace dnnsplit::orchestrator {
namespace {

using testing::TempDir;

node::StageTiming stage_timing(double bottleneck, double reconfig_s) {
  return {"zedboard", 1e6, bottleneck, 400, reconfig_s, 1e8, 1e-4};
}

class TinyPlan : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    graph_ = new ir::Graph(testing::tiny_model());
    testing::write_plan(*graph_, {2, 4}, dir_->path(),
                        {stage_timing(100, 0.05), stage_timing(200, 0.05), stage_timing(300, 0.05)});
  }
  static void TearDownTestSuite() {
    delete graph_;
    delete dir_;
  }
  static Plan plan() { return read_plan(dir_->path()); }
  static Tensor whole(const Tensor& x) { return engine::Session(*graph_).run({x}).at(0); }
  static node::LocalCluster cluster(int nodes, const std::string& backend = "cpu", bool pace = false,
                                    const std::string& board = "") {
    node::LocalClusterOptions o;
    o.binary = testing::binary();
    o.nodes = nodes;
    o.backend = backend;
    o.pace = pace;
    o.board = board;
    return node::LocalCluster(o);
  }
  static v1::StatusReply status(const std::string& address) { return NodeClient(address, 64 << 20, 10).status(); }

  static TempDir* dir_;
  static ir::Graph* graph_;
};
TempDir* TinyPlan::dir_ = nullptr;
ir::Graph* TinyPlan::graph_ = nullptr;

TEST_F(TinyPlan, PlanHasTheCutsItWasWrittenWith) {
  const Plan p = plan();
  ASSERT_EQ(p.stages.size(), 3U);
  EXPECT_EQ(p.cut_bytes_per_image, (std::vector<int64_t>{6, 3}));  // 16 x INT3, 12 x UINT2
  EXPECT_EQ(p.model_inputs.at(0).bytes_per_image(), 4);            // 8 x UINT4
  EXPECT_EQ(p.model_outputs.at(0).bytes_per_image(), 40);          // 10 x float32
}

TEST_F(TinyPlan, PipelineOnThreeNodesIsBitIdenticalAndEachCutCrossesOnce) {
  auto nodes = cluster(3);
  const Tensor x = testing::tiny_inputs(37, 1);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 4;
  const RunResult r = run(plan(), {x}, o);
  ASSERT_EQ(r.outputs.size(), 1U);
  EXPECT_TRUE(tensors_identical(r.outputs[0], whole(x)));
  EXPECT_EQ(r.report.mode, Mode::kPipeline);
  EXPECT_EQ(r.report.batches, 10);
  // Payload: inputs 4 B/image out of the client, outputs 40 B/image back, each cut's bytes/image
  // from the node before it (batches of 4 pack to whole bytes exactly here).
  EXPECT_EQ(r.report.client_payload_sent, 37 * 4);
  EXPECT_EQ(r.report.client_payload_received, 37 * 40);
  EXPECT_EQ(r.report.stages[0].payload_bytes_sent, 37 * 6);
  EXPECT_EQ(r.report.stages[1].payload_bytes_sent, 37 * 3);
  EXPECT_EQ(r.report.stages[2].payload_bytes_sent, 37 * 40);
  // Counted by the nodes themselves: node 1 received exactly what node 0 sent on, node 2 what
  // node 1 sent, and the client only the last node's results.
  const auto s0 = status(nodes.addresses()[0]), s1 = status(nodes.addresses()[1]), s2 = status(nodes.addresses()[2]);
  EXPECT_EQ(static_cast<int64_t>(s0.counters().bytes_received()), r.report.client_bytes_sent);
  EXPECT_EQ(s1.counters().bytes_received(), s0.counters().bytes_sent());
  EXPECT_EQ(s2.counters().bytes_received(), s1.counters().bytes_sent());
  EXPECT_EQ(static_cast<int64_t>(s2.counters().bytes_sent()), r.report.client_bytes_received);
  EXPECT_EQ(s1.counters().images(), 37U);
  // Framing per batch message is a handful of bytes (field tags, lengths, gRPC prefix).
  const double framing = static_cast<double>(r.report.stages[0].message_bytes_sent - r.report.stages[0].payload_bytes_sent) / 10.0;
  EXPECT_GT(framing, 5.0);
  EXPECT_LT(framing, 20.0);
  // Every stage loaded once, on its own node.
  for (const auto& st : r.report.stages) {
    EXPECT_EQ(st.reconfigurations, 1);
    EXPECT_EQ(st.images, 37);
    EXPECT_EQ(st.nodes.size(), 1U);
  }
  // A second run finds the stages stored and loaded: nothing uploaded, nothing reconfigured.
  const RunResult again = run(plan(), {x}, o);
  EXPECT_TRUE(tensors_identical(again.outputs[0], r.outputs[0]));
  EXPECT_EQ(again.report.upload_bytes, 0);
  for (const auto& st : again.report.stages) EXPECT_EQ(st.reconfigurations, 0);
}

TEST_F(TinyPlan, TimeshareOnTwoEmulatedNodesReconfiguresPerRoundAndModelsTime) {
  auto nodes = cluster(2, "emulated", false, "zedboard");
  const Tensor x = testing::tiny_inputs(17, 2);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 5;  // rounds of 5, 5, 5, 2 images
  const RunResult r = run(plan(), {x}, o);
  EXPECT_TRUE(tensors_identical(r.outputs[0], whole(x)));
  EXPECT_EQ(r.report.mode, Mode::kTimeshare);
  // Node 0 alternates stages 0 and 2 every round; node 1 keeps stage 1.
  EXPECT_EQ(r.report.stages[0].reconfigurations, 4);
  EXPECT_EQ(r.report.stages[1].reconfigurations, 1);
  EXPECT_EQ(r.report.stages[2].reconfigurations, 4);
  // What node 1's emulated board modelled for stage 1, worked out from the plan's timing:
  // one reconfiguration, compute (cp + (n-1) bn) / clock per round, link bytes*8/rate + latency.
  auto compute = [](double n) { return (400 + (n - 1) * 200) / 1e6; };
  auto link = [](double bytes) { return bytes * 8 / 1e8 + 1e-4; };
  const double expected = 0.05 + 3 * compute(5) + compute(2) + 3 * link(15) + link(6);
  EXPECT_NEAR(r.report.stages[1].node_modelled_s, expected, 1e-12);
  // The schedule model, playing the same rounds, charges the same reconfigure and compute time.
  EXPECT_NEAR(r.report.stages[1].reconfigure.modelled_s + r.report.stages[1].compute.modelled_s +
                  r.report.stages[1].network.modelled_s,
              expected, 1e-12);
  EXPECT_GT(r.report.modelled_images_per_s, 0.0);
}

TEST_F(TinyPlan, TimeshareRoundsSentInChunksStillReconfigureOncePerRound) {
  auto nodes = cluster(2, "emulated");
  const Tensor x = testing::tiny_inputs(23, 7);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 8;  // rounds of 8, 8, 7 images in messages of 3, 3, 2 | 3, 3, 2 | 3, 3, 1
  o.chunk = 3;
  const RunResult r = run(plan(), {x}, o);
  EXPECT_TRUE(tensors_identical(r.outputs[0], whole(x)));
  EXPECT_EQ(r.report.batches, 9);
  EXPECT_EQ(r.report.stages[0].reconfigurations, 3);
  EXPECT_EQ(r.report.stages[1].reconfigurations, 1);
  EXPECT_EQ(r.report.stages[2].reconfigurations, 3);
  EXPECT_EQ(status(nodes.addresses()[0]).counters().loads(), 6U);
  EXPECT_EQ(status(nodes.addresses()[1]).counters().batches(), 9U);
}

TEST_F(TinyPlan, ReplicatedStageSpreadsBatchesAndOrderIsRestored) {
  TempDir dir;
  testing::write_plan(*graph_, {2, 4}, dir.path(),
                      {stage_timing(100, 0.05), stage_timing(5000, 0.05), stage_timing(300, 0.05)});
  auto nodes = cluster(4);
  const Tensor x = testing::tiny_inputs(21, 3);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 2;
  o.replicate = true;
  const RunResult r = run(read_plan(dir.path()), {x}, o);
  EXPECT_TRUE(tensors_identical(r.outputs[0], whole(x)));
  EXPECT_EQ(r.report.schedule.replicas, (std::vector<int>{1, 2, 1}));
  EXPECT_EQ(r.report.stages[1].nodes.size(), 2U);
  // 11 batches alternate between the chains through node 1 and node 3.
  EXPECT_EQ(status(nodes.addresses()[1]).counters().batches(), 6U);
  EXPECT_EQ(status(nodes.addresses()[3]).counters().batches(), 5U);
  EXPECT_EQ(status(nodes.addresses()[0]).counters().batches(), 11U);
}

TEST_F(TinyPlan, PacedEmulatedBoardTakesItsModelledTime) {
  TempDir dir;
  // Reconfiguration 0.2 s; compute of a batch of 3: (400 + 2 * 50000) / 1e6 = 0.1004 s.
  testing::write_plan(*graph_, {2, 4}, dir.path(),
                      {stage_timing(50000, 0.2), stage_timing(50000, 0.2), stage_timing(50000, 0.2)});
  auto nodes = cluster(1, "emulated", true);
  const Tensor x = testing::tiny_inputs(3, 4);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 3;
  const RunResult r = run(read_plan(dir.path()), {x}, o);
  EXPECT_TRUE(tensors_identical(r.outputs[0], whole(x)));
  for (const auto& st : r.report.stages) {
    EXPECT_EQ(st.reconfigurations, 1);
    EXPECT_GE(st.reconfigure.measured_s, 0.2);
    EXPECT_LT(st.reconfigure.measured_s, 0.2 + 1.0);
    EXPECT_GE(st.compute.measured_s, 0.1004);
    EXPECT_NEAR(st.compute.modelled_s, 0.1004, 1e-12);
  }
  EXPECT_GE(r.report.wall_s, 3 * (0.2 + 0.1004));
}

TEST(WidePlan, ClientLinkCarriesOnlyInputsAndOutputsMeasuredOnTheSocket) {
  TempDir dir;
  const ir::Graph graph = testing::wide_model();
  testing::write_plan(graph, {2}, dir.path(), {stage_timing(100, 0.0), stage_timing(100, 0.0)});
  const Plan p = read_plan(dir.path());
  ASSERT_EQ(p.cut_bytes_per_image, (std::vector<int64_t>{1024}));
  node::LocalClusterOptions co;
  co.binary = testing::binary();
  co.nodes = 2;
  node::LocalCluster nodes(co);
  const Tensor x = testing::tiny_inputs(64, 5);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 8;
  run(p, {x}, o);  // uploads and loads, so the measured run below carries data only
  testing::CountingProxy proxy(nodes.addresses()[0]);
  o.nodes = {proxy.address(), nodes.addresses()[1]};
  const int64_t before = static_cast<int64_t>(NodeClient(nodes.addresses()[1], 64 << 20, 10).status().counters().bytes_received());
  const RunResult r = run(p, {x}, o);
  EXPECT_TRUE(tensors_identical(r.outputs[0], engine::Session(graph).run({x}).at(0)));
  const int64_t cut = 64 * 1024;
  const int64_t node1_received =
      static_cast<int64_t>(NodeClient(nodes.addresses()[1], 64 << 20, 10).status().counters().bytes_received()) - before;
  // The cut went from node 0 to node 1 directly...
  EXPECT_GE(node1_received, cut);
  // ... and the client's socket carried the inputs (4 B/image) and outputs (16 B/image) plus
  // HTTP/2 and record overhead: far less than the cut.
  EXPECT_LT(proxy.bytes_to_target(), cut / 4);
  EXPECT_LT(proxy.bytes_from_target(), cut / 4);
  EXPECT_GE(proxy.bytes_to_target(), 64 * 4);
  EXPECT_GE(proxy.bytes_from_target(), 64 * 16);
  std::printf("client socket: %lld B out, %lld B in; cut: %lld B node to node\n",
              static_cast<long long>(proxy.bytes_to_target()), static_cast<long long>(proxy.bytes_from_target()),
              static_cast<long long>(node1_received));
}

}  // namespace
}  // namespace dnnsplit::orchestrator
