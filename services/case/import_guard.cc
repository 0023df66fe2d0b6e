#include "services/case/import_guard.h"

#include "absl/strings/str_cat.h"
#include "services/common/pg_pool.h"

namespace forecast {
namespace {
// The advisory lock's first key: "imports" (the second is the job centre's id).
constexpr int kImportLockClass = 0x494d50;  // "IMP"
}  // namespace

ImportGuard::ImportGuard(std::string conninfo, int max_concurrent)
    : conninfo_(std::move(conninfo)), max_concurrent_(max_concurrent < 1 ? 1 : max_concurrent) {}

ImportGuard::Ticket::~Ticket() {
  conn_.reset();  // closing the session releases its advisory lock
  guard_->Leave();
}

int ImportGuard::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void ImportGuard::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
}

absl::StatusOr<std::unique_ptr<ImportGuard::Ticket>> ImportGuard::Enter(int64_t job_centre_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ >= max_concurrent_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("this server runs ", running_,
                       " import(s) already, its limit; try again when one has finished"));
    }
    ++running_;
  }
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    pqxx::nontransaction tx(*conn);
    const bool locked = tx.exec_params1("SELECT pg_try_advisory_lock($1, $2::int)",
                                        kImportLockClass, static_cast<int>(job_centre_id))[0]
                            .as<bool>();
    if (!locked) {
      Leave();
      return absl::FailedPreconditionError(
          "an import for this job centre is already running; try again when it has finished");
    }
    return std::unique_ptr<Ticket>(new Ticket(this, std::move(conn)));
  } catch (const std::exception& e) {
    Leave();
    absl::Status status = StatusFromPqxx(e);
    if (status.code() == absl::StatusCode::kInternal)
      return absl::UnavailableError("database unavailable; retry");
    return status;
  }
}

}  // namespace forecast
