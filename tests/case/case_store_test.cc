// The case logic on the real PostgreSQL store (no gRPC): a case's whole life, its history,
// versions, NOTIFY on commit, pagination and visibility.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/case/change_announcer.h"
#include "services/case/reference_data.h"
#include "services/common/case_change_notice.h"
#include "tests/case/case_test_env.h"

namespace forecast::testing {
namespace {

class CaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { env_ = CaseEnv::Create(/*serve=*/false); }

  v1::Case Create(const std::string& ref, const std::string& as = "cw1",
                  const std::string& caseworker = "") {
    v1::CreateCaseRequest request;
    request.set_case_ref(ref);
    request.set_case_type("SDP");
    request.set_opened_on("2026-03-02");
    request.set_caseworker(caseworker);
    auto created = env_->keeper().CreateCase(env_->As(as), request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(v1::Case());
  }

  std::unique_ptr<CaseEnv> env_;
};

class Listener : public pqxx::notification_receiver {
 public:
  explicit Listener(pqxx::connection_base& conn)
      : pqxx::notification_receiver(conn, "case_changed") {}
  // Case changes only: catalogue, staff and team changes announce themselves too (0004).
  void operator()(const std::string& payload, int) override {
    if (payload.find("\"case_id\"") != std::string::npos) payloads.push_back(payload);
  }
  std::vector<std::string> payloads;
};

TEST_F(CaseStoreTest, ACaseLifeIsRecordedAsVersionedHistory) {
  pqxx::connection listen_conn(env_->conninfo());
  Listener listener(listen_conn);

  v1::Case c = Create("SAG-1");
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(c.caseworker(), "cw1");
  EXPECT_EQ(c.team(), "T1");
  EXPECT_EQ(c.status(), v1::OPEN);
  const Caller cw1 = env_->As("cw1");

  v1::RecordExpectationRequest expectation;
  expectation.set_case_ref("SAG-1");
  expectation.set_base_version(1);
  expectation.set_expected_outcome("FLEX_JOB");
  expectation.set_expected_month("2027-02");
  expectation.set_risk("MEDIUM");
  expectation.set_note("agreed with the citizen");
  auto after = env_->keeper().RecordExpectation(cw1, expectation);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->version(), 2);
  EXPECT_EQ(after->expectation().expected_outcome(), "FLEX_JOB");
  EXPECT_EQ(after->expectation().expected_month(), "2027-02");
  EXPECT_EQ(after->expectation().recorded_by(), "cw1");

  expectation.set_base_version(2);
  expectation.set_expected_outcome("ORDINARY_JOB");
  expectation.set_risk("LOW");
  after = env_->keeper().RecordExpectation(cw1, expectation);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->expectation().expected_outcome(), "ORDINARY_JOB");  // the latest is in force

