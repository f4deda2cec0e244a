// Schedules and the schedule model, checked against timelines worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "dnnsplit/error.h"
#include "dnnsplit/orchestrator.h"

namespace dnnsplit::orchestrator {
namespace {

// One-byte tensors everywhere; 100 Hz clocks and 8 bit/s links make times easy to add up:
// compute(n) = (cp + (n - 1) * bn) / 100 s, a transfer of b bytes takes b seconds.
wire::TensorSpec byte_tensor(const std::string& name) {
  ir::QuantType q;
  q.bits = 8;
  q.is_signed = false;
  return {name, ElemType::kFloat, {1, 1}, q};
}

Plan toy_plan(const std::vector<std::pair<double, double>>& cycles, double reconfig_s) {
  Plan plan;
  plan.model_inputs = {byte_tensor("in")};
  for (size_t s = 0; s < cycles.size(); ++s) {
    PlanStage st;
    st.index = static_cast<int>(s);
    st.inputs = {s == 0 ? plan.model_inputs[0] : byte_tensor("t" + std::to_string(s - 1))};
    st.outputs = {byte_tensor(s + 1 == cycles.size() ? "out" : "t" + std::to_string(s))};
    st.timing = {"toy", 100.0, cycles[s].second, cycles[s].first, reconfig_s, 8.0, 0.0};
    plan.stages.push_back(st);
  }
  plan.model_outputs = plan.stages.back().outputs;
  return plan;
}

TEST(Schedule, AutoPicksPipelineOrTimeshareAndMapsStagesToNodes) {
  const Plan plan = toy_plan({{10, 10}, {10, 10}, {10, 10}}, 1.0);
  const Schedule pipeline = make_schedule(plan, 3, Mode::kAuto, false);
  EXPECT_EQ(pipeline.mode, Mode::kPipeline);
  EXPECT_EQ(pipeline.chains, (std::vector<std::vector<int>>{{0, 1, 2}}));
  const Schedule timeshare = make_schedule(plan, 2, Mode::kAuto, false);
  EXPECT_EQ(timeshare.mode, Mode::kTimeshare);
  EXPECT_EQ(timeshare.chains, (std::vector<std::vector<int>>{{0, 1, 0}}));
  EXPECT_EQ(make_schedule(plan, 5, Mode::kTimeshare, false).chains, (std::vector<std::vector<int>>{{0, 1, 2}}));
}

TEST(Schedule, ReplicationGivesSpareNodesToTheSlowestStageOneAtATime) {
  // Seconds per image: 0.1, 0.4, 0.15 -> spare 1 to stage 1 (0.2), spare 2 to stage 1 again
  // (0.2 > 0.15), giving replicas 1, 3, 1 and lcm = 3 chains.
  const Plan plan = toy_plan({{10, 10}, {40, 40}, {15, 15}}, 1.0);
  // The link (1 byte = 1 s) must not dominate here: make it fast.
  Plan fast = plan;
  for (auto& s : fast.stages) s.timing.link_bits_per_s = 1e9;
  const Schedule five = make_schedule(fast, 5, Mode::kPipeline, true);
  EXPECT_EQ(five.replicas, (std::vector<int>{1, 3, 1}));
  EXPECT_EQ(five.chains, (std::vector<std::vector<int>>{{0, 1, 2}, {0, 3, 2}, {0, 4, 2}}));
  const Schedule four = make_schedule(fast, 4, Mode::kPipeline, true);
  EXPECT_EQ(four.chains, (std::vector<std::vector<int>>{{0, 1, 2}, {0, 3, 2}}));
  // Without --replicate spare nodes stay idle.
  EXPECT_EQ(make_schedule(fast, 5, Mode::kPipeline, false).chains.size(), 1U);
}

TEST(Schedule, ImpossibleRequestsAreRefusedWithTheReason) {
  const Plan plan = toy_plan({{10, 10}, {10, 10}, {10, 10}}, 1.0);
  try {
    make_schedule(plan, 2, Mode::kPipeline, false);
    FAIL() << "pipeline on 2 nodes for 3 stages";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 stages, 2 nodes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_schedule(plan, 2, Mode::kTimeshare, true), Error);
  EXPECT_THROW(make_schedule(plan, 0, Mode::kAuto, false), Error);
  EXPECT_THROW(parse_mode("fast"), Error);
}

TEST(ScheduleModel, PipelineTimelineMatchesTheHandComputedOne) {
  // Stage 0: cp 30, bn 10 -> 0.4 s per batch of 2; stage 1: cp 20, bn 20 -> 0.4 s. Reconfigure 1 s.
  // batch 0: in [0,2]; s0 [2,2.4]; send [2.4,4.4]; s1 [4.4,4.8]; send [4.8,6.8]
  // batch 1: in [2,4]; s0 [4,4.4]; send [4.4,6.4]; s1 [6.4,6.8]; send [6.8,8.8]
  const Plan plan = toy_plan({{30, 10}, {20, 20}}, 1.0);
  const Schedule schedule = make_schedule(plan, 2, Mode::kPipeline, false);
  const ModelledRun run = model_run(plan, schedule, 2, 4);
  EXPECT_NEAR(run.seconds, 8.8, 1e-9);
  EXPECT_NEAR(run.images_per_s, 4 / 8.8, 1e-9);
  // Compute-only bound: the slowest stage per image, 0.2 s (stage 1's bn 20 at 100 Hz).
  EXPECT_NEAR(run.compute_bound_images_per_s, 5.0, 1e-9);
  int reconfigurations = 0;
  for (const auto& e : run.events) reconfigurations += e.kind == ModelledEvent::kReconfigure;
  EXPECT_EQ(reconfigurations, 2);
  // A node that already holds its stage does not reconfigure.
  ModelOptions loaded;
  loaded.initially_loaded = {0, 1};
  EXPECT_NEAR(model_run(plan, schedule, 2, 4, loaded).seconds, 8.8, 1e-9);  // the input link dominated anyway
  EXPECT_NEAR(model_run(plan, schedule, 2, 2, loaded).seconds, 6.8, 1e-9);
}

TEST(ScheduleModel, TimeshareRoundsReconfigureInStageOrderAndOverlap) {
  // 3 stages on 2 nodes (s0, s2 on node 0; s1 on node 1), 1 image per round, compute 0.1 s,
  // reconfigure 1 s, every transfer 1 s. Worked out in the comments below.
  const Plan plan = toy_plan({{10, 10}, {10, 10}, {10, 10}}, 1.0);
  const Schedule schedule = make_schedule(plan, 2, Mode::kTimeshare, false);
  // Round 0: in [0,1]; n0 load s0 [0,1], s0 [1,1.1], send [1.1,2.1]; n1 load s1 [0,1], s1 [2.1,2.2],
  //   send [2.2,3.2]; n0 load s2 [1.1,2.1], s2 [3.2,3.3], send [3.3,4.3].
  // Round 1 (open at once with 2 rounds in flight): in [1,2]; n0 load s0 [3.3,4.3], s0 [4.3,4.4],
  //   send [4.4,5.4]; n1 keeps s1: [5.4,5.5], send [5.5,6.5]; n0 load s2 [4.4,5.4], s2 [6.5,6.6],
  //   send [6.6,7.6].
  ModelOptions two;
  two.rounds_in_flight = 2;
  const ModelledRun run = model_run(plan, schedule, 1, 2, two);
  EXPECT_NEAR(run.seconds, 7.6, 1e-9);
  int reconfigurations = 0;
  for (const auto& e : run.events) reconfigurations += e.kind == ModelledEvent::kReconfigure;
  EXPECT_EQ(reconfigurations, 5);
  EXPECT_NEAR(run.compute_bound_images_per_s, 5.0, 1e-9);  // node 0 computes 0.1 + 0.1 s per image
  // One round at a time: round 1 opens at 4.3: in [4.3,5.3]; load s0 [4.3,5.3]; s0 [5.3,5.4];
  //   send [5.4,6.4]; s1 [6.4,6.5]; send [6.5,7.5]; load s2 [5.4,6.4]; s2 [7.5,7.6]; send [7.6,8.6].
  ModelOptions one;
  one.rounds_in_flight = 1;
  EXPECT_NEAR(model_run(plan, schedule, 1, 2, one).seconds, 8.6, 1e-9);
}

TEST(ScheduleModel, SplitImagesIntoBatchesRoundsAndChunks) {
  using Groups = std::vector<std::vector<int64_t>>;
  EXPECT_EQ(split_images(Mode::kPipeline, 10, 4, 3), (Groups{{4}, {4}, {2}}));  // chunk is time-share only
  EXPECT_EQ(split_images(Mode::kTimeshare, 10, 4, 3), (Groups{{3, 1}, {3, 1}, {2}}));
  EXPECT_EQ(split_images(Mode::kTimeshare, 40, 40, 0), (Groups{{16, 16, 8}}));
  EXPECT_EQ(split_images(Mode::kTimeshare, 3, 8, 0), (Groups{{3}}));
}

TEST(ScheduleModel, ChunkedRoundLetsTheNextStageStartEarly) {
  // 2 stages time-shared on 1 node, one round of 2 images, compute 0.1 s per image (cp = bn),
  // reconfigure 1 s, 1 s per byte.
  const Plan plan = toy_plan({{10, 10}, {10, 10}}, 1.0);
  const Schedule schedule = make_schedule(plan, 1, Mode::kAuto, false);
  // Chunks of 1: in [0,1], [1,2]; load s0 [0,1]; s0 [1,1.1], [2,2.1]; sends [1.1,2.1], [2.1,3.1];
  //   load s1 [2.1,3.1]; s1 [3.1,3.2], [3.2,3.3]; sends [3.2,4.2], [4.2,5.2].
  ModelOptions chunked;
  chunked.chunk = 1;
  EXPECT_NEAR(model_run(plan, schedule, 2, 2, chunked).seconds, 5.2, 1e-9);
  // One message of 2: in [0,2]; load s0 [0,1]; s0 [2,2.2]; send [2.2,4.2]; load s1 [2.2,3.2];
  //   s1 [4.2,4.4]; send [4.4,6.4].
  ModelOptions whole;
  whole.chunk = 2;
  EXPECT_NEAR(model_run(plan, schedule, 2, 2, whole).seconds, 6.4, 1e-9);
}

TEST(ScheduleModel, LargerBatchesAmortiseReconfiguration) {
  // The time-share claim: reconfiguration per image falls as 1/B.
  const Plan plan = toy_plan({{10, 1}, {10, 1}, {10, 1}, {10, 1}}, 0.23);
  Plan fast = plan;
  for (auto& s : fast.stages) s.timing.link_bits_per_s = 1e9;
  const Schedule schedule = make_schedule(fast, 2, Mode::kTimeshare, false);
  double previous = 0;
  for (int64_t b : {1, 8, 64, 256}) {
    const double ips = model_run(fast, schedule, b, 1024).images_per_s;
    EXPECT_GT(ips, previous) << "batch " << b;
    previous = ips;
  }
  EXPECT_LT(previous, model_run(fast, schedule, 256, 1024).compute_bound_images_per_s);
}

}  // namespace
}  // namespace dnnsplit::orchestrator
