#include "services/case/expectation_batcher.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <tuple>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "services/common/calendar.h"

namespace forecast {
namespace {

// The arguments of case_record_expectation() as case_record_expectations() reads them.
nlohmann::json Arguments(int index, const ExpectationWrite& w) {
  const NewExpectation& e = w.expectation;
  return {{"i", index},
          {"centre", w.job_centre_id},
          {"case_ref", w.case_ref},
          {"base_version", w.base_version},
          {"actor", w.actor_id},
          {"all_cases", w.writable.whole_job_centre},
          {"team", w.writable.team_id},
          {"staff", w.writable.caseworker_id},
          {"key", w.idempotency.key},
          {"method", w.idempotency.method},
          {"hash", w.idempotency.request_hash},
          {"outcome", e.outcome},
          {"month", FirstOfMonth(e.month)},
          {"risk", e.risk},
          {"agreed", e.agreed_in_dialogue},
          {"dialogue", e.dialogue_id},
          {"note", e.note},
          {"effective_on", FormatDay(w.effective_on)}};
}

// The refusals the statement is expected to make: its own checks, a key already stored, and a
// concurrent writer's deadlock or serialization failure (SQLSTATE class 40).
bool ExpectedRefusal(const std::string& refusal) {
  return absl::StrContains(refusal, "fallback:") || absl::StartsWith(refusal, "23505 ") ||
         absl::StartsWith(refusal, "40");
}

}  // namespace

ExpectationBatcher::~ExpectationBatcher() {
  std::vector<std::thread> senders;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    senders.swap(senders_);
  }
  for (std::thread& t : senders) t.join();
}

ExpectationBatcher::Result ExpectationBatcher::Write(const ExpectationWrite& write) {
  Pending mine{&write, nullptr};
  mu_.Lock();
  queue_.push_back(&mine);
  while (true) {
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return mine.done || (in_flight_ < tuning_.calls_in_flight && !queue_.empty());
    };
    mu_.Await(absl::Condition(&ready));
    if (mine.done) break;
    Lead();  // this write among the batch, unless another leader already has it
  }
  mu_.Unlock();
  return std::move(mine.result);
}

void ExpectationBatcher::WriteAsync(const ExpectationWrite& write,
                                    std::function<void(Result)> done) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(new Pending{&write, std::move(done)});
  StartSenders();
}

void ExpectationBatcher::StartSenders() {
  while (static_cast<int>(senders_.size()) < tuning_.calls_in_flight && !stopping_) {
    senders_.emplace_back([this] { SenderLoop(); });
  }
}

void ExpectationBatcher::set_tuning(const Tuning& tuning) {
  absl::MutexLock lock(&mu_);
  tuning_ = tuning;
  tuning_.calls_in_flight = std::clamp(tuning.calls_in_flight, 1, kMaxSenders);
  // Gathering with nothing in flight would hold a lone write back: at least one call must be.
  tuning_.gather_while_in_flight = std::max(tuning.gather_while_in_flight, 1);
  if (!senders_.empty()) StartSenders();
}

void ExpectationBatcher::SenderLoop() {
  mu_.Lock();
  while (true) {
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (stopping_ && queue_.empty()) ||
             (!queue_.empty() && in_flight_ < tuning_.calls_in_flight);
    };
    mu_.Await(absl::Condition(&ready));
    if (queue_.empty()) break;  // stopping, and every write taken
    if (queue_.size() < tuning_.gather_writes && in_flight_ >= tuning_.gather_while_in_flight &&
        !stopping_) {
      // Other calls are in the database: wait for a few more writes to share this one's commit,
      // but no longer than one of those calls takes, so the database never idles for it.
      auto more = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return queue_.size() >= tuning_.gather_writes ||
               in_flight_ < tuning_.gather_while_in_flight || stopping_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&more), tuning_.gather_for);
      if (queue_.empty() || in_flight_ >= tuning_.calls_in_flight) continue;  // taken by another
    }
    Lead();
  }
  mu_.Unlock();
}

void ExpectationBatcher::Lead() {
  std::vector<Pending*> batch;
  while (!queue_.empty() && batch.size() < kMaxBatch) {
    batch.push_back(queue_.front());
    queue_.pop_front();
  }
  ++in_flight_;
  ++batches_sent_;
  writes_sent_ += static_cast<int64_t>(batch.size());
  mu_.Unlock();
  Send(batch);
  std::vector<Pending*> async;
  mu_.Lock();
  --in_flight_;
  for (Pending* p : batch) {
    if (p->answer) {
      async.push_back(p);
    } else {
      p->done = true;
    }
  }
  if (async.empty()) return;
  mu_.Unlock();
  for (Pending* p : async) {
    p->answer(std::move(p->result));
    delete p;
  }
  mu_.Lock();
}

void ExpectationBatcher::Send(const std::vector<Pending*>& batch) {
  // Cases in one order in every batch, so that two batches in flight lock them in that order.
  std::vector<int> order(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const ExpectationWrite& x = *batch[a]->write;
    const ExpectationWrite& y = *batch[b]->write;
    return std::tie(x.job_centre_id, x.case_ref) < std::tie(y.job_centre_id, y.case_ref);
  });
  nlohmann::json writes = nlohmann::json::array();
  for (int i : order) writes.push_back(Arguments(i, *batch[i]->write));

  absl::StatusOr<PgPool::Lease> lease = pool_.Acquire();
  if (!lease.ok()) {
    for (Pending* p : batch) p->result = lease.status();
    return;
  }
  static const std::string kStatement = "case_record_expectations";
  try {
    (*lease)->prepare(kStatement, "SELECT i, answer, refusal FROM case_record_expectations($1)");
    pqxx::nontransaction tx(**lease);  // one statement: autocommit, one round trip
    const pqxx::result rows = tx.exec_prepared(kStatement, writes.dump());
    for (const pqxx::row& row : rows) {
      const int i = row[0].as<int>();
      if (i < 0 || i >= static_cast<int>(batch.size())) continue;
      if (!row[1].is_null()) {
        batch[i]->result = std::optional<std::string>(row[1].as<std::string>());
        continue;
      }
      const std::string refusal = row[2].is_null() ? "" : row[2].as<std::string>();
      if (!ExpectedRefusal(refusal)) {
        // Not one of the statement's own refusals: the general path meets it again and answers.
        std::fprintf(stderr, "case-service: case_record_expectations: %s\n", refusal.c_str());
      }
      batch[i]->result = std::optional<std::string>();
    }
  } catch (const std::exception& e) {
    const absl::Status failed = StatusFromPqxx(e);
    for (Pending* p : batch) p->result = failed;
  }
}

int64_t ExpectationBatcher::batches_sent() const {
  absl::MutexLock lock(&mu_);
  return batches_sent_;
}

int64_t ExpectationBatcher::writes_sent() const {
  absl::MutexLock lock(&mu_);
  return writes_sent_;
}

}  // namespace forecast