  v1::AddActionRequest action;
  action.set_case_ref("SAG-1");
  action.set_base_version(3);
  action.set_description("Book a company internship");
  action.set_due_on("2026-11-01");
  after = env_->keeper().AddAction(cw1, action);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->open_actions_size(), 1);
  EXPECT_TRUE(after->open_actions(0).overdue());  // due before the fixed today
  const int64_t action_id = after->open_actions(0).id();

  v1::FollowUpActionRequest follow_up;
  follow_up.set_case_ref("SAG-1");
  follow_up.set_base_version(4);
  follow_up.set_action_id(action_id);
  follow_up.set_result(v1::FOLLOW_UP_POSTPONED);
  follow_up.set_postponed_to("2026-12-01");
  follow_up.set_note("employer asked for December");
  after = env_->keeper().FollowUpAction(cw1, follow_up);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(after->open_actions_size(), 1);
  EXPECT_EQ(after->open_actions(0).due_on(), "2026-12-01");
  EXPECT_FALSE(after->open_actions(0).overdue());
  EXPECT_EQ(after->open_actions(0).follow_ups_size(), 1);

  ASSERT_TRUE(env_->keeper()
                  .UpsertCaseField(env_->As("admin"),
                                   [] {
                                     v1::UpsertCaseFieldRequest r;
                                     r.mutable_field()->set_code("has_cv");
                                     r.mutable_field()->set_label_da("Har CV");
                                     r.mutable_field()->set_label_en("Has a CV");
                                     r.mutable_field()->set_type(v1::CaseField::BOOL);
                                     r.mutable_field()->set_active(true);
                                     return r;
                                   }())
                  .ok());
  v1::SetCaseFieldsRequest fields;
  fields.set_case_ref("SAG-1");
  fields.set_base_version(5);
  (*fields.mutable_fields())["has_cv"].set_bool_value(true);
  after = env_->keeper().SetCaseFields(cw1, fields);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_TRUE(after->fields().at("has_cv").bool_value());

  v1::CloseCaseRequest close;
  close.set_case_ref("SAG-1");
  close.set_base_version(6);
  close.set_closed_on("2026-11-10");
  close.set_outcome("ORDINARY_JOB");
  after = env_->keeper().CloseCase(cw1, close);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->status(), v1::CLOSED);
  EXPECT_EQ(after->closed_on(), "2026-11-10");
  // A closed case takes no new expectation.
  expectation.set_base_version(7);
  EXPECT_EQ(env_->keeper().RecordExpectation(cw1, expectation).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::ReopenCaseRequest reopen;
  reopen.set_case_ref("SAG-1");
  reopen.set_base_version(7);
  reopen.set_reopened_on("2026-11-12");
  after = env_->keeper().ReopenCase(cw1, reopen);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->status(), v1::OPEN);
  EXPECT_EQ(after->closed_on(), "");

  v1::ReassignCaseRequest reassign;
  reassign.set_case_ref("SAG-1");
  reassign.set_base_version(8);
  reassign.set_to_caseworker("cw3");
  reassign.set_on("2026-11-13");
  EXPECT_EQ(env_->keeper().ReassignCase(cw1, reassign).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Into team T2: not for T1's leader (issue 8), but for a manager.
  EXPECT_EQ(env_->keeper().ReassignCase(env_->As("tl1"), reassign).status().code(),
            absl::StatusCode::kPermissionDenied);
  after = env_->keeper().ReassignCase(env_->As("mgr"), reassign);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->caseworker(), "cw3");
  EXPECT_EQ(after->team(), "T2");
  EXPECT_EQ(after->version(), 9);

  // History stays in order: no re-assignment before the current holder took over, no closure
  // before the reopening.
  reassign.set_base_version(9);
  reassign.set_to_caseworker("cw1");
  reassign.set_on("2026-11-12");
  auto early = env_->keeper().ReassignCase(env_->As("mgr"), reassign);
  EXPECT_EQ(early.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(early.status().message().rfind(
                "on: 2026-11-12 is before the day the current caseworker took the case", 0),
            0u)
      << early.status();
  close.set_base_version(9);
  close.set_closed_on("2026-11-11");
  auto before_reopening = env_->keeper().CloseCase(env_->As("cw3"), close);
  EXPECT_EQ(before_reopening.status().message().rfind(
                "closed_on: 2026-11-11 is before the day the case was reopened", 0),
            0u)
      << before_reopening.status();

  v1::GetCaseHistoryRequest history_request;
  history_request.set_case_ref("SAG-1");
  // cw1 is no longer on the case nor in its team.
  EXPECT_EQ(env_->keeper().GetCaseHistory(cw1, history_request).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto history = env_->keeper().GetCaseHistory(env_->As("cw3"), history_request);
  ASSERT_TRUE(history.ok()) << history.status();
  std::vector<std::string> kinds;
  for (int i = 0; i < history->events_size(); ++i) {
    EXPECT_EQ(history->events(i).case_version(), i + 1);
    kinds.push_back(history->events(i).kind());
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"OPENED", "EXPECTATION", "EXPECTATION", "ACTION_ADDED",
                                             "ACTION_FOLLOWED_UP", "FIELDS_SET", "CLOSED",
                                             "REOPENED", "REASSIGNED"}));
  EXPECT_EQ(history->events(6).effective_on(), "2026-11-10");
  EXPECT_EQ(history->events(8).actor(), "mgr");
  EXPECT_EQ(history->expectations_size(), 2);
  EXPECT_EQ(history->actions_size(), 1);
  EXPECT_EQ(history->current().version(), 9);
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM assignment"), "2");
  EXPECT_EQ(env_->Scalar("SELECT string_agg(status, ',' ORDER BY id) FROM status_change"),
            "CLOSED,REOPENED");
  EXPECT_EQ(env_->Scalar("SELECT value::text FROM field_change"), "true");

  // The committed changes were announced to listeners, after their commits: notices of one
  // case sent together are folded into the newest, so the last one names version 9.
  auto last_version = [&] {
    if (listener.payloads.empty()) return int64_t{0};
    auto notice = CaseChangeNotice::Parse(listener.payloads.back());
    return notice.has_value() ? notice->version : int64_t{-1};
  };
  for (int i = 0; i < 50 && last_version() < 9; ++i) listen_conn.await_notification(0, 100000);
  ASSERT_FALSE(listener.payloads.empty());
  int64_t previous = 0;
  for (const std::string& payload : listener.payloads) {
    auto notice = CaseChangeNotice::Parse(payload);
    ASSERT_TRUE(notice.has_value()) << payload;
    EXPECT_EQ(notice->scope, CaseChangeNotice::Scope::kCase) << payload;
    EXPECT_GT(notice->version, previous) << payload;
    previous = notice->version;
  }
  auto last = CaseChangeNotice::Parse(listener.payloads.back());
  EXPECT_EQ(last->version, 9);
  EXPECT_EQ(last->kind, "REASSIGNED");
}

