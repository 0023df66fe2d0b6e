// The case-read access log (issue 8, GDPR): every read of a case - who, when, which case, through
// which call - is recorded in table case_read (migration 0010), and only data-protection queries
// (admins) read it back.
//
// Writing: group commit. Record() queues its rows and waits until a background thread has
// inserted them, in one INSERT for everything queued meanwhile (so concurrent readers share a
// statement and a commit). A read is answered only after its rows are stored; when they cannot
// be stored, Record() fails and the read fails with it (UNAVAILABLE): no read goes unlogged
// silently. Neither service's role may read, change or delete the rows (insert only); the
// query and the retention purge go through SECURITY DEFINER functions of 0010.
#ifndef SERVICES_COMMON_AUDIT_CASE_READ_LOG_H_
#define SERVICES_COMMON_AUDIT_CASE_READ_LOG_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "forecast/v1/identity_service.pb.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"

namespace forecast::audit {

// Where reads are recorded. Implementations are thread-safe.
class CaseReadLog {
 public:
  virtual ~CaseReadLog() = default;
  // Records that `caller` read `case_refs` (of the caller's job centre) through `call`, the full
  // RPC name ("/forecast.v1.CaseService/GetCase"). Returns once stored; UNAVAILABLE when the
  // rows cannot be stored (the read must then fail). Refs naming no case are skipped.
  virtual absl::Status Record(const Caller& caller, absl::string_view call,
                              const std::vector<std::string>& case_refs) = 0;
};

// The log in PostgreSQL (table case_read), written by one background thread. Thread-safe.
class PgCaseReadLog final : public CaseReadLog {
 public:
  // Keeps a reference to `pool`, which must outlive the log. Starts the writer thread.
  explicit PgCaseReadLog(PgPool& pool);
  // Writes what is queued, then stops the writer thread.
  ~PgCaseReadLog() override;
  PgCaseReadLog(const PgCaseReadLog&) = delete;
  PgCaseReadLog& operator=(const PgCaseReadLog&) = delete;

  absl::Status Record(const Caller& caller, absl::string_view call,
                      const std::vector<std::string>& case_refs) override;

  // Deletes rows older than `keep` (at least one day, enforced by the database); the number
  // deleted. Thread-safe.
  absl::StatusOr<int64_t> Purge(absl::Duration keep);

  // Rows and INSERT statements written so far (for tests and benchmarks). Thread-safe.
  int64_t rows_written() const;
  int64_t statements_written() const;

 private:
  struct Row {
    int64_t job_centre_id;
    int64_t staff_id;
    std::string case_ref;
    std::string call;
    absl::Time at;
  };
  void WriterLoop();
  absl::Status Insert(const std::vector<Row>& rows);

  PgPool& pool_;
  mutable std::mutex mu_;
  std::condition_variable queued_;   // rows arrived, or stopping
  std::condition_variable written_;  // a batch finished
  std::vector<Row> pending_;
  uint64_t next_batch_ = 1;      // the batch that pending_ will become
  uint64_t finished_batch_ = 0;  // every batch up to this one has finished
  std::deque<std::pair<uint64_t, absl::Status>> results_;  // recent batches' outcomes
  bool stopping_ = false;
  int64_t rows_written_ = 0;
  int64_t statements_written_ = 0;
  std::thread writer_;
};

// Purges rows older than `keep` every `every` on a background thread (the case service's
// --case-read-retention-days). Thread-safe; the destructor stops the thread.
class CaseReadRetention {
 public:
  CaseReadRetention(PgCaseReadLog& log, absl::Duration keep, absl::Duration every);
  ~CaseReadRetention();
  CaseReadRetention(const CaseReadRetention&) = delete;
  CaseReadRetention& operator=(const CaseReadRetention&) = delete;

 private:
  PgCaseReadLog& log_;
  const absl::Duration keep_;
  const absl::Duration every_;
  std::mutex mu_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

// IdentityService.ListCaseReads: "who looked at case S-001", "what did CW0101 look at", newest
// first, in pages. Admins only (PERMISSION_DENIED for everyone else); the caller's job centre
// only. Thread-safe.
class CaseReadQuery {
 public:
  explicit CaseReadQuery(PgPool& pool) : pool_(pool) {}
  absl::StatusOr<v1::ListCaseReadsResponse> List(const Caller& caller,
                                                 const v1::ListCaseReadsRequest& request);

 private:
  PgPool& pool_;
};

// Every case reference in `message`: string fields named case_ref and repeated string fields
// named case_refs or agreed_case_refs, at any depth, each once, in order of first appearance.
// Thread-safe (pure).
std::vector<std::string> CaseRefsIn(const google::protobuf::Message& message);

// The gate every answer carrying case rows passes before it leaves a service: admins are
// refused (they configure; they do not read cases), and the reads are recorded. PERMISSION_DENIED
// for an admin, UNAVAILABLE when the log cannot be written; OK otherwise. Thread-safe when the
// log is.
absl::Status ReleaseCaseRows(CaseReadLog& log, const Caller& caller, absl::string_view call,
                             const google::protobuf::Message& response);

}  // namespace forecast::audit

#endif  // SERVICES_COMMON_AUDIT_CASE_READ_LOG_H_
