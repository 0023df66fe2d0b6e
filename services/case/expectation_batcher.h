// Group commit for the one-statement expectation write (issue 10). Writes that arrive while
// earlier ones are being written wait, and the next free writer sends them all as one call of
// case_record_expectations() (migrations 0120, 0125): one round trip, one commit and one WAL
// flush for the lot. A write alone is sent at once, so an idle service adds no wait.
//
// Each write still succeeds or is refused on its own (the plain ones share one statement, and
// when it fails each runs alone in a subtransaction); nothing is acknowledged before its batch
// has committed.
//
// A write comes in two ways: Write waits (its thread may send the batch itself), WriteAsync
// returns at once and is answered from the thread that sent its batch. Once the first WriteAsync
// has started the batcher's sender threads, they and waiting writers lead alike.
#ifndef SERVICES_CASE_EXPECTATION_BATCHER_H_
#define SERVICES_CASE_EXPECTATION_BATCHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/case/case_store.h"
#include "services/common/pg_pool.h"

namespace forecast {

// Thread-safe. `pool` must outlive it.
class ExpectationBatcher {
 public:
  // A write's result, as Write returns it.
  using Result = absl::StatusOr<std::optional<std::string>>;

  // Writes sent in one call at most (see migration 0120 for why 32).
  static constexpr size_t kMaxBatch = 32;

  // How calls are formed. The defaults are the measured best (README, "Writes"); the write
  // benchmark's `tuning` section compares others in one process, in turn.
  struct Tuning {
    // Calls in flight at once: one per core of the database machine keeps it busy while a batch
    // waits for its WAL flush.
    int calls_in_flight = 2;
    // While at least gather_while_in_flight calls are in flight, a sender holds fewer than
    // gather_writes writes back for up to gather_for, or until fewer calls are in flight:
    // per-call costs (round trip, commit, start-up) were most of a write's at 8 writers, whose
    // calls carried 2.4 writes. 4 against 6 at 8 writers, in slices taken in turn: +7.5%,
    // +6.3% and -0.6% writes/s in three runs. gather_writes <= 1: no gathering.
    size_t gather_writes = 4;
    int gather_while_in_flight = 1;
    absl::Duration gather_for = absl::Milliseconds(2);
  };
  // Sender threads at most (Tuning::calls_in_flight is capped by it).
  static constexpr int kMaxSenders = 4;

  explicit ExpectationBatcher(PgPool& pool) : pool_(pool) {}
  // Waits for the writes in flight; no WriteAsync may be called meanwhile.
  ~ExpectationBatcher();
  ExpectationBatcher(const ExpectationBatcher&) = delete;
  ExpectationBatcher& operator=(const ExpectationBatcher&) = delete;

  // Writes `write` (with whatever writes are waiting) and returns the case as
  // case_record_expectation() answers it (JSON text, with "case_id"), or nullopt when the
  // statement refused it (the general path decides). An error status when the call failed as a
  // whole (database unavailable; or lost at commit: then the write may have committed).
  Result Write(const ExpectationWrite& write);
  // As Write, without waiting: `done` gets the result on the thread that sent the batch, and
  // must not block on the database. `write` must stay valid until then.
  void WriteAsync(const ExpectationWrite& write, std::function<void(Result)> done);

  // Applies `tuning` to the calls formed from now on (calls_in_flight capped to 1..kMaxSenders,
  // gather_while_in_flight at least 1, so that a write alone is always sent at once).
  void set_tuning(const Tuning& tuning);

  // Calls sent and writes they carried, since construction.
  int64_t batches_sent() const;
  int64_t writes_sent() const;

 private:
  struct Pending {
    const ExpectationWrite* write;
    std::function<void(Result)> answer;  // set for WriteAsync, which owns no stack frame
    bool done = false;
    Result result = std::optional<std::string>();
  };

  // Starts sender threads up to tuning_.calls_in_flight.
  void StartSenders() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes what waits (at most kMaxBatch), sends it as one call and answers every write in it:
  // a waiting writer is marked done, an async one's answer runs (without mu_).
  void Lead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `batch` as one call and fills in every item's result. Called without mu_.
  void Send(const std::vector<Pending*>& batch);
  // A sender thread: leads whenever writes wait and a call slot is free.
  void SenderLoop();

  PgPool& pool_;
  mutable absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  Tuning tuning_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_sent_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t writes_sent_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> senders_ ABSL_GUARDED_BY(mu_);
};

}  // namespace forecast

#endif  // SERVICES_CASE_EXPECTATION_BATCHER_H_