TEST_F(CaseStoreTest, StoreRefusesAStaleBaseVersionAndChangesNothing) {
  v1::Case c = Create("SAG-2");
  auto stored = env_->store().LoadCase(env_->As("cw1").job_centre_id, "SAG-2");
  ASSERT_TRUE(stored.ok());
  const std::string before = env_->Dump();
  CaseChange change;
  change.job_centre_id = stored->owner.job_centre_id;
  change.case_id = stored->id;
  change.case_ref = "SAG-2";
  change.base_version = 7;
  change.actor_id = env_->As("cw1").staff_id;
  change.kind = "EXPECTATION";
  change.effective_on = kToday;
  change.summary_json = "{}";
  change.body = NewExpectation{"OTHER", absl::CivilMonth(2027, 1), "LOW", false, 0, ""};
  auto result = env_->store().ApplyChange(change);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(result.status().message(), "case SAG-2 is at version 1, the write was based on 7");
  EXPECT_EQ(env_->Dump(), before);
}

TEST_F(CaseStoreTest, AnExpectationWriteAnswersTheCaseAsReadBackInOneStatement) {
  // A case with fields, an open action with a follow-up, and an expectation: the one-statement
  // write (migration 0013) answers exactly what GetCase reads afterwards.
  env_->Scalar(
      "INSERT INTO case_field (job_centre_id, code, label_da, label_en, field_type) "
      "SELECT id, 'has_cv', 'CV', 'CV', 'BOOL' FROM job_centre WHERE code = 'JC1' RETURNING 1");
  v1::Case c = Create("ONE-1");
  const Caller cw1 = env_->As("cw1");
  v1::SetCaseFieldsRequest fields;
  fields.set_case_ref("ONE-1");
  fields.set_base_version(c.version());
  (*fields.mutable_fields())["has_cv"].set_bool_value(true);
  auto with_fields = env_->keeper().SetCaseFields(cw1, fields);
  ASSERT_TRUE(with_fields.ok()) << with_fields.status();
  v1::AddActionRequest action;
  action.set_case_ref("ONE-1");
  action.set_base_version(with_fields->version());
  action.set_description("CV workshop");
  action.set_due_on("2026-12-01");
  auto with_action = env_->keeper().AddAction(cw1, action);
  ASSERT_TRUE(with_action.ok()) << with_action.status();
  v1::FollowUpActionRequest follow_up;
  follow_up.set_case_ref("ONE-1");
  follow_up.set_base_version(with_action->version());
  follow_up.set_action_id(with_action->open_actions(0).id());
  follow_up.set_result(v1::FOLLOW_UP_POSTPONED);
  follow_up.set_postponed_to("2027-01-04");
  auto followed = env_->keeper().FollowUpAction(cw1, follow_up);
  ASSERT_TRUE(followed.ok()) << followed.status();

  v1::RecordExpectationRequest request;
  request.set_case_ref("ONE-1");
  request.set_base_version(followed->version());
  request.set_expected_outcome("ORDINARY_JOB");
  request.set_expected_month("2027-02");
  request.set_risk("MEDIUM");
  request.set_note("Interview booked");
  request.set_idempotency_key("one-1");
  auto written = env_->keeper().RecordExpectation(cw1, request);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->version(), followed->version() + 1);
  EXPECT_EQ(written->expectation().note(), "Interview booked");
  ASSERT_EQ(written->open_actions_size(), 1);
  EXPECT_EQ(written->open_actions(0).follow_ups_size(), 1);
  EXPECT_TRUE(written->fields().at("has_cv").bool_value());
  v1::GetCaseRequest get;
  get.set_case_ref("ONE-1");
  auto read = env_->keeper().GetCase(cw1, get);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(written->SerializeAsString(), read->SerializeAsString())
      << written->DebugString() << "\nvs\n"
      << read->DebugString();
  // The retry gets the stored answer (kept as JSON by the statement) back.
  auto retried = env_->keeper().RecordExpectation(cw1, request);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->SerializeAsString(), written->SerializeAsString());
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM expectation e JOIN cases c ON c.id = e.case_id "
                         "WHERE c.case_ref = 'ONE-1'"),
            "1");

  // The open actions the write answers with are kept by triggers (migration 0115): once the
  // action is done, and after a second action is added, the write still answers as GetCase reads.
  follow_up.set_base_version(written->version());
  follow_up.set_result(v1::FOLLOW_UP_DONE);
  follow_up.clear_postponed_to();
  auto done = env_->keeper().FollowUpAction(cw1, follow_up);
  ASSERT_TRUE(done.ok()) << done.status();
  ASSERT_EQ(done->open_actions_size(), 0);
  action.set_base_version(done->version());
  action.set_description("Interview training");
  auto second = env_->keeper().AddAction(cw1, action);
  ASSERT_TRUE(second.ok()) << second.status();
  for (int round = 0; round < 2; ++round) {
    request.set_base_version(round == 0 ? second->version() : second->version() + 1);
    request.set_idempotency_key(absl::StrCat("one-1-after-", round));
    auto again = env_->keeper().RecordExpectation(cw1, request);
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_EQ(again->open_actions_size(), 1);
    EXPECT_EQ(again->open_actions(0).description(), "Interview training");
    EXPECT_EQ(again->open_action_count(), 1);
    auto read_again = env_->keeper().GetCase(cw1, get);
    ASSERT_TRUE(read_again.ok()) << read_again.status();
    EXPECT_EQ(again->SerializeAsString(), read_again->SerializeAsString())
        << again->DebugString() << "\nvs\n"
        << read_again->DebugString();
  }
}

