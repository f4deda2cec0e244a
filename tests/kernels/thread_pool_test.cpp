// The plan's worker pool: every worker runs, concurrently (a worker waits for another one's
// signal, which a sequential pool could never give), and errors reach the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "plan.h"

namespace dnnsplit::kernels {
namespace {

TEST(ThreadPool, EveryWorkerRunsOncePerCall) {
  ThreadPool pool(3);
  ASSERT_EQ(pool.size(), 3);
  for (int n : {1, 2, 3, 5}) {
    std::atomic<int> mask{0};
    std::atomic<int> calls{0};
    pool.run(n, [&](int worker) {
      mask |= 1 << worker;
      ++calls;
    });
    const int used = std::min(n, 3);
    EXPECT_EQ(calls.load(), used) << "n=" << n;
    EXPECT_EQ(mask.load(), (1 << used) - 1) << "n=" << n;
  }
}

TEST(ThreadPool, WorkersRunConcurrently) {
  ThreadPool pool(2);
  std::mutex m;
  std::condition_variable cv;
  bool signalled = false;
  bool seen = false;
  pool.run(2, [&](int worker) {
    std::unique_lock<std::mutex> lock(m);
    if (worker == 1) {
      signalled = true;
      cv.notify_all();
    } else {
      // Bounded wait: a pool that ran worker 1 only after worker 0 would time out here.
      seen = cv.wait_for(lock, std::chrono::seconds(30), [&] { return signalled; });
    }
  });
  EXPECT_TRUE(seen);
}

TEST(ThreadPool, ErrorsReachTheCaller) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(2, [](int worker) {
                 if (worker == 1) throw std::runtime_error("worker failed");
               }),
               std::runtime_error);
  EXPECT_THROW(pool.run(2, [](int worker) {
                 if (worker == 0) throw std::runtime_error("caller failed");
               }),
               std::runtime_error);
  int calls = 0;
  pool.run(1, [&](int) { ++calls; });  // still usable
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace dnnsplit::kernels
