// A fixed number of threads running queued work in order of arrival: for blocking work that a
// caller must not do on its own thread (gRPC's callback threads must not wait on PostgreSQL).
#ifndef SERVICES_COMMON_WORKER_POOL_H_
#define SERVICES_COMMON_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace forecast {

// Thread-safe. The threads start with the first Run; the destructor runs what is queued, then
// joins them.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) : size_(threads < 1 ? 1 : threads) {}
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `work` for one of the threads.
  void Run(std::function<void()> work);

 private:
  void Loop();

  const int size_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace forecast

#endif  // SERVICES_COMMON_WORKER_POOL_H_
