// A small thread-safe pool of PostgreSQL connections (libpqxx 6.4) and a transaction helper that
// retries serialization failures and deadlocks. libpqxx exceptions stop here: callers get
// absl::Status.
#ifndef SERVICES_COMMON_PG_POOL_H_
#define SERVICES_COMMON_PG_POOL_H_

#include <condition_variable>
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

 private:
  void Return(std::unique_ptr<pqxx::connection> conn);

  const std::string conninfo_;
  const int max_connections_;
  const absl::Duration acquire_timeout_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;
};

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

// Runs `body` in one transaction on a pooled connection and commits when it returns OK; any
// error status rolls back. Serialization failures and deadlocks are retried (up to `attempts`
// times in all), so `body` must be safe to run again. pqxx errors become UNAVAILABLE (connection
// lost), ALREADY_EXISTS (unique violation) or INTERNAL, with the SQL error's text, marked as a
// storage failure (status.h) so that the text reaches the log only, never a client.
// Thread-safe (each call uses its own lease).
absl::Status RunTransaction(PgPool& pool, Isolation isolation,
                            const std::function<absl::Status(pqxx::transaction_base&)>& body,
                            int attempts = 5);

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

// Turns a libpqxx exception into a status (as RunTransaction does); for code that talks to the
// database outside RunTransaction. Thread-safe (pure).
absl::Status StatusFromPqxx(const std::exception& e);

}  // namespace forecast

#endif  // SERVICES_COMMON_PG_POOL_H_
