#include "services/common/pg_pool.h"

#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace forecast {

namespace {

// The driver's text, for the log only (one line: libpq's messages end with a newline).
void LogDriverError(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  std::fprintf(stderr, "database: %s\n", text.c_str());
}

}  // namespace

PgPool::PgPool(std::string conninfo, int max_connections, absl::Duration acquire_timeout)
    : conninfo_(std::move(conninfo)),
      max_connections_(max_connections < 1 ? 1 : max_connections),
      acquire_timeout_(acquire_timeout) {}

PgPool::~PgPool() {
  std::lock_guard<std::mutex> lock(mu_);
  if (static_cast<int>(idle_.size()) != open_) {
    // A lease outliving its pool would write into freed memory: fail loudly instead.
    std::abort();
  }
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(conn_));
}

void PgPool::Lease::Discard() {
  if (pool_ == nullptr) return;
  pool_->Drop(std::move(conn_));
  pool_ = nullptr;
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + absl::ToChronoMilliseconds(acquire_timeout_);
  bool waited = false;
  while (idle_.empty() && open_ >= max_connections_) {
    waited = true;
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_connections_) {
      ++stats_.timeouts;
      ++stats_.waited;
      stats_.wait_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return MarkStorageFailure(
          absl::UnavailableError("database busy: no connection became free in time"));
    }
  }
  ++stats_.acquired;
  if (waited) {
    ++stats_.waited;
    stats_.wait_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  if (!idle_.empty()) {
    std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    return Lease(this, std::move(conn));
  } catch (const std::exception& e) {
    LogDriverError(e);
    lock.lock();
    --open_;
    ++stats_.connect_failures;
    freed_.notify_one();
    return MarkStorageFailure(absl::UnavailableError("database unavailable: cannot connect"));
  }
}

void PgPool::Return(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn != nullptr && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  freed_.notify_one();
}

void PgPool::Drop(std::unique_ptr<pqxx::connection> conn) {
  std::vector<std::unique_ptr<pqxx::connection>> stale;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stale.swap(idle_);
    open_ -= 1 + static_cast<int>(stale.size());
    stats_.discarded += 1 + static_cast<int64_t>(stale.size());
    freed_.notify_all();
  }
  // Closed outside the lock: closing a connection to a vanished server may take a moment.
  conn.reset();
  stale.clear();
}

PgPool::Stats PgPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.open = open_;
  s.leased = open_ - static_cast<int>(idle_.size());
  s.max = max_connections_;
  return s;
}

void PgPool::CountRetry() {
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.retries;
}

bool IsConnectionFailure(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    const std::string& state = sql->sqlstate();
    // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now;
    // 25006: read-only transaction (we reached a standby, e.g. a demoted primary).
    return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03" ||
           state == "25006";
  }
  return false;
}

absl::Status StatusFromPqxx(const std::exception& e) {
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) == nullptr) LogDriverError(e);
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return MarkStorageFailure(absl::UnavailableError(
        "database connection lost at commit; retry with the same idempotency key"));
  }
  if (IsConnectionFailure(e)) {
    return MarkStorageFailure(absl::UnavailableError("database unavailable; retry"));
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return MarkStorageFailure(absl::AlreadyExistsError("database: already exists"));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return MarkStorageFailure(absl::AbortedError("database: transaction rolled back; retry"));
  }
  return MarkStorageFailure(absl::InternalError("database error"));
}

namespace {

// Where a connection failure happened: before anything was sent (safe to run again) or after.
struct BeginFailed {};

template <pqxx::isolation_level Level>
absl::Status RunOnce(pqxx::connection& conn,
                     const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  std::unique_ptr<pqxx::transaction<Level>> tx;
  try {
    // A stale idle connection fails here, at BEGIN, before any of the body's statements.
    if (!conn.is_open()) throw pqxx::broken_connection("connection closed");
    tx = std::make_unique<pqxx::transaction<Level>>(conn);
  } catch (const std::exception& e) {
    if (IsConnectionFailure(e)) throw BeginFailed{};
    throw;
  }
  absl::Status status = body(*tx);
  if (status.ok()) {
    tx->commit();
  } else {
    tx->abort();
  }
  return status;
}

absl::Status RunOnceAt(pqxx::connection& conn, Isolation isolation,
                       const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  switch (isolation) {
    case Isolation::kReadCommitted:
      return RunOnce<pqxx::isolation_level::read_committed>(conn, body);
    case Isolation::kRepeatableRead:
      return RunOnce<pqxx::isolation_level::repeatable_read>(conn, body);
    case Isolation::kSerializable: return RunOnce<pqxx::isolation_level::serializable>(conn, body);
  }
  return absl::InternalError("unknown isolation level");
}

absl::Status Run(PgPool& pool, Isolation isolation,
                 const std::function<absl::Status(pqxx::transaction_base&)>& body, int attempts,
                 int retries_after_break) {
  absl::Status last = absl::UnavailableError("database unavailable; retry");
  // Stale connections found at BEGIN cost no attempt: after a restart every idle connection is
  // stale, and Discard closes them all at once, so the next one is fresh.
  int stale_left = 2;
  for (int attempt = 1; attempt <= attempts;) {
    absl::StatusOr<PgPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    try {
      return RunOnceAt(**lease, isolation, body);
    } catch (const BeginFailed&) {
      lease->Discard();
      pool.CountRetry();
      if (stale_left-- <= 0)
        return MarkStorageFailure(absl::UnavailableError("database unavailable; retry"));
      continue;
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may or may not have happened; retrying could apply twice.
      lease->Discard();
      return StatusFromPqxx(e);
    } catch (const pqxx::serialization_failure& e) {
      last = StatusFromPqxx(e);
    } catch (const pqxx::deadlock_detected& e) {
      last = StatusFromPqxx(e);
    } catch (const std::exception& e) {
      const bool broken = IsConnectionFailure(e);
      absl::Status status = StatusFromPqxx(e);
      if (!broken) return status;
      lease->Discard();
      if (retries_after_break-- <= 0) return status;
      pool.CountRetry();
      last = status;
    }
    ++attempt;
  }
  return last;
}

}  // namespace

absl::Status RunTransaction(PgPool& pool, Isolation isolation,
                            const std::function<absl::Status(pqxx::transaction_base&)>& body,
                            int attempts) {
  return Run(pool, isolation, body, attempts, /*retries_after_break=*/0);
}

absl::Status RunReadTransaction(PgPool& pool, Isolation isolation,
                                const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  return Run(pool, isolation, body, /*attempts=*/5, /*retries_after_break=*/1);
}

}  // namespace forecast
