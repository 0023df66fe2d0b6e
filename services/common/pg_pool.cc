#include "services/common/pg_pool.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace forecast {

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

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto deadline =
      std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(acquire_timeout_);
  while (idle_.empty() && open_ >= max_connections_) {
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= max_connections_) {
      return MarkStorageFailure(
          absl::UnavailableError("database: no connection became free in time"));
    }
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
    lock.lock();
    --open_;
    freed_.notify_one();
    return MarkStorageFailure(
        absl::UnavailableError(absl::StrCat("database: cannot connect: ", e.what())));
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

absl::Status StatusFromPqxx(const std::exception& e) {
  absl::Status status;
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    status = absl::UnavailableError(absl::StrCat("database connection lost: ", e.what()));
  } else if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    status = absl::AlreadyExistsError(absl::StrCat("database: ", e.what()));
  } else if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    status = absl::AbortedError(absl::StrCat("database: transaction rolled back: ", e.what()));
  } else {
    status = absl::InternalError(absl::StrCat("database: ", e.what()));
  }
  return MarkStorageFailure(std::move(status));
}

namespace {

template <pqxx::isolation_level Level>
absl::Status RunOnce(pqxx::connection& conn,
                     const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  pqxx::transaction<Level> tx(conn);
  absl::Status status = body(tx);
  if (status.ok()) {
    tx.commit();
  } else {
    tx.abort();
  }
  return status;
}

}  // namespace

absl::Status RunTransaction(PgPool& pool, Isolation isolation,
                            const std::function<absl::Status(pqxx::transaction_base&)>& body,
                            int attempts) {
  absl::Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    absl::StatusOr<PgPool::Lease> lease = pool.Acquire();
    if (!lease.ok()) return lease.status();
    try {
      switch (isolation) {
        case Isolation::kReadCommitted:
          return RunOnce<pqxx::isolation_level::read_committed>(**lease, body);
        case Isolation::kRepeatableRead:
          return RunOnce<pqxx::isolation_level::repeatable_read>(**lease, body);
        case Isolation::kSerializable:
          return RunOnce<pqxx::isolation_level::serializable>(**lease, body);
      }
    } catch (const pqxx::serialization_failure& e) {
      last = StatusFromPqxx(e);
    } catch (const pqxx::deadlock_detected& e) {
      last = StatusFromPqxx(e);
    } catch (const pqxx::in_doubt_error& e) {
      // The commit may or may not have happened; retrying could apply twice.
      return MarkStorageFailure(
          absl::UnavailableError(absl::StrCat("database: commit outcome unknown: ", e.what())));
    } catch (const pqxx::broken_connection& e) {
      last = StatusFromPqxx(e);  // the lease drops the broken connection; try a fresh one
    } catch (const std::exception& e) {
      return StatusFromPqxx(e);
    }
  }
  return last;
}

}  // namespace forecast
