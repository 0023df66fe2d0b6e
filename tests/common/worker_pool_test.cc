#include "services/common/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace forecast {
namespace {

TEST(WorkerPoolTest, RunsEveryPieceOfWorkOnItsOwnThreads) {
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  int done = 0;
  {
    WorkerPool pool(3);
    for (int i = 0; i < 100; ++i) {
      pool.Run([&] {
        absl::MutexLock lock(&mu);
        threads.insert(std::this_thread::get_id());
        ++done;
      });
    }
  }  // the destructor runs what is still queued
  EXPECT_EQ(done, 100);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_LE(threads.size(), 3u);
  EXPECT_GE(threads.size(), 1u);
}

TEST(WorkerPoolTest, WorkMayQueueMoreWork) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(1);
    pool.Run([&] {
      ++done;
      pool.Run([&] { ++done; });
    });
    while (done.load() < 2) std::this_thread::yield();
  }
  EXPECT_EQ(done.load(), 2);
}

}  // namespace
}  // namespace forecast
