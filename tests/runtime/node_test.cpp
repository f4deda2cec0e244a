// The node's core pieces on their own: the board's ticket order, the stage store, the emulated
// board's formulas.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backend.h"
#include "device.h"
#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "runtime_support.h"
#include "store.h"

namespace dnnsplit::node {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

TEST(Device, SameStageSharesTheBoardAnotherWaitsAndReloadsInTicketOrder) {
  Device device;
  std::vector<std::string> log;
  std::mutex log_mutex;
  auto note = [&](const std::string& s) {
    std::lock_guard lock(log_mutex);
    log.push_back(s);
  };
  const uint64_t a = device.enqueue("s1"), b = device.enqueue("s1"), c = device.enqueue("s2");
  Device::Grant grant;
  ASSERT_TRUE(device.acquire(a, "s1", [&] { note("load s1"); }, [] { return false; }, grant));
  EXPECT_FALSE(grant.already_loaded);
  ASSERT_TRUE(device.acquire(b, "s1", [&] { note("load s1 again"); }, [] { return false; }, grant));
  EXPECT_TRUE(grant.already_loaded);  // shares the loaded stage, no reconfiguration
  std::atomic<bool> c_granted{false};
  std::thread t([&] {
    Device::Grant g;
    device.acquire(c, "s2", [&] { note("load s2"); }, [] { return false; }, g);
    c_granted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(c_granted.load());  // two users of s1 hold the board
  device.release();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(c_granted.load());
  device.release();
  t.join();
  EXPECT_TRUE(c_granted.load());
  EXPECT_EQ(device.loaded(), "s2");
  EXPECT_EQ(log, (std::vector<std::string>{"load s1", "load s2"}));
  device.release();
}

TEST(Device, ALaterTicketForTheLoadedStageWaitsBehindAnEarlierOtherStage) {
  // FIFO: the s2 ticket came first, so the second s1 ticket may not jump it by sharing.
  Device device;
  Device::Grant g;
  const uint64_t a = device.enqueue("s1");
  ASSERT_TRUE(device.acquire(a, "s1", [] {}, [] { return false; }, g));
  const uint64_t b = device.enqueue("s2");
  const uint64_t c = device.enqueue("s1");
  std::atomic<int> order{0};
  int b_at = 0, c_at = 0;
  std::thread tb([&] {
    Device::Grant x;
    device.acquire(b, "s2", [] {}, [] { return false; }, x);
    b_at = ++order;
    device.release();
  });
  std::thread tc([&] {
    Device::Grant x;
    device.acquire(c, "s1", [] {}, [] { return false; }, x);
    c_at = ++order;
    device.release();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(order.load(), 0);
  device.release();
  tb.join();
  tc.join();
  EXPECT_EQ(b_at, 1);
  EXPECT_EQ(c_at, 2);
}

TEST(Device, AbandonedTicketLeavesTheQueueAndFailedReloadFreesTheBoard) {
  Device device;
  Device::Grant g;
  const uint64_t a = device.enqueue("s1");
  ASSERT_TRUE(device.acquire(a, "s1", [] {}, [] { return false; }, g));
  const uint64_t b = device.enqueue("s2");
  const uint64_t c = device.enqueue("s3");
  std::atomic<bool> give_up{false};
  std::thread tb([&] {
    Device::Grant x;
    EXPECT_FALSE(device.acquire(b, "s2", [] {}, [&] { return give_up.load(); }, x));
  });
  give_up = true;
  tb.join();
  device.release();
  // s3's reload throws: the exception passes through and the board is free again.
  EXPECT_THROW(device.acquire(c, "s3", [] { throw Error("bitstream rejected"); }, [] { return false; }, g), Error);
  const uint64_t d = device.enqueue("s1");
  EXPECT_TRUE(device.acquire(d, "s1", [] {}, [] { return false; }, g));
  EXPECT_FALSE(g.already_loaded);  // the failed reload left nothing loaded
}

class Store : public ::testing::Test {
 protected:
  void SetUp() override { model_ = export_model_to_bytes(testing::tiny_model()); }
  std::string model_;
  TempDir dir_;
};

TEST_F(Store, CommittedStageIsKeptUnderItsShaAndSurvivesReopening) {
  const std::string root = dir_.file("store");
  const std::string sha = wire::sha256_hex(model_);
  {
    StageStore store(root, 1 << 20);
    auto upload = store.begin_upload({sha, model_.size(), "stage-0.onnx"});
    upload->append(model_.substr(0, 100));
    upload->append(model_.substr(100));
    EXPECT_FALSE(upload->commit());
    EXPECT_TRUE(store.contains(sha));
    EXPECT_EQ(store.graph(sha)->nodes.size(), 5U);
  }
  std::ofstream(root + "/.upload-7.part") << "interrupted";
  StageStore reopened(root, 1 << 20);
  ASSERT_EQ(reopened.list().size(), 1U);
  EXPECT_EQ(reopened.list()[0].name, "stage-0.onnx");
  EXPECT_EQ(reopened.list()[0].size_bytes, model_.size());
  EXPECT_FALSE(fs::exists(root + "/.upload-7.part"));
  std::set<std::string> files;
  for (const auto& e : fs::directory_iterator(root)) files.insert(e.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{sha + ".onnx", sha + ".json"}));
  // The same bytes again: reported as already stored, nothing new written.
  auto again = reopened.begin_upload({sha, model_.size(), "again.onnx"});
  again->append(model_);
  EXPECT_TRUE(again->commit());
}

TEST_F(Store, BadUploadsLeaveNothingBehind) {
  const std::string root = dir_.file("store");
  StageStore store(root, 1000);
  ASSERT_GT(model_.size(), 1000U);
  const std::string sha = wire::sha256_hex(model_);
  EXPECT_THROW(store.begin_upload({"../../etc/passwd", 10, ""}), Error);
  EXPECT_THROW(store.begin_upload({sha, model_.size(), ""}), LimitError);  // above the 1000-byte limit
  {
    auto upload = store.begin_upload({sha, 10, ""});
    EXPECT_THROW(upload->append(std::string(11, 'x')), LimitError);
  }
  {
    const std::string bytes = "not a model";
    auto upload = store.begin_upload({wire::sha256_hex("something else"), bytes.size(), ""});
    upload->append(bytes);
    try {
      upload->commit();
      FAIL() << "sha256 mismatch accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("sha256 of the received bytes is " + wire::sha256_hex(bytes)),
                std::string::npos);
    }
  }
  {
    const std::string bytes = "not a model";
    auto upload = store.begin_upload({wire::sha256_hex(bytes), bytes.size(), "junk.onnx"});
    upload->append(bytes);
    EXPECT_THROW(upload->commit(), Error);
  }
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(fs::is_empty(root));
  try {
    store.graph(sha);
    FAIL() << "unknown stage";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not in the store"), std::string::npos);
  }
}

TEST(EmulatedBoard, FormulasAndRefusals) {
  const StageTiming t{"zedboard", 100e6, 36864, 307570, 0.2298, 100e6, 1e-4};
  EXPECT_DOUBLE_EQ(modelled_compute_seconds(t, 1), 307570 / 100e6);
  EXPECT_DOUBLE_EQ(modelled_compute_seconds(t, 8), (307570 + 7 * 36864) / 100e6);
  EXPECT_DOUBLE_EQ(modelled_link_seconds(t, 64 * 8), 64 * 8 * 8 / 100e6 + 1e-4);
  auto emulated = make_emulated_backend(1, false);
  StageImage stage;
  stage.index = 3;
  stage.graph = std::make_shared<const ir::Graph>(testing::tiny_model());
  stage.timing = t;
  EXPECT_NO_THROW(emulated->check_stage(stage));
  EXPECT_DOUBLE_EQ(emulated->load(stage), 0.2298);
  const auto out = emulated->infer({testing::tiny_inputs(8, 1)}, 8);
  EXPECT_DOUBLE_EQ(out.modelled_s, modelled_compute_seconds(t, 8));
  stage.timing.clock_hz = 0;
  try {
    emulated->check_stage(stage);
    FAIL() << "no clock accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stage 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("clock_hz"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_backend("cpu", 1, true), Error);  // pacing needs a board model
  EXPECT_THROW(make_backend("fpga", 1, false), Error);
  EXPECT_DOUBLE_EQ(make_cpu_backend(1)->link_seconds(t, 1000), 0.0);
}

}  // namespace
}  // namespace dnnsplit::node