TEST_F(CaseStoreTest, AHistoryRowNamingAnotherJobCentreThanItsCaseIsRefused) {
  // Migration 0100: expectation and case_event refer to their case by (case_id, job_centre_id).
  Create("KEY-1");
  pqxx::connection conn(env_->conninfo());
  const auto insert = [&](const std::string& centre, const std::string& table) {
    pqxx::work tx(conn);
    const std::string sql =
        table == "expectation"
            ? "INSERT INTO expectation (job_centre_id, case_id, expected_outcome, expected_month, "
              "risk, recorded_by) SELECT j.id, c.id, 'ORDINARY_JOB', date '2027-02-01', 'LOW', "
              "c.caseworker_id FROM cases c, job_centre j WHERE c.case_ref = 'KEY-1' AND j.code = $1"
            : "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, "
              "effective_on, summary) SELECT j.id, c.id, c.version + 100, 'EXPECTATION', "
              "c.caseworker_id, current_date, '{}' FROM cases c, job_centre j "
              "WHERE c.case_ref = 'KEY-1' AND j.code = $1";
    tx.exec_params0(sql, centre);
    tx.commit();
  };
  for (const std::string table : {"expectation", "case_event"}) {
    EXPECT_THROW(insert("JC2", table), pqxx::foreign_key_violation) << table;
    EXPECT_NO_THROW(insert("JC1", table)) << table;  // the case's own centre
  }
}

