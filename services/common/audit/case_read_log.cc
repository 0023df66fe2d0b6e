#include "services/common/audit/case_read_log.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/authorization.h"
#include "services/common/status.h"
#include "services/common/text_checks.h"

namespace forecast::audit {
namespace {

// At most this many rows wait in the queue; Record() waits for room beyond it (back-pressure
// instead of unbounded memory).
constexpr size_t kMaxPendingRows = 200'000;
// Outcomes of this many recent batches are kept for the waiters to collect.
constexpr size_t kKeptResults = 1024;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// A PostgreSQL array literal of text or numbers.
class ArrayLiteral {
 public:
  void Add(absl::string_view value) {
    Separator();
    text_ += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') text_ += '\\';
      text_ += c;
    }
    text_ += '"';
  }
  void Add(int64_t value) {
    Separator();
    absl::StrAppend(&text_, value);
  }
  std::string Done() const { return "{" + text_ + "}"; }

 private:
  void Separator() {
    if (!text_.empty()) text_ += ',';
  }
  std::string text_;
};

void Collect(const google::protobuf::Message& message, std::vector<std::string>& refs,
             std::unordered_set<std::string>& seen) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  auto add = [&](const std::string& ref) {
    if (!ref.empty() && seen.insert(ref).second) refs.push_back(ref);
  };
  for (const google::protobuf::FieldDescriptor* field : fields) {
    using FD = google::protobuf::FieldDescriptor;
    if (field->cpp_type() == FD::CPPTYPE_MESSAGE) {
      if (field->is_map()) continue;
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          Collect(reflection->GetRepeatedMessage(message, field, i), refs, seen);
        }
      } else {
        Collect(reflection->GetMessage(message, field), refs, seen);
      }
      continue;
    }
    if (field->cpp_type() != FD::CPPTYPE_STRING) continue;
    if (!field->is_repeated() && field->name() == "case_ref") {
      add(reflection->GetString(message, field));
    } else if (field->is_repeated() &&
               (field->name() == "case_refs" || field->name() == "agreed_case_refs")) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        add(reflection->GetRepeatedString(message, field, i));
      }
    }
  }
}

absl::Status ParseTime(const std::string& text, const char* field, absl::Time* out) {
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, out, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": \"", absl::string_view(text).substr(0, 40),
                     "\" is not an RFC 3339 time (e.g. 2026-12-01T09:00:00Z)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> CaseRefsIn(const google::protobuf::Message& message) {
  std::vector<std::string> refs;
  std::unordered_set<std::string> seen;
  Collect(message, refs, seen);
  return refs;
}

absl::Status ReleaseCaseRows(CaseReadLog& log, const Caller& caller, absl::string_view call,
                             const google::protobuf::Message& response) {
  if (absl::Status s = AuthorizeCaseRows(caller); !s.ok()) return s;
  const std::vector<std::string> refs = CaseRefsIn(response);
  if (refs.empty()) return absl::OkStatus();
  return log.Record(caller, call, refs);
}

PgCaseReadLog::PgCaseReadLog(PgPool& pool) : pool_(pool), writer_([this] { WriterLoop(); }) {}

PgCaseReadLog::~PgCaseReadLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  queued_.notify_all();
  writer_.join();
}

absl::Status PgCaseReadLog::Record(const Caller& caller, absl::string_view call,
                                   const std::vector<std::string>& case_refs) {
  if (case_refs.empty()) return absl::OkStatus();
  const absl::Time now = absl::Now();
  std::unique_lock<std::mutex> lock(mu_);
  written_.wait(lock, [&] { return stopping_ || pending_.size() < kMaxPendingRows; });
  if (stopping_) {
    return MarkStorageFailure(absl::UnavailableError("case-read log: shutting down"));
  }
  for (const std::string& ref : case_refs) {
    pending_.push_back(Row{caller.job_centre_id, caller.staff_id, ref, std::string(call), now});
  }
  const uint64_t batch = next_batch_;
  queued_.notify_one();
  written_.wait(lock, [&] { return finished_batch_ >= batch; });
  for (const auto& [id, status] : results_) {
    if (id == batch) return status;
  }
  return MarkStorageFailure(absl::UnavailableError("case-read log: outcome of the write was lost"));
}

void PgCaseReadLog::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    queued_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, and nothing left to write
    std::vector<Row> batch;
    batch.swap(pending_);
    const uint64_t id = next_batch_++;
    lock.unlock();
    absl::Status status = Insert(batch);
    lock.lock();
    if (status.ok()) {
      rows_written_ += static_cast<int64_t>(batch.size());
      ++statements_written_;
    }
    results_.emplace_back(id, std::move(status));
    while (results_.size() > kKeptResults) results_.pop_front();
    finished_batch_ = id;
    written_.notify_all();
  }
}

