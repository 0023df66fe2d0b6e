// A small thread-safe pool of PostgreSQL connections (libpqxx 6.4) and a transaction helper that
// retries serialization failures and deadlocks. libpqxx exceptions stop here: callers get
// absl::Status.
#ifndef SERVICES_COMMON_PG_POOL_H_
#define SERVICES_COMMON_PG_POOL_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace forecast {

class PgPool {
 public:
  // A borrowed connection; goes back to the pool when destroyed (dropped if it broke).
  // Not thread-safe itself: one lease, one thread at a time.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    // Closes the connection instead of returning it (it broke, or points at a demoted primary),
    // and closes every idle connection opened before now: after a server restart or a failover
    // they are all stale, and each would cost a caller a failed attempt.
    void Discard();

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Opens connections lazily, at most `max_connections` at a time. Never fails; a bad
  // conninfo shows at the first Acquire. Thread-safe.
  explicit PgPool(std::string conninfo, int max_connections = 8,
                  absl::Duration acquire_timeout = absl::Seconds(10));
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;
  // Every lease must have been returned. Closes the idle connections.
  ~PgPool();

  // Borrows an idle connection or opens a new one; waits while all are leased. UNAVAILABLE when
  // the server cannot be reached or no connection frees up within the timeout. Thread-safe.
  absl::StatusOr<Lease> Acquire();

  const std::string& conninfo() const { return conninfo_; }

  // Counters for metrics (monotonic except `open`, `leased`). Thread-safe.
  struct Stats {
    int open = 0;                  // connections open now (leased + idle)
    int leased = 0;                // leased now
    int max = 0;                   // the pool's size
    int64_t acquired = 0;          // leases handed out
    int64_t waited = 0;            // leases that had to wait for a free connection
    double wait_seconds = 0;       // total time spent waiting for a lease
    int64_t timeouts = 0;          // acquires that gave up (UNAVAILABLE)
    int64_t connect_failures = 0;  // new connections that could not be opened
    int64_t discarded = 0;         // connections closed because they broke
    int64_t retries = 0;           // transactions run again on a fresh connection after a break
  };
  Stats stats() const;
  void CountRetry();

 private:
  void Return(std::unique_ptr<pqxx::connection> conn);
  void Drop(std::unique_ptr<pqxx::connection> conn);

  const std::string conninfo_;
  const int max_connections_;
  const absl::Duration acquire_timeout_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;
  Stats stats_;
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

// Runs `body` in one transaction on a pooled connection and commits when it returns OK; any
// error status rolls back. Serialization failures and deadlocks are retried (up to `attempts`
// times in all), so `body` must be safe to run again. A connection found broken when the
// transaction begins (stale after a server restart or failover: nothing was sent) is replaced
// and the transaction run on a fresh one. A connection that breaks after the body started
// answers UNAVAILABLE ("retry": nothing was committed, or in doubt at commit, and idempotency
// keys make a retry safe), never INTERNAL. pqxx errors become UNAVAILABLE (connection lost,
// server shutting down, read-only standby), ALREADY_EXISTS (unique violation), ABORTED or
// INTERNAL. Statuses never carry the driver's text (that goes to stderr).
// Thread-safe (each call uses its own lease).
absl::Status RunTransaction(PgPool& pool, Isolation isolation,
                            const std::function<absl::Status(pqxx::transaction_base&)>& body,
                            int attempts = 5);

// As RunTransaction, for a body that only reads: when the connection breaks while it runs, the
// body is run once more on a fresh connection before answering UNAVAILABLE. Thread-safe.
absl::Status RunReadTransaction(PgPool& pool, Isolation isolation,
                                const std::function<absl::Status(pqxx::transaction_base&)>& body);

// As above, returning the body's value.
template <typename T>
absl::StatusOr<T> RunTransaction(
    PgPool& pool, Isolation isolation,
    const std::function<absl::StatusOr<T>(pqxx::transaction_base&)>& body, int attempts = 5) {
  std::optional<T> result;
  absl::Status status = RunTransaction(
      pool, isolation,
      [&](pqxx::transaction_base& tx) -> absl::Status {
        absl::StatusOr<T> value = body(tx);
        if (!value.ok()) return value.status();
        result.emplace(std::move(*value));
        return absl::OkStatus();
      },
      attempts);
  if (!status.ok()) return status;
  return std::move(*result);
}

// RunReadTransaction returning the body's value. Thread-safe.
template <typename T>
absl::StatusOr<T> RunReadTransaction(
    PgPool& pool, Isolation isolation,
    const std::function<absl::StatusOr<T>(pqxx::transaction_base&)>& body) {
  std::optional<T> result;
  absl::Status status =
      RunReadTransaction(pool, isolation, [&](pqxx::transaction_base& tx) -> absl::Status {
        absl::StatusOr<T> value = body(tx);
        if (!value.ok()) return value.status();
        result.emplace(std::move(*value));
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return std::move(*result);
}

// Turns a libpqxx exception into a status (as RunTransaction does); for code that talks to the
// database outside RunTransaction. The driver's text is written to stderr, not into the status.
// Thread-safe.
absl::Status StatusFromPqxx(const std::exception& e);

// Whether `e` means the connection is gone or unusable for writes (broken, server shutting down,
// connected to a standby): the connection should be discarded. Thread-safe (pure).
bool IsConnectionFailure(const std::exception& e);

}  // namespace forecast

#endif  // SERVICES_COMMON_PG_POOL_H_