TEST_F(CaseStoreTest, TwoTransactionsAddingActionsToOneCaseLeaveBothInItsOpenActions) {
  // Migration 0115: a refresh of case_open_actions locks the case first, so the later of two
  // concurrent action writes computes its document after the earlier one commits.
  Create("RACE-1");
  const std::string insert =
      "INSERT INTO action (job_centre_id, case_id, description, owner_id, due_on, created_by) "
      "SELECT c.job_centre_id, c.id, $1, c.caseworker_id, date '2027-01-04', c.caseworker_id "
      "FROM cases c WHERE c.case_ref = 'RACE-1'";
  pqxx::connection first_conn(env_->conninfo());
  pqxx::connection second_conn(env_->conninfo());
  pqxx::work first(first_conn);
  first.exec_params0(insert, "first");
  std::thread second_writer([&] {
    pqxx::work second(second_conn);
    second.exec_params0(insert, "second");  // waits for the first to commit
    second.commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  first.commit();
  second_writer.join();
  EXPECT_EQ(env_->Scalar("SELECT o.open_count || ' ' || jsonb_array_length(o.open_actions) "
                         "FROM case_open_actions o JOIN cases c ON c.id = o.case_id "
                         "WHERE c.case_ref = 'RACE-1'"),
            "2 2");
}

TEST_F(CaseStoreTest, ConcurrentExpectationWritesShareCommitsAndNoneIsLost) {
  // Group commit (expectation_batcher.h): 12 writers, each on its own case, 15 writes each. Every
  // write is acknowledged with the next version and stored; some calls carry several writes.
  constexpr int kWriters = 12, kWrites = 15;
  std::vector<v1::Case> cases;
  for (int i = 0; i < kWriters; ++i) cases.push_back(Create(absl::StrCat("GROUP-", i)));
  const int64_t batches = env_->store().batcher().batches_sent();
  const int64_t sent = env_->store().batcher().writes_sent();
  const Caller cw1 = env_->As("cw1");
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      int64_t version = cases[i].version();
      for (int n = 0; n < kWrites; ++n) {
        v1::RecordExpectationRequest request;
        request.set_case_ref(cases[i].case_ref());
        request.set_base_version(version);
        request.set_expected_outcome(n % 2 == 0 ? "ORDINARY_JOB" : "EDUCATION");
        request.set_expected_month("2027-02");
        request.set_risk("LOW");
        request.set_idempotency_key(absl::StrCat("group-", i, "-", n));
        auto written = env_->keeper().RecordExpectation(cw1, request);
        if (!written.ok() || written->version() != version + 1 ||
            written->case_ref() != cases[i].case_ref()) {
          ++failures;
          return;
        }
        version = written->version();
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(env_->store().batcher().writes_sent() - sent, kWriters * kWrites);
  EXPECT_LT(env_->store().batcher().batches_sent() - batches, kWriters * kWrites);
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM expectation e JOIN cases c ON c.id = e.case_id "
                         "WHERE c.case_ref LIKE 'GROUP-%'"),
            std::to_string(kWriters * kWrites));
  EXPECT_EQ(env_->Scalar("SELECT count(DISTINCT version) FROM cases WHERE case_ref LIKE 'GROUP-%'"),
            "1");
}

TEST_F(CaseStoreTest, AsyncExpectationWritesAreAnsweredOnceEachAlongsideWaitingOnes) {
  // The callback API's path (CaseKeeper::RecordExpectation with `done`): async writes share
  // batches with waiting ones; a stale one and a retried key take the general path off the
  // batcher's threads and answer as the waiting path does.
  constexpr int kCases = 8;
  std::vector<v1::Case> cases;
  for (int i = 0; i < kCases; ++i) cases.push_back(Create(absl::StrCat("ASYNC-", i)));
  const Caller cw1 = env_->As("cw1");
  auto request_for = [](const v1::Case& c, int64_t version, const std::string& key) {
    v1::RecordExpectationRequest request;
    request.set_case_ref(c.case_ref());
    request.set_base_version(version);
    request.set_expected_outcome("ORDINARY_JOB");
    request.set_expected_month("2027-03");
    request.set_risk("MEDIUM");
    request.set_idempotency_key(key);
    return request;
  };
  // Fresh writes on the first half, a stale write and a retry of the first write's key.
  std::vector<v1::RecordExpectationRequest> requests;
  for (int i = 0; i < kCases / 2; ++i) {
    requests.push_back(request_for(cases[i], cases[i].version(), absl::StrCat("async-", i)));
  }
  requests.push_back(request_for(cases[1], cases[1].version() + 5, "async-stale"));
  absl::Mutex mu;
  std::vector<int> answers(requests.size(), 0);
  std::vector<absl::StatusOr<v1::Case>> results(requests.size(), absl::UnknownError("none"));
  for (size_t i = 0; i < requests.size(); ++i) {
    env_->keeper().RecordExpectation(cw1, requests[i], [&, i](absl::StatusOr<v1::Case> written) {
      absl::MutexLock lock(&mu);
      ++answers[i];
      results[i] = std::move(written);
    });
  }
  // Meanwhile, waiting writes on the second half.
  for (int i = kCases / 2; i < kCases; ++i) {
    auto written = env_->keeper().RecordExpectation(
        cw1, request_for(cases[i], cases[i].version(), absl::StrCat("async-", i)));
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(written->version(), cases[i].version() + 1);
  }
  auto all_answered = [&] {
    for (int n : answers) {
      if (n == 0) return false;
    }
    return true;
  };
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_answered), absl::Seconds(60)));
  }
  // A retry of a written key, once the first is stored: the stored answer, by the general path.
  const size_t retry = requests.size();
  requests.push_back(requests[0]);
  answers.push_back(0);
  results.push_back(absl::UnknownError("none"));
  env_->keeper().RecordExpectation(cw1, requests[retry], [&](absl::StatusOr<v1::Case> written) {
    absl::MutexLock lock(&mu);
    ++answers[retry];
    results[retry] = std::move(written);
  });
  absl::MutexLock lock(&mu);
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_answered), absl::Seconds(60)));
  for (size_t i = 0; i < kCases / 2; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
    EXPECT_EQ(results[i]->version(), cases[i].version() + 1);
    EXPECT_EQ(results[i]->case_ref(), cases[i].case_ref());
  }
  EXPECT_EQ(results[kCases / 2].status().code(), absl::StatusCode::kAborted);
  ASSERT_TRUE(results[retry].ok()) << results[retry].status();
  EXPECT_EQ(results[retry]->version(), results[0]->version());
  absl::SleepFor(absl::Milliseconds(50));  // a second answer would have arrived by now
  for (int n : answers) EXPECT_EQ(n, 1);
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM expectation e JOIN cases c ON c.id = e.case_id "
                         "WHERE c.case_ref LIKE 'ASYNC-%'"),
            std::to_string(kCases));
}

