// Announces committed case changes on 'case_changed' (services/common/case_change_notice.h),
// after the commit and in batches, from a thread of its own.
//
// Why not NOTIFY inside the write: PostgreSQL serialises the commits of notifying transactions
// on one database-wide lock held through the commit's WAL flush, so every write would wait for
// every other write's fsync and group commit would be lost (issue 10: writes at 6-18% of
// pgbench). Announced afterwards, writes commit in parallel and one small transaction
// (synchronous_commit off) carries the notices of many.
//
// What it gives up: a notice is lost when the process dies between a commit and the batch that
// announces it (a few milliseconds). The service announces RESYNC when it starts, and the
// forecast service then catches up on every case changed since its last confirmed mark.
#ifndef SERVICES_CASE_CHANGE_ANNOUNCER_H_
#define SERVICES_CASE_CHANGE_ANNOUNCER_H_

#include <cstdint>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/case_change_notice.h"
#include "services/common/pg_pool.h"

namespace forecast {

// Thread-safe. `pool` must outlive it.
class ChangeAnnouncer {
 public:
  // Starts the announcing thread; it takes a connection from `pool` per batch.
  explicit ChangeAnnouncer(PgPool& pool);
  // Sends what is queued (for at most a few seconds if the database is away), then stops.
  ~ChangeAnnouncer();
  ChangeAnnouncer(const ChangeAnnouncer&) = delete;
  ChangeAnnouncer& operator=(const ChangeAnnouncer&) = delete;

  // Queues a notice of a committed change; never waits for the database.
  void Announce(CaseChangeNotice notice);

  // True once everything queued before the call was sent; false after `timeout`.
  bool Flush(absl::Duration timeout);

  // Notify transactions sent so far (for tests and benchmarks).
  int64_t transactions_sent() const;

  // Queued notices beyond this are folded into one BULK notice per job centre (the listener
  // then reads the centre whole) so a long outage cannot grow the queue without bound.
  static constexpr size_t kMaxQueued = 20000;

  // Notify transactions start at least this far apart: a notice that finds the announcer idle
  // for longer goes at once, and under load one transaction carries the notices of every write
  // of the interval (at 8 writers and 2 ms it was one transaction per 2.6 writes, each a
  // PostgreSQL round trip, parse and commit). A full batch goes without waiting.
  static constexpr absl::Duration kMinInterval = absl::Milliseconds(20);
  static constexpr size_t kGatherUpTo = 256;

 private:
  void Loop();
  // Sends one batch in one transaction. False when the database could not be reached.
  bool Send(const std::vector<CaseChangeNotice>& batch);

  PgPool& pool_;
  mutable absl::Mutex mu_;
  std::vector<CaseChangeNotice> queue_ ABSL_GUARDED_BY(mu_);
  int64_t queued_total_ ABSL_GUARDED_BY(mu_) = 0;  // notices ever queued
  int64_t sent_total_ ABSL_GUARDED_BY(mu_) = 0;    // of those, sent (or folded and sent)
  int64_t transactions_ ABSL_GUARDED_BY(mu_) = 0;  // notify transactions sent
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace forecast

#endif  // SERVICES_CASE_CHANGE_ANNOUNCER_H_
