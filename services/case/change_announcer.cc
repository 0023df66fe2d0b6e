#include "services/case/change_announcer.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace forecast {
namespace {

// The newest notice per case, one BULK per centre, RESYNCs kept; order does not matter to
// listeners (they read what is newer than what they hold).
std::vector<CaseChangeNotice> Coalesce(std::vector<CaseChangeNotice> batch) {
  std::map<std::pair<int64_t, int64_t>, CaseChangeNotice> latest;
  std::vector<CaseChangeNotice> others;
  for (CaseChangeNotice& n : batch) {
    if (n.scope != CaseChangeNotice::Scope::kCase) {
      const bool seen = std::any_of(others.begin(), others.end(), [&](const CaseChangeNotice& o) {
        return o.scope == n.scope && o.centre_id == n.centre_id;
      });
      if (!seen) others.push_back(std::move(n));
      continue;
    }
    auto [it, inserted] = latest.try_emplace({n.centre_id, n.case_id}, n);
    if (!inserted && n.version >= it->second.version) it->second = std::move(n);
  }
  for (auto& [key, n] : latest) {
    const bool whole_centre = std::any_of(others.begin(), others.end(), [&](const auto& o) {
      return o.scope == CaseChangeNotice::Scope::kBulk && o.centre_id == n.centre_id;
    });
    if (!whole_centre) others.push_back(std::move(n));
  }
  return others;
}

// One BULK notice per job centre in `queue` (RESYNCs kept).
std::vector<CaseChangeNotice> Fold(const std::vector<CaseChangeNotice>& queue) {
  std::vector<CaseChangeNotice> folded;
  for (const CaseChangeNotice& n : queue) {
    CaseChangeNotice f;
    f.scope =
        n.scope == CaseChangeNotice::Scope::kResync ? n.scope : CaseChangeNotice::Scope::kBulk;
    f.centre_id = n.centre_id;
    f.written_at = n.written_at;
    const bool seen = std::any_of(folded.begin(), folded.end(), [&](const CaseChangeNotice& o) {
      return o.scope == f.scope && o.centre_id == f.centre_id;
    });
    if (!seen) folded.push_back(f);
  }
  return folded;
}

}  // namespace

ChangeAnnouncer::ChangeAnnouncer(PgPool& pool) : pool_(pool), thread_([this] { Loop(); }) {}

ChangeAnnouncer::~ChangeAnnouncer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ChangeAnnouncer::Announce(CaseChangeNotice notice) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(notice));
  ++queued_total_;
  if (queue_.size() > kMaxQueued) queue_ = Fold(queue_);
}

bool ChangeAnnouncer::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = queued_total_;
  auto sent = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return sent_total_ >= target; };
  return mu_.AwaitWithTimeout(absl::Condition(&sent), timeout);
}

void ChangeAnnouncer::Loop() {
  int failures = 0;
  absl::Time stop_deadline = absl::InfiniteFuture();
  absl::Time last_send = absl::InfinitePast();
  while (true) {
    std::vector<CaseChangeNotice> batch;
    int64_t represents = 0;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty() || stopping_; };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, nothing left
      // Within kMinInterval of the last send, gather until it has passed: under load one
      // transaction then carries the notices of many writes, at the cost of at most
      // kMinInterval on the way to the dashboards.
      auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return queue_.size() >= kGatherUpTo || stopping_;
      };
      const absl::Duration wait = last_send + kMinInterval - absl::Now();
      if (wait > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&full), wait);
      if (stopping_ && stop_deadline == absl::InfiniteFuture()) {
        stop_deadline = absl::Now() + absl::Seconds(3);
      }
      batch.swap(queue_);
      represents = queued_total_ - sent_total_;
    }
    last_send = absl::Now();
    const std::vector<CaseChangeNotice> notices = Coalesce(std::move(batch));
    while (!Send(notices)) {
      ++failures;
      if (absl::Now() > stop_deadline) {
        std::fprintf(stderr,
                     "case-service: change announcer: stopping with %zu notices not sent; the "
                     "forecast service catches up on the next start's RESYNC\n",
                     notices.size());
        break;
      }
      absl::SleepFor(absl::Milliseconds(std::min(2000, 50 * failures * failures)));
      // Newer notices keep queueing (folded when too many); send them with this batch later.
    }
    failures = 0;
    absl::MutexLock lock(&mu_);
    sent_total_ += represents;
    ++transactions_;
  }
}

int64_t ChangeAnnouncer::transactions_sent() const {
  absl::MutexLock lock(&mu_);
  return transactions_;
}

bool ChangeAnnouncer::Send(const std::vector<CaseChangeNotice>& batch) {
  nlohmann::json payloads = nlohmann::json::array();
  for (const CaseChangeNotice& n : batch) payloads.push_back(n.ToPayload());
  absl::StatusOr<PgPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) {
    std::fprintf(stderr, "case-service: change announcer: %s\n",
                 std::string(lease.status().message()).c_str());
    return false;
  }
  try {
    // One autocommit statement; the notices are not data, so their commit need not wait for
    // the WAL flush (set_config local to this statement's transaction).
    pqxx::nontransaction tx(**lease);
    tx.exec_params(
        "SELECT pg_notify($1, p) FROM (SELECT set_config('synchronous_commit', 'off', true)) s, "
        "json_array_elements_text($2::json) p",
        kCaseChangedChannel, payloads.dump());
    return true;
  } catch (const pqxx::broken_connection& e) {
    lease->Discard();
    std::fprintf(stderr, "case-service: change announcer: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "case-service: change announcer: %s\n", e.what());
  }
  return false;
}

}  // namespace forecast