TEST_F(CaseStoreTest, EveryTuningOfTheBatcherAnswersEachAsyncWriteOnce) {
  // ExpectationBatcher::set_tuning between rounds of async writes: one call at a time without
  // gathering, four calls gathering while two are in flight, a gathering that never fills (32
  // writes, 50 ms), then the defaults. Each round's writes are answered once, with the next
  // version, and stored; the senders started for four calls stay harmless with fewer.
  using Tuning = ExpectationBatcher::Tuning;
  Tuning one_at_a_time, four, never_full;
  one_at_a_time.calls_in_flight = 1;
  one_at_a_time.gather_writes = 1;
  four.calls_in_flight = 4;
  four.gather_while_in_flight = 2;
  never_full.gather_writes = 32;
  never_full.gather_for = absl::Milliseconds(50);
  constexpr int kCases = 12;
  std::vector<v1::Case> cases;
  for (int i = 0; i < kCases; ++i) cases.push_back(Create(absl::StrCat("TUNED-", i)));
  const Caller cw1 = env_->As("cw1");
  int round = 0;
  for (const Tuning& tuning : {one_at_a_time, four, never_full, Tuning{}}) {
    env_->store().batcher().set_tuning(tuning);
    const int64_t sent = env_->store().batcher().writes_sent();
    absl::Mutex mu;
    std::vector<int> answers(kCases, 0);
    std::vector<absl::StatusOr<v1::Case>> results(kCases, absl::UnknownError("none"));
    for (int i = 0; i < kCases; ++i) {
      v1::RecordExpectationRequest request;
      request.set_case_ref(cases[i].case_ref());
      request.set_base_version(cases[i].version());
      request.set_expected_outcome("EDUCATION");
      request.set_expected_month("2027-04");
      request.set_risk("LOW");
      request.set_idempotency_key(absl::StrCat("tuned-", round, "-", i));
      env_->keeper().RecordExpectation(cw1, request, [&, i](absl::StatusOr<v1::Case> written) {
        absl::MutexLock lock(&mu);
        ++answers[i];
        results[i] = std::move(written);
      });
    }
    auto all_answered = [&] {
      for (int n : answers) {
        if (n == 0) return false;
      }
      return true;
    };
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_answered), absl::Seconds(60))) << round;
    for (int i = 0; i < kCases; ++i) {
      ASSERT_TRUE(results[i].ok()) << round << "/" << i << ": " << results[i].status();
      EXPECT_EQ(results[i]->version(), cases[i].version() + 1) << round << "/" << i;
      cases[i] = *results[i];
    }
    for (int n : answers) EXPECT_EQ(n, 1) << round;
    EXPECT_EQ(env_->store().batcher().writes_sent() - sent, kCases) << round;
    ++round;
  }
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM expectation e JOIN cases c ON c.id = e.case_id "
                         "WHERE c.case_ref LIKE 'TUNED-%'"),
            std::to_string(4 * kCases));
}

