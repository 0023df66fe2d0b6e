// Bounds imports (ImportHistory): one per job centre at a time across every case-service process
// (a PostgreSQL session advisory lock, held on a connection of its own for the import's
// duration, so a crashed process releases it), and at most `max_concurrent` in this process
// (each import holds a pooled database connection and a transaction for its whole duration).
#ifndef SERVICES_CASE_IMPORT_GUARD_H_
#define SERVICES_CASE_IMPORT_GUARD_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"

namespace forecast {

class ImportGuard {
 public:
  // Permission to run one import; releases the lock and the slot when destroyed.
  class Ticket {
   public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class ImportGuard;
    Ticket(ImportGuard* guard, std::unique_ptr<pqxx::connection> conn)
        : guard_(guard), conn_(std::move(conn)) {}
    ImportGuard* guard_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Connects lazily, per import. `max_concurrent` >= 1. Thread-safe.
  ImportGuard(std::string conninfo, int max_concurrent);

  // FAILED_PRECONDITION when an import for the job centre is running (here or in another
  // process), RESOURCE_EXHAUSTED when this process runs `max_concurrent` imports already,
  // UNAVAILABLE when the database cannot be reached. Thread-safe.
  absl::StatusOr<std::unique_ptr<Ticket>> Enter(int64_t job_centre_id);

  // Imports running in this process now. Thread-safe.
  int running() const;

 private:
  void Leave();

  const std::string conninfo_;
  const int max_concurrent_;
  mutable std::mutex mu_;
  int running_ = 0;
};

}  // namespace forecast

#endif  // SERVICES_CASE_IMPORT_GUARD_H_