absl::Status PgCaseReadLog::Insert(const std::vector<Row>& rows) {
  ArrayLiteral centres, staff, refs, calls, ats;
  for (const Row& row : rows) {
    centres.Add(row.job_centre_id);
    staff.Add(row.staff_id);
    refs.Add(row.case_ref);
    calls.Add(row.call);
    ats.Add(absl::FormatTime(absl::RFC3339_full, row.at, absl::UTCTimeZone()));
  }
  return RunTransaction(pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
    tx.exec_params(
        "INSERT INTO case_read (job_centre_id, staff_id, case_id, call, read_at) "
        "SELECT r.centre, r.staff, c.id, r.call, r.at "
        "FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[]) "
        "  AS r(centre, staff, ref, call, at) "
        "JOIN case_read_model.cases c ON c.job_centre_id = r.centre AND c.case_ref = r.ref",
        centres.Done(), staff.Done(), refs.Done(), calls.Done(), ats.Done());
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgCaseReadLog::Purge(absl::Duration keep) {
  const int64_t seconds = absl::ToInt64Seconds(keep);
  return RunTransaction<int64_t>(
      pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) -> absl::StatusOr<int64_t> {
        return tx.exec_params1("SELECT purge_case_reads(make_interval(secs => $1))", seconds)[0]
            .as<int64_t>();
      });
}

int64_t PgCaseReadLog::rows_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_written_;
}

int64_t PgCaseReadLog::statements_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return statements_written_;
}

CaseReadRetention::CaseReadRetention(PgCaseReadLog& log, absl::Duration keep, absl::Duration every)
    : log_(log), keep_(keep), every_(every), thread_([this] {
        std::unique_lock<std::mutex> lock(mu_);
        while (!stopping_) {
          lock.unlock();
          absl::StatusOr<int64_t> purged = log_.Purge(keep_);
          if (!purged.ok()) {
            std::fprintf(stderr,
                         "{\"level\":\"error\",\"what\":\"case-read retention purge failed\","
                         "\"detail\":\"%s\"}\n",
                         std::string(purged.status().message()).c_str());
          } else if (*purged > 0) {
            std::fprintf(
                stderr,
                "{\"level\":\"info\",\"what\":\"case-read retention purge\",\"rows\":%lld}\n",
                static_cast<long long>(*purged));
          }
          lock.lock();
          stop_.wait_for(lock, absl::ToChronoSeconds(every_), [this] { return stopping_; });
        }
      }) {}

CaseReadRetention::~CaseReadRetention() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
}

absl::StatusOr<v1::ListCaseReadsResponse> CaseReadQuery::List(
    const Caller& caller, const v1::ListCaseReadsRequest& request) {
  if (caller.role != Role::kAdmin) {
    return absl::PermissionDeniedError(
        absl::StrCat(RoleName(caller.role), " ", caller.staff_code,
                     " may not read the case-read log (admins answer data-protection requests)"));
  }
  if (!request.case_ref().empty()) {
    if (absl::Status s = CheckCaseRef(request.case_ref(), "case_ref"); !s.ok()) return s;
  }
  if (!request.staff().empty()) {
    if (absl::Status s = CheckCode(request.staff(), "staff"); !s.ok()) return s;
  }
  std::optional<std::string> since, until;
  absl::Time parsed;
  if (!request.since().empty()) {
    if (absl::Status s = ParseTime(request.since(), "since", &parsed); !s.ok()) return s;
    since = absl::FormatTime(absl::RFC3339_full, parsed, absl::UTCTimeZone());
  }
  if (!request.until().empty()) {
    if (absl::Status s = ParseTime(request.until(), "until", &parsed); !s.ok()) return s;
    until = absl::FormatTime(absl::RFC3339_full, parsed, absl::UTCTimeZone());
  }
  int page = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  if (page < 0 || page > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be 0 (default ", kDefaultPageSize, ") to ", kMaxPageSize));
  }
  std::optional<int64_t> before;
  if (!request.page_token().empty()) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(request.page_token(), &id) || id <= 0) {
      return absl::InvalidArgumentError("page_token: is not a token this call returned");
    }
    before = id;
  }
  const std::optional<std::string> by_case =
      request.case_ref().empty() ? std::nullopt : std::optional<std::string>(request.case_ref());
  const std::optional<std::string> by_staff =
      request.staff().empty() ? std::nullopt : std::optional<std::string>(request.staff());
  return RunTransaction<v1::ListCaseReadsResponse>(
      pool_, Isolation::kReadCommitted,
      [&](pqxx::transaction_base& tx) -> absl::StatusOr<v1::ListCaseReadsResponse> {
        const pqxx::result rows = tx.exec_params(
            "SELECT id, to_char(read_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
            "staff, case_ref, call FROM case_reads($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7)",
            caller.job_centre_id, by_case, by_staff, since, until, before, page + 1);
        v1::ListCaseReadsResponse response;
        const int n = std::min(static_cast<int>(rows.size()), page);
        for (int i = 0; i < n; ++i) {
          v1::CaseRead* read = response.add_reads();
          read->set_at(rows[i][1].as<std::string>());
          read->set_staff(rows[i][2].as<std::string>());
          read->set_case_ref(rows[i][3].as<std::string>());
          read->set_call(rows[i][4].as<std::string>());
        }
        if (static_cast<int>(rows.size()) > page && n > 0) {
          response.set_next_page_token(rows[n - 1][0].as<std::string>());
        }
        return response;
      });
}

}  // namespace forecast::audit