TEST_F(CaseStoreTest, OneCallWritesItsPlainExpectationsTogetherAndRefusesWhatItCannotSettle) {
  // case_record_expectations() (0125) called as the batcher calls it: the plain writes in one
  // statement, a case's second write and a stale one refused to the general path, and a key
  // already stored rolling the statement back so that every write runs alone.
  for (const char* ref : {"ONE-1", "ONE-2", "ONE-3", "ONE-4"}) Create(ref);
  const std::string centre = env_->Scalar("SELECT id FROM job_centre WHERE code = 'JC1'");
  const std::string actor = env_->Scalar(
      "SELECT s.id FROM staff s JOIN job_centre j ON j.id = s.job_centre_id "
      "WHERE j.code = 'JC1' AND s.code = 'cw1'");
  auto write = [&](int i, const std::string& ref, int version, const std::string& key,
                   bool agreed = false) {
    return absl::StrCat(R"({"i":)", i, R"(,"centre":)", centre, R"(,"case_ref":")", ref,
                        R"(","base_version":)", version, R"(,"actor":)", actor,
                        R"(,"all_cases":true,"team":0,"staff":0,"key":")", key,
                        R"(","method":"RecordExpectation","hash":"h","outcome":"FLEX_JOB",)",
                        R"("month":"2027-04-01","risk":"LOW","agreed":)", agreed ? "true" : "false",
                        R"(,"dialogue":0,)", R"("note":"one call","effective_on":"2026-06-01"})");
  };
  struct Row {
    std::string answer, refusal;
  };
  auto call = [&](const std::vector<std::string>& writes) {
    absl::StatusOr<PgPool::Lease> lease = env_->service_pool().Acquire();  // the service's role
    EXPECT_TRUE(lease.ok()) << lease.status();
    pqxx::nontransaction tx(**lease);
    std::map<int, Row> rows;
    for (const auto& r :
         tx.exec_params("SELECT i, answer, refusal FROM case_record_expectations($1)",
                        absl::StrCat("[", absl::StrJoin(writes, ","), "]"))) {
      rows[r[0].as<int>()] = Row{r[1].is_null() ? "" : r[1].as<std::string>(),
                                 r[2].is_null() ? "" : r[2].as<std::string>()};
    }
    return rows;
  };
  std::map<int, Row> first =
      call({write(0, "ONE-1", 1, "k0"), write(1, "ONE-1", 1, "k1"), write(2, "ONE-2", 99, "k2"),
            write(3, "ONE-3", 1, "k3"), write(4, "ONE-4", 1, "k5", /*agreed=*/true)});
  ASSERT_EQ(first.size(), 5u);
  EXPECT_NE(first[0].answer.find(R"("version": 2)"), std::string::npos) << first[0].answer;
  EXPECT_EQ(first[0].refusal, "");
  // Told apart by the one statement only: one by one, the second write meets a moved version.
  EXPECT_NE(first[1].refusal.find("second write in one call"), std::string::npos)
      << first[1].refusal;
  EXPECT_NE(first[2].refusal.find("fallback:"), std::string::npos) << first[2].refusal;
  EXPECT_NE(first[3].answer.find(R"("version": 2)"), std::string::npos) << first[3].answer;
  // Agreed in a dialogue goes one by one, where a caseworker may not mark it.
  EXPECT_NE(first[4].refusal.find("only a team leader"), std::string::npos) << first[4].refusal;
  // The answer names the expectation the case now points at, and the stored key keeps it.
  EXPECT_NE(first[0].answer.find(
                absl::StrCat(R"("id": )", env_->Scalar("SELECT current_expectation_id FROM cases "
                                                       "WHERE case_ref = 'ONE-1'"))),
            std::string::npos)
      << first[0].answer;
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM expectation WHERE note = 'one call'"), "2");
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM case_event e JOIN cases c ON c.id = e.case_id "
                         "WHERE c.case_ref LIKE 'ONE-%' AND e.kind = 'EXPECTATION'"),
            "2");
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM idempotency_key WHERE key LIKE '%:k_'"), "2");
  EXPECT_EQ(env_->Scalar("SELECT version FROM cases WHERE case_ref = 'ONE-2'"), "1");

  // "k0" is stored: the statement rolls back whole, and each write runs alone.
  std::map<int, Row> second = call({write(0, "ONE-2", 1, "k0"), write(1, "ONE-3", 2, "k4")});
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(second[0].refusal.rfind("23505 ", 0), 0u) << second[0].refusal;
  EXPECT_NE(second[1].answer.find(R"("version": 3)"), std::string::npos) << second[1].answer;
  EXPECT_EQ(env_->Scalar("SELECT version FROM cases WHERE case_ref = 'ONE-2'"), "1");
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM expectation WHERE note = 'one call'"), "3");
}

