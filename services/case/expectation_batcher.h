// Group commit for the one-statement expectation write (issue 10). Writes that arrive while
// earlier ones are being written wait, and the next free writer sends them all as one call of
// case_record_expectations() (migration 0120): one round trip, one commit and one WAL flush
// for the lot. A write alone is sent at once, so an idle service adds no wait.
//
// Each write still succeeds or is refused on its own (a subtransaction each); nothing is
// acknowledged before its batch has committed.
#ifndef SERVICES_CASE_EXPECTATION_BATCHER_H_
#define SERVICES_CASE_EXPECTATION_BATCHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/case/case_store.h"
#include "services/common/pg_pool.h"

namespace forecast {

// Thread-safe. `pool` must outlive it.
class ExpectationBatcher {
 public:
  // Writes sent in one call at most (see migration 0120 for why 32).
  static constexpr size_t kMaxBatch = 32;
  // Calls in flight at once: one per core of the database machine keeps it busy while a batch
  // waits for its WAL flush.
  static constexpr int kMaxInFlight = 2;

  explicit ExpectationBatcher(PgPool& pool) : pool_(pool) {}
  ExpectationBatcher(const ExpectationBatcher&) = delete;
  ExpectationBatcher& operator=(const ExpectationBatcher&) = delete;

  // Writes `write` (with whatever writes are waiting) and returns the case as
  // case_record_expectation() answers it (JSON text, with "case_id"), or nullopt when the
  // statement refused it (the general path decides). An error status when the call failed as a
  // whole (database unavailable; or lost at commit: then the write may have committed).
  absl::StatusOr<std::optional<std::string>> Write(const ExpectationWrite& write);

  // Calls sent and writes they carried, since construction.
  int64_t batches_sent() const;
  int64_t writes_sent() const;

 private:
  struct Pending {
    const ExpectationWrite* write;
    bool done = false;
    absl::StatusOr<std::optional<std::string>> result = std::optional<std::string>();
  };

  // Sends `batch` as one call and fills in every item's result. Called without mu_.
  void Send(const std::vector<Pending*>& batch);

  PgPool& pool_;
  mutable absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t writes_sent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace forecast

#endif  // SERVICES_CASE_EXPECTATION_BATCHER_H_