TEST_F(CaseStoreTest, TheAnnouncerSendsAtOnceWhenIdleAndAtMostOneTransactionPerInterval) {
  ChangeAnnouncer announcer(env_->pool());
  const absl::Time idle = absl::Now();
  announcer.Announce(CaseChangeNotice::ForCase(1, 1, 2, "EXPECTATION"));
  ASSERT_TRUE(announcer.Flush(absl::Seconds(5)));
  EXPECT_LT(absl::Now() - idle, ChangeAnnouncer::kMinInterval);  // not held back
  EXPECT_EQ(announcer.transactions_sent(), 1);
  // A notice every millisecond: one transaction per interval at most, whatever the pace.
  const absl::Time start = absl::Now();
  for (int i = 0; i < 60; ++i) {
    announcer.Announce(CaseChangeNotice::ForCase(1, 100 + i, 2, "EXPECTATION"));
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_TRUE(announcer.Flush(absl::Seconds(5)));
  const int64_t allowed = (absl::Now() - start) / ChangeAnnouncer::kMinInterval + 2;
  EXPECT_LE(announcer.transactions_sent() - 1, allowed);
  EXPECT_GE(announcer.transactions_sent() - 1, 2);
}

TEST_F(CaseStoreTest, CachedCataloguesAndCallersFollowTheDatabaseNotices) {
  FixedClock clock(kToday);
  ReferenceData reference(env_->pool(), clock);
  ASSERT_TRUE(reference.StartListening().ok());
  CaseKeeper cached(env_->store(), clock, &reference.catalogues());
  v1::Case c = Create("CACHE-1");
  auto caller = ResolveCaller("JC1", "cw1", reference.directory());
  ASSERT_TRUE(caller.ok()) << caller.status();
  v1::RecordExpectationRequest request;
  request.set_case_ref("CACHE-1");
  request.set_base_version(c.version());
  request.set_expected_outcome("APPRENTICESHIP");
  request.set_expected_month("2027-02");
  request.set_risk("LOW");
  auto refused = cached.RecordExpectation(*caller, request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);

  // Another instance adds the outcome: this one's cached catalogue follows the NOTIFY.
  v1::UpsertCatalogueEntryRequest entry;
  entry.mutable_entry()->set_kind(v1::CatalogueEntry::OUTCOME);
  entry.mutable_entry()->set_code("APPRENTICESHIP");
  entry.mutable_entry()->set_label_da("Lærlingeplads");
  entry.mutable_entry()->set_label_en("Apprenticeship");
  entry.mutable_entry()->set_active(true);
  entry.mutable_entry()->set_outcome_group("EDUCATION");
  ASSERT_TRUE(env_->keeper().UpsertCatalogueEntry(env_->As("admin"), entry).ok());
  absl::StatusOr<v1::Case> accepted = absl::UnknownError("not tried");
  for (int i = 0; i < 100 && !accepted.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    accepted = cached.RecordExpectation(*caller, request);
  }
  ASSERT_TRUE(accepted.ok()) << accepted.status();

  // A deactivated caller is refused once the staff notice arrives.
  env_->Scalar("UPDATE staff SET active = false WHERE code = 'cw1' RETURNING 1");
  absl::StatusOr<Caller> gone = caller;
  for (int i = 0; i < 100 && gone.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    gone = ResolveCaller("JC1", "cw1", reference.directory());
  }
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(CaseStoreTest, ListCasesPagesInCaseRefOrderWithinWhatTheCallerMaySee) {
  std::set<std::string> team1;
  for (int i = 0; i < 5; ++i) {
    const std::string ref = "T1-" + std::to_string(i);
    Create(ref, "cw1");
    team1.insert(ref);
  }
  Create("T2-A", "cw3");
  Create("T2-B", "tl2", "cw3");
  v1::ListCasesRequest request;
  request.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto response = env_->keeper().ListCases(env_->As("cw2"), request);
    ASSERT_TRUE(response.ok()) << response.status();
    for (const v1::Case& c : response->cases()) seen.push_back(c.case_ref());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>(team1.begin(), team1.end())));  // team T1 only, sorted

  v1::ListCasesRequest all;
  auto manager_view = env_->keeper().ListCases(env_->As("mgr"), all);
  ASSERT_TRUE(manager_view.ok());
  EXPECT_EQ(manager_view->cases_size(), 7);
  all.set_team("T2");
  EXPECT_EQ(env_->keeper().ListCases(env_->As("mgr"), all)->cases_size(), 2);
  EXPECT_EQ(env_->keeper().ListCases(env_->As("cw1"), all)->cases_size(),
            0);  // narrowed, not refused
  all.set_team("NOPE");
  EXPECT_EQ(env_->keeper().ListCases(env_->As("mgr"), all).status().message().rfind("team:", 0),
            0u);
  // Another job centre sees none of these.
  EXPECT_EQ(env_->keeper().ListCases(env_->As("cwx", "JC2"), v1::ListCasesRequest())->cases_size(),
            0);
  // Admins configure; they list no cases (issue 8).
  EXPECT_EQ(env_->keeper().ListCases(env_->As("admin"), v1::ListCasesRequest()).status().code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace forecast::testing
