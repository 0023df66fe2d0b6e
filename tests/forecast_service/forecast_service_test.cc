// The forecast service end to end: real PostgreSQL, LISTEN/NOTIFY, gRPC on port 0, changes made
// through the case service's own logic and store (CaseKeeper over PgCaseStore) or written in its
// shape with SQL (seed_centre.h). The service's clock is fixed at 2099-03-16.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "services/case/case_keeper.h"
#include "services/case/pg_case_store.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/common/status.h"
#include "services/common/server.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/dialogues.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"
#include "tests/forecast_service/seed_centre.h"
#include "tests/forecast_service/service_fixture.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::fsvc {
namespace {

using google::protobuf::util::MessageDifferencer;

class ServiceTest : public ForecastServiceFixture {
 protected:
  void SetUp() override {
    ForecastServiceFixture::SetUp();
    if (HasFatalFailure()) return;
    // The case service as its own database role beside the forecast service's (0009, 0080).
    case_pool_ = std::make_unique<PgPool>(db_->conninfo_as(forecast::testing::kCaseServiceRole), 4);
    case_store_ = std::make_unique<PgCaseStore>(*case_pool_);
    keeper_ = std::make_unique<CaseKeeper>(*case_store_, clock_);
  }
  static std::unique_ptr<grpc::ClientContext> As(const std::string& centre,
                                                 const std::string& staff) {
    return CallAs(centre, staff, std::chrono::seconds(20));
  }

  grpc::Status TeamDashboard(const std::string& staff, const std::string& team,
                             v1::TeamDashboard* out, const std::string& as_of = "",
                             const std::string& centre = "JC1") {
    v1::TeamDashboardRequest req;
    req.set_team(team);
    req.set_as_of(as_of);
    return stub_->GetTeamDashboard(As(centre, staff).get(), req, out);
  }
  grpc::Status CaseworkerDashboard(const std::string& staff, const std::string& caseworker,
                                   v1::CaseworkerDashboard* out, const std::string& as_of = "") {
    v1::CaseworkerDashboardRequest req;
    req.set_caseworker(caseworker);
    req.set_as_of(as_of);
    return stub_->GetCaseworkerDashboard(As("JC1", staff).get(), req, out);
  }

  // Records an expectation through the case service's logic, as `staff`.
  void RecordExpectation(const std::string& staff, const std::string& ref,
                         const std::string& outcome, const std::string& month,
                         int64_t dialogue_id = 0) {
    auto caller = ResolveCaller("JC1", staff, *directory_);
    ASSERT_TRUE(caller.ok()) << caller.status();
    v1::GetCaseRequest get;
    get.set_case_ref(ref);
    auto c = keeper_->GetCase(*caller, get);
    ASSERT_TRUE(c.ok()) << c.status();
    v1::RecordExpectationRequest rec;
    rec.set_case_ref(ref);
    rec.set_base_version(c->version());
    rec.set_expected_outcome(outcome);
    rec.set_expected_month(month);
    rec.set_risk("LOW");
    rec.set_agreed_in_dialogue(dialogue_id != 0);
    rec.set_dialogue_id(dialogue_id);
    auto written = keeper_->RecordExpectation(*caller, rec);
    ASSERT_TRUE(written.ok()) << written.status();
  }

  std::unique_ptr<PgPool> case_pool_;
  std::unique_ptr<PgCaseStore> case_store_;
  std::unique_ptr<CaseKeeper> keeper_;
};

// Everything a refresh keeps of a case, as text, to compare an incremental refresh with a full
// read.
std::string Describe(const CaseTimeline& c) {
  std::string out = absl::StrCat(c.id, " ", c.ref, " ", c.case_type, " ", FormatDay(c.opened_on),
                                 " ", FormatDay(c.known_on), "\n");
  for (const AssignmentEvent& a : c.assignments) {
    absl::StrAppend(&out, "A ", FormatDay(a.from_on), " ", FormatDay(a.known_on), " ",
                    a.caseworker_id, " ", a.team_id, " by ", a.recorded_by, "\n");
  }
  for (const ExpectationEvent& e : c.expectations) {
    absl::StrAppend(&out, "E ", e.id, " ", FormatDay(e.recorded_on), " ", e.outcome, " ",
                    FormatMonth(e.expected_month), " ", e.risk, " ", e.dialogue_id, "\n");
  }
  for (const StatusEvent& s : c.statuses) {
    absl::StrAppend(&out, "S ", FormatDay(s.on), " ", FormatDay(s.known_on), " ", s.closed, " ",
                    s.outcome, " by ", s.recorded_by, "\n");
  }
  for (const ActionRecord& a : c.actions) {
    absl::StrAppend(&out, "X ", a.id, " ", FormatDay(a.known_on), " ", FormatDay(a.first_due));
    for (const FollowUpEvent& f : a.follow_ups)
      absl::StrAppend(&out, " ", std::string(1, f.result));
    absl::StrAppend(&out, "\n");
  }
  for (const FieldEvent& f : c.fields) {
    absl::StrAppend(&out, "F ", FormatDay(f.effective_on), " ", FormatDay(f.known_on), " ", f.field,
                    " ", f.value.present, f.value.bool_value, f.value.text, "\n");
  }
  absl::StrAppend(&out, "last ", c.last_ids.assignment, " ", c.last_ids.expectation, " ",
                  c.last_ids.status, " ", c.last_ids.action, " ", c.last_ids.follow_up, " ",
                  c.last_ids.field, "\n");
  return out;
}

TEST_F(ServiceTest, ARefreshReadsOnlyNewRowsAndEqualsAFullRead) {
  auto base = store_->Load(seeded_.jc1);
  ASSERT_TRUE(base.ok()) << base.status();
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  // Rows that append (an expectation, an action) and rows that sort into the middle of a list
  // (a back-dated closure, re-assignment and field change), a follow-up of an existing action,
  // and a new case.
  w.Expect("A4", "2099-03-16", "ORDINARY_JOB", "2099-06", "LOW");
  w.AddAction("A4", "2099-03-16", "2099-04-01");
  w.Close("A3", "2099-03-02", "FLEX_JOB");
  w.Reassign("A8", "2099-02-20", "cw_a2");
  w.SetField("A2", "2099-03-01", "has_cv", "true");
  w.AddCase("A11", "SDP", "2099-03-16", "cw_a1");
  {
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO action_follow_up (job_centre_id, action_id, case_id, result, previous_due_on, "
        "recorded_by, recorded_at) SELECT job_centre_id, id, case_id, 'NOT_DONE', due_on, owner_id, "
        "'2099-03-16 12:00:00+00' FROM action WHERE case_id = $1 ORDER BY id LIMIT 1",
        w.Case("A1"));
    tx.commit();
  }
  const std::vector<int64_t> ids = {w.Case("A4"), w.Case("A3"),  w.Case("A8"),
                                    w.Case("A2"), w.Case("A11"), w.Case("A1")};
  auto refreshed = store_->Refresh(**base, ids, /*small_tables=*/false);
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  auto full = store_->Load(seeded_.jc1);
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_EQ((*refreshed)->cases.size(), (*full)->cases.size());
  for (const auto& record : (*full)->cases) {
    const CaseTimeline* incremental = (*refreshed)->CaseById(record->id);
    ASSERT_NE(incremental, nullptr) << record->ref;
    EXPECT_EQ(Describe(*incremental), Describe(*record)) << record->ref;
  }
  // The base is untouched (copy on write).
  EXPECT_EQ((*base)->CaseById(w.Case("A4"))->expectations.size() + 1,
            (*refreshed)->CaseById(w.Case("A4"))->expectations.size());
}

TEST_F(ServiceTest, ACommittedChangeIsPushedToWatchersWithinOneSecond) {
  auto ctx = As("JC1", "tl_a");
  v1::TeamDashboardRequest req;
  req.set_team("TA");
  auto reader = stub_->WatchTeamDashboard(ctx.get(), req);
  v1::TeamDashboard first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.team(), "TA");
  EXPECT_EQ(first.totals().open_cases(), 6);
  EXPECT_EQ(first.totals().no_expectation(), 2);  // A2, A9

  for (int round = 0; round < 2; ++round) {
    const int64_t before = first.revision();
    // A2, then A9, gets its first expectation through the case service's logic.
    RecordExpectation("tl_a", round == 0 ? "A2" : "A9", "ORDINARY_JOB", "2099-06");
    const auto committed = std::chrono::steady_clock::now();
    v1::TeamDashboard pushed;
    do {
      ASSERT_TRUE(reader->Read(&pushed));
    } while (pushed.revision() <= before);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - committed)
            .count();
    EXPECT_LT(ms, 1000) << "push took " << ms << " ms";
    EXPECT_EQ(pushed.totals().no_expectation(), 1 - round);
    first = pushed;
  }
  // The same change is in every other figure at once, not only in the stream.
  v1::CaseworkerDashboard cw;
  ASSERT_TRUE(CaseworkerDashboard("tl_a", "cw_a1", &cw).ok());
  EXPECT_EQ(cw.no_expectation(), 0);
  ctx->TryCancel();
}

TEST_F(ServiceTest, AsOfAnswerEqualsTheAnswerGivenOnThatDay) {
  // Everything as the service answered on 2099-03-16.
  v1::TeamDashboard team_then;
  ASSERT_TRUE(TeamDashboard("mgr", "TA", &team_then).ok());
  v1::CaseworkerDashboard cw_then;
  ASSERT_TRUE(CaseworkerDashboard("mgr", "cw_a1", &cw_then).ok());
  v1::ProjectRequest project;
  project.mutable_scope()->set_kind(v1::Scope::TEAM);
  project.mutable_scope()->set_code("TA");
  project.set_model(v1::CALIBRATED);
  project.set_horizon_months(6);
  v1::Projection projection_then;
  ASSERT_TRUE(stub_->Project(As("JC1", "mgr").get(), project, &projection_then).ok());
  v1::MilestonesRequest milestones;
  milestones.set_team("TA");
  milestones.set_from_month("2099-02");
  milestones.set_to_month("2099-04");
  v1::Milestones milestones_then;
  ASSERT_TRUE(stub_->GetMilestones(As("JC1", "mgr").get(), milestones, &milestones_then).ok());
  v1::DialogueAgendaRequest agenda;
  agenda.set_caseworker("cw_a1");
  v1::DialogueAgenda agenda_then;
  ASSERT_TRUE(stub_->GetDialogueAgenda(As("JC1", "mgr").get(), agenda, &agenda_then).ok());

  // Later days: closures, a new expectation, a re-assignment, a new case, a target, and a
  // closure back-dated to 03-15 but only recorded on 03-19.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2099, 3, 20, 12, 0, 0), absl::UTCTimeZone()));
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  w.Close("A1", "2099-03-17", "ORDINARY_JOB");
  w.Expect("A2", "2099-03-18", "EDUCATION", "2099-08", "LOW");
  w.Reassign("A8", "2099-03-18", "cw_a2");
  w.AddCase("A10", "SDP", "2099-03-19", "cw_a1");
  w.RecordOn("2099-03-19");
  w.Close("A3", "2099-03-15", "FLEX_JOB");
  {
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO milestone_target (job_centre_id, team_id, metric_code, month, target, set_by, set_at) "
        "VALUES ($1, $2, 'closures', '2099-03-01', 9, $3, '2099-03-18 12:00:00+00')",
        seeded_.jc1, w.Unit("TA"), w.Staff("tl_a"));
    tx.commit();
  }
  ASSERT_TRUE(engine_->refresher()
                  .RefreshCases(seeded_.jc1, {w.Case("A1"), w.Case("A2"), w.Case("A8"),
                                              w.Case("A10"), w.Case("A3")})
                  .ok());

  // Now the figures differ ...
  v1::CaseworkerDashboard cw_now;
  ASSERT_TRUE(CaseworkerDashboard("mgr", "cw_a1", &cw_now).ok());
  EXPECT_NE(cw_now.open_cases(), cw_then.open_cases());
  // ... and as of 03-16 they are what they were then.
  auto clear_team = [](v1::TeamDashboard& d) {
    d.clear_revision();
    d.clear_computed_at();
  };
  v1::TeamDashboard team_as_of;
  ASSERT_TRUE(TeamDashboard("mgr", "TA", &team_as_of, "2099-03-16").ok());
  clear_team(team_then);
  clear_team(team_as_of);
  EXPECT_TRUE(MessageDifferencer::Equals(team_then, team_as_of))
      << team_then.DebugString() << "\nvs\n"
      << team_as_of.DebugString();
  v1::CaseworkerDashboard cw_as_of;
  ASSERT_TRUE(CaseworkerDashboard("mgr", "cw_a1", &cw_as_of, "2099-03-16").ok());
  cw_then.clear_revision();
  cw_as_of.clear_revision();
  EXPECT_TRUE(MessageDifferencer::Equals(cw_then, cw_as_of)) << cw_then.DebugString() << "\nvs\n"
                                                             << cw_as_of.DebugString();
  project.set_as_of("2099-03-16");
  v1::Projection projection_as_of;
  ASSERT_TRUE(stub_->Project(As("JC1", "mgr").get(), project, &projection_as_of).ok());
  projection_then.clear_compute_ms();
  projection_as_of.clear_compute_ms();
  EXPECT_TRUE(MessageDifferencer::Equals(projection_then, projection_as_of));
  milestones.set_as_of("2099-03-16");
  v1::Milestones milestones_as_of;
  ASSERT_TRUE(stub_->GetMilestones(As("JC1", "mgr").get(), milestones, &milestones_as_of).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(milestones_then, milestones_as_of))
      << milestones_then.DebugString() << "\nvs\n"
      << milestones_as_of.DebugString();
  agenda.set_as_of("2099-03-16");
  v1::DialogueAgenda agenda_as_of;
  ASSERT_TRUE(stub_->GetDialogueAgenda(As("JC1", "mgr").get(), agenda, &agenda_as_of).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(agenda_then, agenda_as_of));
}

TEST_F(ServiceTest, PermissionsFollowTheRules) {
  v1::TeamDashboard team;
  v1::CaseworkerDashboard cw;
  // A caseworker: own dashboard and own team; not a colleague's dashboard, another team or
  // the whole centre.
  EXPECT_TRUE(CaseworkerDashboard("cw_a1", "", &cw).ok());
  EXPECT_EQ(cw.caseworker(), "cw_a1");
  EXPECT_EQ(CaseworkerDashboard("cw_a1", "cw_a2", &cw).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_TRUE(TeamDashboard("cw_a1", "TA", &team).ok());
  EXPECT_EQ(TeamDashboard("cw_a1", "TB", &team).error_code(), grpc::PERMISSION_DENIED);
  v1::ProjectRequest centre;
  centre.mutable_scope()->set_kind(v1::Scope::JOB_CENTRE);
  v1::Projection projection;
  EXPECT_EQ(stub_->Project(As("JC1", "cw_a1").get(), centre, &projection).error_code(),
            grpc::PERMISSION_DENIED);
  // A team leader: the team and its caseworkers, not another team.
  EXPECT_TRUE(CaseworkerDashboard("tl_a", "cw_a2", &cw).ok());
  EXPECT_EQ(CaseworkerDashboard("tl_a", "cw_b1", &cw).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(TeamDashboard("tl_a", "TB", &team).error_code(), grpc::PERMISSION_DENIED);
  // A manager: every team and the whole centre.
  EXPECT_TRUE(TeamDashboard("mgr", "TB", &team).ok());
  EXPECT_TRUE(stub_->Project(As("JC1", "mgr").get(), centre, &projection).ok());
  v1::CompareTeamsRequest compare;
  v1::TeamComparison comparison;
  ASSERT_TRUE(stub_->CompareTeams(As("JC1", "mgr").get(), compare, &comparison).ok());
  EXPECT_EQ(comparison.teams_size(), 2);
  // Targets: the team's leader and managers only.
  v1::SetMilestoneTargetRequest target;
  target.mutable_target()->set_team("TA");
  target.mutable_target()->set_metric("closures");
  target.mutable_target()->set_month("2099-04");
  target.mutable_target()->set_target(4);
  v1::MilestoneTarget stored;
  EXPECT_EQ(stub_->SetMilestoneTarget(As("JC1", "cw_a1").get(), target, &stored).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->SetMilestoneTarget(As("JC1", "tl_b").get(), target, &stored).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_TRUE(stub_->SetMilestoneTarget(As("JC1", "tl_a").get(), target, &stored).ok());
  // Dialogues: recorded by the caseworker's team leader.
  v1::RecordDialogueRequest dialogue;
  dialogue.set_caseworker("cw_a1");
  dialogue.set_held_on("2099-03-16");
  v1::Dialogue recorded;
  EXPECT_EQ(stub_->RecordDialogue(As("JC1", "cw_a1").get(), dialogue, &recorded).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->RecordDialogue(As("JC1", "tl_b").get(), dialogue, &recorded).error_code(),
            grpc::PERMISSION_DENIED);
  // Another job centre is never reachable: its codes do not exist for the caller.
  EXPECT_EQ(TeamDashboard("tl_x", "TA", &team, "", "JC2").error_code(), grpc::NOT_FOUND);
  v1::ExplainCaseRequest explain;
  explain.set_case_ref("A1");
  v1::CaseExplanation explanation;
  EXPECT_EQ(stub_->ExplainCase(As("JC2", "tl_x").get(), explain, &explanation).error_code(),
            grpc::NOT_FOUND);
  EXPECT_TRUE(stub_->ExplainCase(As("JC1", "tl_a").get(), explain, &explanation).ok());
  // Unknown or missing callers.
  EXPECT_EQ(TeamDashboard("nobody", "TA", &team).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(TeamDashboard("", "TA", &team).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(TeamDashboard("cw_a1", "TA", &team, "", "").error_code(), grpc::UNAUTHENTICATED);
}

// The row of a metric and month.
const v1::MilestoneRow* Row(const v1::Milestones& m, const std::string& metric,
                            const std::string& month) {
  for (const auto& r : m.rows()) {
    if (r.metric() == metric && r.month() == month) return &r;
  }
  return nullptr;
}

// A write's answer needs no read of the centre: what the store returned is applied to the
// loaded view (Refresher::Amend). An engine without a listener shows the stored target only after
// it is applied.
TEST_F(ServiceTest, AStoredWriteIsAppliedToTheViewWithoutReadingTheCentre) {
  ForecastEngine quiet(*store_, clock_);
  auto before = quiet.cache().Now(seeded_.jc1);
  ASSERT_TRUE(before.ok()) << before.status();
  const size_t targets = (*before)->history().targets.size();
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  NewMilestoneTarget target;
  target.centre_id = seeded_.jc1;
  target.team_id = w.Unit("TA");
  target.metric = "closures";
  target.month = Month(2099, 4);
  target.target = 7;
  target.set_by = w.Staff("tl_a");
  absl::StatusOr<MilestoneTargetRecord> stored = store_->AddTarget(target);
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto unchanged = quiet.cache().Now(seeded_.jc1);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ((*unchanged)->history().targets.size(), targets);  // nothing read behind its back

  ASSERT_TRUE(
      quiet.refresher().Amend(seeded_.jc1, [&](CentreHistory& h) { h.PutTarget(*stored); }).ok());
  auto after = quiet.cache().Now(seeded_.jc1);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ((*after)->history().targets.size(), targets + 1);
  EXPECT_EQ((*after)->history().targets.back().set_at, stored->set_at);
  EXPECT_EQ((*after)->history().targets.back().target, 7);
  EXPECT_GT((*after)->revision(), (*unchanged)->revision());
}

TEST_F(ServiceTest, MilestoneTargetsAndTracking) {
  v1::MilestoneMetrics metrics;
  ASSERT_TRUE(stub_->ListMilestoneMetrics(As("JC1", "cw_a1").get(), {}, &metrics).ok());
  ASSERT_EQ(metrics.metrics_size(), 7);
  EXPECT_EQ(metrics.metrics(4).code(), "internship_starts");
  EXPECT_EQ(metrics.metrics(4).field_code(), "in_internship");

  auto set = [&](const std::string& metric, const std::string& month, double value,
                 const std::string& caseworker = "") {
    v1::SetMilestoneTargetRequest req;
    req.mutable_target()->set_team("TA");
    req.mutable_target()->set_caseworker(caseworker);
    req.mutable_target()->set_metric(metric);
    req.mutable_target()->set_month(month);
    req.mutable_target()->set_target(value);
    v1::MilestoneTarget out;
    return stub_->SetMilestoneTarget(As("JC1", "tl_a").get(), req, &out);
  };
  ASSERT_TRUE(set("closures", "2099-03", 3).ok());
  ASSERT_TRUE(set("internship_starts", "2099-03", 2).ok());
  ASSERT_TRUE(set("caseload", "2099-03", 5).ok());
  // Bad input names the field and stores nothing.
  grpc::Status bad = set("no_such_metric", "2099-03", 1);
  EXPECT_EQ(bad.error_code(), grpc::NOT_FOUND);
  EXPECT_NE(bad.error_message().find("target.metric"), std::string::npos);
  bad = set("closures", "2099-3", 1);
  EXPECT_EQ(bad.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("target.month"), std::string::npos);
  EXPECT_EQ(set("closures", "2099-03", -1).error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(set("closures", "2099-03", 1, "cw_b1").error_code(), grpc::INVALID_ARGUMENT);

  v1::MilestonesRequest req;
  req.set_team("TA");
  req.set_from_month("2099-02");
  req.set_to_month("2099-03");
  v1::Milestones m;
  ASSERT_TRUE(stub_->GetMilestones(As("JC1", "cw_a1").get(), req, &m).ok());
  const v1::MilestoneRow* closures = Row(m, "closures", "2099-03");
  ASSERT_NE(closures, nullptr);
  EXPECT_EQ(closures->actual(), 1);  // A6
  EXPECT_EQ(closures->target(), 3);
  EXPECT_EQ(closures->gap(), 2);
  const v1::MilestoneRow* internships = Row(m, "internship_starts", "2099-03");
  ASSERT_NE(internships, nullptr);
  EXPECT_EQ(internships->actual(), 1);  // A2 on 03-05
  EXPECT_EQ(internships->gap(), 1);
  const v1::MilestoneRow* caseload = Row(m, "caseload", "2099-03");
  ASSERT_NE(caseload, nullptr);
  EXPECT_EQ(caseload->actual(), 6);
  EXPECT_EQ(caseload->gap(), 1);
  EXPECT_FALSE(Row(m, "closures", "2099-02")->has_target());
  EXPECT_FALSE(closures->explanation().method().empty());

  // A closure recorded through SQL in the case service's shape moves the actual.
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  w.Close("A2", "2099-03-16", "EDUCATION");
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A2")}).ok());
  ASSERT_TRUE(stub_->GetMilestones(As("JC1", "cw_a1").get(), req, &m).ok());
  EXPECT_EQ(Row(m, "closures", "2099-03")->actual(), 2);
  EXPECT_EQ(Row(m, "closures", "2099-03")->gap(), 1);
  EXPECT_EQ(Row(m, "closures_education", "2099-03")->actual(), 1);
  EXPECT_EQ(Row(m, "caseload", "2099-03")->actual(), 5);
  EXPECT_EQ(Row(m, "caseload", "2099-03")->gap(), 0);
}

TEST_F(ServiceTest, DialogueRecordAgendaAndChanges) {
  v1::DialogueAgendaRequest agenda_req;
  agenda_req.set_caseworker("cw_a1");
  v1::DialogueAgenda agenda;
  ASSERT_TRUE(stub_->GetDialogueAgenda(As("JC1", "tl_a").get(), agenda_req, &agenda).ok());
  ASSERT_EQ(agenda.items_size(), 3);
  EXPECT_EQ(agenda.items(0).case_ref(), "A1");
  EXPECT_EQ(agenda.items(1).case_ref(), "A2");
  EXPECT_EQ(agenda.items(2).case_ref(), "A8");
  EXPECT_TRUE(agenda.last_dialogue_on().empty());

  // Changes before any dialogue: since one month before today.
  v1::ChangesRequest changes_req;
  changes_req.set_team("TA");
  v1::Changes changes;
  ASSERT_TRUE(
      stub_->GetChangesSinceLastDialogue(As("JC1", "tl_a").get(), changes_req, &changes).ok());
  EXPECT_EQ(changes.since(), "2099-02-16");

  v1::RecordDialogueRequest req;
  req.set_caseworker("cw_a1");
  req.set_held_on("2099-03-16");
  req.add_case_refs("A1");
  req.add_case_refs("A2");
  req.mutable_notes()->set_status("Two cases are behind plan.");
  req.mutable_notes()->set_adjustment("Follow up A1 this week.");
  req.set_idempotency_key("dialogue-1");
  v1::Dialogue d;
  ASSERT_TRUE(stub_->RecordDialogue(As("JC1", "tl_a").get(), req, &d).ok());
  EXPECT_GT(d.id(), 0);
  EXPECT_EQ(d.team(), "TA");
  EXPECT_EQ(d.team_leader(), "tl_a");
  EXPECT_EQ(d.case_refs_size(), 2);
  v1::Dialogue again;
  ASSERT_TRUE(stub_->RecordDialogue(As("JC1", "tl_a").get(), req, &again).ok());
  EXPECT_EQ(again.id(), d.id());  // a retry stores nothing new

  // Bad input names the field.
  v1::RecordDialogueRequest bad = req;
  bad.set_idempotency_key("");
  bad.set_held_on("2099-03-17");
  v1::Dialogue none;
  grpc::Status status = stub_->RecordDialogue(As("JC1", "tl_a").get(), bad, &none);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("held_on"), std::string::npos);
  bad.set_held_on("2099-03-16");
  bad.mutable_notes()->set_learning("Citizen 010203-1234 said so");
  status = stub_->RecordDialogue(As("JC1", "tl_a").get(), bad, &none);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("notes.learning"), std::string::npos);
  bad.mutable_notes()->clear_learning();
  bad.set_case_refs(0, "NOPE");
  EXPECT_EQ(stub_->RecordDialogue(As("JC1", "tl_a").get(), bad, &none).error_code(),
            grpc::NOT_FOUND);

  // RecordDialogue stores a FINAL dialogue: the case service refuses to record an agreement in
  // it (FAILED_PRECONDITION DIALOGUE_FINAL naming dialogue_id) and writes nothing.
  {
    auto caller = ResolveCaller("JC1", "tl_a", *directory_);
    ASSERT_TRUE(caller.ok()) << caller.status();
    v1::GetCaseRequest get;
    get.set_case_ref("A1");
    auto c = keeper_->GetCase(*caller, get);
    ASSERT_TRUE(c.ok()) << c.status();
    v1::RecordExpectationRequest rec;
    rec.set_case_ref("A1");
    rec.set_base_version(c->version());
    rec.set_expected_outcome("SMALL_JOB");
    rec.set_expected_month("2099-05");
    rec.set_risk("LOW");
    rec.set_agreed_in_dialogue(true);
    rec.set_dialogue_id(d.id());
    auto refused = keeper_->RecordExpectation(*caller, rec);
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
    EXPECT_EQ(DetailOf(refused.status()).reason, "DIALOGUE_FINAL");
    EXPECT_EQ(DetailOf(refused.status()).field, "dialogue_id");
    auto unchanged = keeper_->GetCase(*caller, get);
    ASSERT_TRUE(unchanged.ok());
    EXPECT_EQ(unchanged->version(), c->version());
  }
  // An agreement stored in it before this rule (written as the case service wrote it then).
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  w.Expect("A1", "2099-03-16", "SMALL_JOB", "2099-05", "LOW", d.id());
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A1")}).ok());
  v1::ListDialoguesRequest list_req;
  list_req.set_caseworker("cw_a1");
  v1::ListDialoguesResponse list;
  ASSERT_TRUE(stub_->ListDialogues(As("JC1", "cw_a1").get(), list_req, &list).ok());
  ASSERT_EQ(list.dialogues_size(), 1);
  ASSERT_EQ(list.dialogues(0).agreed_case_refs_size(), 1);
  EXPECT_EQ(list.dialogues(0).agreed_case_refs(0), "A1");
  EXPECT_EQ(list.dialogues(0).notes().status(), "Two cases are behind plan.");

  // The next agenda knows the dialogue; changes default to since the dialogue.
  ASSERT_TRUE(stub_->GetDialogueAgenda(As("JC1", "tl_a").get(), agenda_req, &agenda).ok());
  EXPECT_EQ(agenda.last_dialogue_on(), "2099-03-16");
  changes_req.clear_team();
  changes_req.set_caseworker("cw_a1");
  ASSERT_TRUE(
      stub_->GetChangesSinceLastDialogue(As("JC1", "tl_a").get(), changes_req, &changes).ok());
  EXPECT_EQ(changes.since(), "2099-03-16");
}

// Pipeline inspection: known changes after a day (a new case, a closure, cases moved earlier and
// later, an outcome change, a risk change, a first expectation, a case re-assigned out of the
// team) each land in their cause, name who made them, and the waterfall's steps add up to the
// change in the figure, which equals the team dashboard's figure on either day.
TEST_F(ServiceTest, PipelineInspectionSplitsTheChangeInTheForecastByCause) {
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  // Before the since-day: a case of the team that will be re-assigned.
  w.AddCase("P2", "SDP", "2099-01-20", "cw_a1");
  w.Expect("P2", "2099-01-25", "ORDINARY_JOB", "2099-04", "MEDIUM");
  // After it, by the team leader (the seed's own changes after 03-05 are recorded by the holder:
  // A4 moved later by cw_a2, A6 closed, A9 new, A3 moved earlier with another outcome and risk).
  w.By("tl_a");
  w.AddCase("P1", "JAF", "2099-03-13", "cw_a1");
  w.Expect("P1", "2099-03-13", "EDUCATION", "2099-05", "LOW");
  w.Expect("A8", "2099-03-13", "ORDINARY_JOB", "2099-08", "HIGH");  // outcome only
  w.Expect("A1", "2099-03-13", "ORDINARY_JOB", "2099-01", "HIGH");  // risk only
  w.Expect("A2", "2099-03-14", "SMALL_JOB", "2099-04", "MEDIUM");   // the first one
  w.Reassign("P2", "2099-03-14", "cw_b1");
  w.By("");
  ASSERT_TRUE(engine_->refresher()
                  .RefreshCases(seeded_.jc1, {w.Case("P1"), w.Case("P2"), w.Case("A8"),
                                              w.Case("A1"), w.Case("A2")})
                  .ok());

  auto inspect = [&](const std::string& staff, const std::string& team,
                     const std::string& caseworker, const std::string& since,
                     v1::PipelineInspection* out) {
    v1::PipelineRequest req;
    req.set_team(team);
    req.set_caseworker(caseworker);
    req.set_since(since);
    return stub_->InspectPipeline(As("JC1", staff).get(), req, out);
  };
  // The arithmetic of both waterfalls, and each step against the cases listed under it.
  auto check_sums = [](const v1::PipelineInspection& p) {
    for (const v1::Waterfall* wf : {&p.next_3_months(), &p.next_12_months()}) {
      ASSERT_EQ(wf->steps_size(), 9);
      double sum = 0;
      for (const v1::WaterfallStep& s : wf->steps()) sum += s.closures();
      EXPECT_NEAR(wf->before() + sum, wf->after(), 1e-9) << wf->months();
      for (const v1::WaterfallStep& s : wf->steps()) {
        if (s.cause() == "UNCHANGED") continue;
        double effects = 0;
        int64_t n = 0;
        for (const v1::PipelineCase& c : p.cases()) {
          if (c.cause() != s.cause()) continue;
          effects += wf->months() == 3 ? c.effect_3() : c.effect_12();
          ++n;
        }
        EXPECT_NEAR(effects, s.closures(), 1e-9) << s.cause();
        EXPECT_EQ(n, s.cases()) << s.cause();
      }
    }
  };
  auto find = [](const v1::PipelineInspection& p, const std::string& ref) {
    for (const v1::PipelineCase& c : p.cases())
      if (c.case_ref() == ref) return c;
    ADD_FAILURE() << ref << " not listed";
    return v1::PipelineCase();
  };
  auto change = [](const v1::PipelineCase& c, const std::string& kind) {
    for (const v1::PipelineChange& x : c.changes())
      if (x.kind() == kind) return x;
    ADD_FAILURE() << c.case_ref() << " has no " << kind;
    return v1::PipelineChange();
  };
  auto step = [](const v1::Waterfall& wf, const std::string& cause) {
    for (const v1::WaterfallStep& s : wf.steps())
      if (s.cause() == cause) return s;
    return v1::WaterfallStep();
  };

  v1::PipelineInspection p;
  grpc::Status status = inspect("tl_a", "TA", "", "2099-03-05", &p);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(p.team(), "TA");
  EXPECT_EQ(p.since(), "2099-03-05");
  EXPECT_EQ(p.until(), "2099-03-16");
  EXPECT_EQ(p.since_basis(), "REQUEST");
  EXPECT_EQ(p.model(), v1::CALIBRATED);
  check_sums(p);
  EXPECT_EQ(p.next_3_months().before_first_month(), "2099-03");
  EXPECT_EQ(p.next_3_months().before_last_month(), "2099-05");
  EXPECT_EQ(p.next_12_months().after_last_month(), "2100-02");

  // Today's figure and the since-day's are the team dashboard's of those days.
  v1::TeamDashboard now, then;
  ASSERT_TRUE(TeamDashboard("tl_a", "TA", &now).ok());
  ASSERT_TRUE(TeamDashboard("tl_a", "TA", &then, "2099-03-05").ok());
  EXPECT_NEAR(p.next_3_months().after(), now.totals().closures_next_3_months().expected(), 1e-6);
  EXPECT_NEAR(p.next_3_months().before(), then.totals().closures_next_3_months().expected(), 1e-6);
  // The year's figure is the projection's closures of today's cases over 12 months.
  v1::ProjectRequest project;
  project.mutable_scope()->set_kind(v1::Scope::TEAM);
  project.mutable_scope()->set_code("TA");
  v1::Projection projection;
  ASSERT_TRUE(stub_->Project(As("JC1", "tl_a").get(), project, &projection).ok());
  double year = 0;
  for (const v1::OutcomeMonth& m : projection.closures())
    if (m.outcome() == "ALL") year += m.closures().expected();
  EXPECT_NEAR(p.next_12_months().after(), year, 1e-6);

  // Each known change in its cause, with who made it.
  const v1::PipelineCase p1 = find(p, "P1");
  EXPECT_EQ(p1.cause(), "NEW");
  EXPECT_EQ(change(p1, "NEW").changed_by(), "tl_a");
  EXPECT_EQ(change(p1, "NEW").changed_by_name(), "Staff tl_a");
  EXPECT_EQ(change(p1, "NEW").after(), "JAF");
  EXPECT_EQ(p1.expectation_after().outcome(), "EDUCATION");
  EXPECT_EQ(p1.caseworker_name(), "Staff cw_a1");
  EXPECT_GT(p1.effect_3(), 0);
  EXPECT_EQ(p1.closures_3_before(), 0);
  EXPECT_EQ(find(p, "A9").cause(), "NEW");
  EXPECT_EQ(step(p.next_3_months(), "NEW").cases(), 2);

  const v1::PipelineCase a6 = find(p, "A6");
  EXPECT_EQ(a6.cause(), "CLOSED");
  EXPECT_EQ(a6.closure_outcome(), "ORDINARY_JOB");
  EXPECT_EQ(change(a6, "CLOSED").changed_on(), "2099-03-10");
  EXPECT_EQ(change(a6, "CLOSED").changed_by_name(), "Staff cw_a1");
  EXPECT_LT(a6.effect_3(), 0);
  EXPECT_EQ(a6.effect_3(), -a6.closures_3_before());  // it leaves the figure whole

  const v1::PipelineCase p2 = find(p, "P2");
  EXPECT_EQ(p2.cause(), "REASSIGNED");
  EXPECT_EQ(change(p2, "REASSIGNED").before(), "cw_a1");
  EXPECT_EQ(change(p2, "REASSIGNED").after(), "cw_b1");
  EXPECT_EQ(change(p2, "REASSIGNED").changed_by_name(), "Staff tl_a");
  EXPECT_LT(p2.effect_3(), 0);
  EXPECT_EQ(p2.closures_3_after(), 0);

  const v1::PipelineCase a3 = find(p, "A3");
  EXPECT_EQ(a3.cause(), "MOVED_EARLIER");  // before its outcome and risk changes
  EXPECT_EQ(change(a3, "MOVED_EARLIER").months(), 1);
  EXPECT_EQ(change(a3, "MOVED_EARLIER").before(), "2099-06");
  EXPECT_EQ(change(a3, "MOVED_EARLIER").after(), "2099-05");
  EXPECT_EQ(change(a3, "OUTCOME_CHANGED").after(), "ORDINARY_JOB");
  EXPECT_EQ(change(a3, "RISK_DOWN").before(), "HIGH");

  const v1::PipelineCase a4 = find(p, "A4");
  EXPECT_EQ(a4.cause(), "MOVED_LATER");
  EXPECT_EQ(change(a4, "MOVED_LATER").months(), 2);
  EXPECT_EQ(change(a4, "MOVED_LATER").changed_by_name(), "Staff cw_a2");
  EXPECT_EQ(change(a4, "RISK_UP").after(), "HIGH");
  EXPECT_LT(a4.effect_3(), 0);

  const v1::PipelineCase a8 = find(p, "A8");
  EXPECT_EQ(a8.cause(), "OUTCOME_CHANGED");
  EXPECT_EQ(change(a8, "OUTCOME_CHANGED").before(), "OTHER_BENEFIT");
  EXPECT_EQ(change(a8, "OUTCOME_CHANGED").after(), "ORDINARY_JOB");
  EXPECT_EQ(change(a8, "OUTCOME_CHANGED").changed_by_name(), "Staff tl_a");
  EXPECT_EQ(change(a8, "OUTCOME_CHANGED").changed_on(), "2099-03-13");
  EXPECT_EQ(a8.changes_size(), 1);

  const v1::PipelineCase a1 = find(p, "A1");
  EXPECT_EQ(a1.cause(), "RISK_CHANGED");
  EXPECT_EQ(change(a1, "RISK_UP").before(), "LOW");
  EXPECT_EQ(change(a1, "RISK_UP").after(), "HIGH");
  EXPECT_EQ(a1.changes_size(), 1);

  const v1::PipelineCase a2 = find(p, "A2");
  EXPECT_EQ(a2.cause(), "FIRST_EXPECTATION");
  EXPECT_EQ(a2.expectation_after().month(), "2099-04");
  EXPECT_FALSE(a2.has_expectation_before());
  EXPECT_EQ(p.cases_size(), 9);  // A7 left before the since-day; nothing else changed

  // Across a month: the earlier figure is February's dashboard (February to April), the residual
  // takes what time and the refitted models did to the cases nobody touched.
  ASSERT_TRUE(inspect("tl_a", "TA", "", "2099-02-20", &p).ok());
  check_sums(p);
  ASSERT_TRUE(TeamDashboard("tl_a", "TA", &then, "2099-02-20").ok());
  EXPECT_NEAR(p.next_3_months().before(), then.totals().closures_next_3_months().expected(), 1e-6);
  EXPECT_EQ(p.next_3_months().before_first_month(), "2099-02");
  EXPECT_EQ(p.next_3_months().after_first_month(), "2099-03");

  // A caseworker's own pipeline, since the start of the month by default.
  ASSERT_TRUE(inspect("cw_a1", "", "", "", &p).ok());
  EXPECT_EQ(p.caseworker(), "cw_a1");
  EXPECT_EQ(p.since(), "2099-02-28");
  EXPECT_EQ(p.since_basis(), "MONTH_START");
  check_sums(p);
  EXPECT_EQ(find(p, "P2").cause(), "REASSIGNED");
  for (const v1::PipelineCase& c : p.cases()) EXPECT_NE(c.case_ref(), "A4");  // cw_a2's

  // Bad input names the field; another team's leader is refused.
  EXPECT_EQ(inspect("tl_a", "TA", "", "2099-03-17", &p).error_code(), grpc::INVALID_ARGUMENT);
  status = inspect("tl_a", "TA", "", "2096-01-01", &p);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("since"), std::string::npos);
  EXPECT_EQ(inspect("tl_b", "TA", "", "", &p).error_code(), grpc::PERMISSION_DENIED);
}

// One figure per label: "closures next 3 months" of a team is the same number, from the same
// (calibrated, default) model, on the team dashboard and on the manager's comparison, and every
// answer names its model.
TEST_F(ServiceTest, TheSameLabelGivesTheSameNumberOnEveryPage) {
  v1::TeamDashboard team;
  ASSERT_TRUE(TeamDashboard("mgr", "TA", &team).ok());
  EXPECT_EQ(team.closures_model(), v1::CALIBRATED);
  v1::CompareTeamsRequest compare;  // no model: the default
  v1::TeamComparison comparison;
  ASSERT_TRUE(stub_->CompareTeams(As("JC1", "mgr").get(), compare, &comparison).ok());
  EXPECT_EQ(comparison.model(), v1::CALIBRATED);
  bool found = false;
  for (const v1::TeamProjectionSummary& t : comparison.teams()) {
    if (t.team() != "TA") continue;
    found = true;
    EXPECT_NEAR(t.closures_next_3_months().expected(),
                team.totals().closures_next_3_months().expected(), 1e-9);
    EXPECT_NEAR(t.closures_next_3_months().p10(), team.totals().closures_next_3_months().p10(),
                1e-9);
    EXPECT_NEAR(t.closures_next_3_months().p90(), team.totals().closures_next_3_months().p90(),
                1e-9);
  }
  EXPECT_TRUE(found);
  // The team's projection (default model, the team's inflow) shows the same figure.
  v1::ProjectRequest project;
  project.mutable_scope()->set_kind(v1::Scope::TEAM);
  project.mutable_scope()->set_code("TA");
  v1::Projection projection;
  ASSERT_TRUE(stub_->Project(As("JC1", "mgr").get(), project, &projection).ok());
  EXPECT_EQ(projection.model(), v1::CALIBRATED);
  const v1::Estimate& shown = team.totals().closures_next_3_months();
  EXPECT_NEAR(projection.closures_next_3_months().expected(), shown.expected(), 1e-9);
  EXPECT_EQ(projection.closures_next_3_months().p10(), shown.p10());
  EXPECT_EQ(projection.closures_next_3_months().p90(), shown.p90());
  v1::CaseworkerDashboard cw;
  ASSERT_TRUE(CaseworkerDashboard("cw_a1", "", &cw).ok());
  EXPECT_EQ(cw.closures_model(), v1::CALIBRATED);
  EXPECT_EQ(cw.explanation().method_key(), "calibrated.closures");
  double cw_total = 0;
  for (const v1::OutcomeMonth& m : cw.expected_closures_next_3_months()) {
    if (m.outcome() == "ALL") cw_total += m.closures().expected();
  }
  for (const v1::CaseworkerRow& row : team.rows()) {
    if (row.caseworker() == "cw_a1") {
      EXPECT_NEAR(row.closures_next_3_months().expected(), cw_total, 1e-6);
    }
  }
}

// Issue 11, forecast categories: every model's categories add up to the total in every month and
// in the 3- and 12-month figures; every interval holds its point figure (as shown, rounded to a
// whole case); the cases fall by their recorded risk (TA: A1 and A7 LOW, A3 MEDIUM, A4 and A8
// HIGH, the rest without an expectation).
TEST_F(ServiceTest, ForecastCategoriesAddUpToTheTotal) {
  for (const v1::Model model : {v1::CALIBRATED, v1::AS_PLANNED, v1::BASELINE}) {
    v1::ProjectRequest req;
    req.mutable_scope()->set_kind(v1::Scope::TEAM);
    req.mutable_scope()->set_code("TA");
    req.set_model(model);
    v1::Projection p;
    ASSERT_TRUE(stub_->Project(As("JC1", "tl_a").get(), req, &p).ok());
    SCOPED_TRACE(v1::Model_Name(model));
    ASSERT_EQ(p.categories_size(), 3);
    EXPECT_EQ(p.categories(0).category(), v1::SAFE);
    EXPECT_EQ(p.categories(1).category(), v1::LIKELY);
    EXPECT_EQ(p.categories(2).category(), v1::POSSIBLE);
    EXPECT_EQ(
        std::vector<std::string>(p.categories(0).risks().begin(), p.categories(0).risks().end()),
        std::vector<std::string>{"LOW"});
    EXPECT_EQ(p.categories(1).risks(0), "MEDIUM");
    EXPECT_EQ(p.categories(2).risks(0), "HIGH");
    EXPECT_GT(p.categories(0).open_cases(), 0);  // A7 (A1 too, unless an earlier test closed it)
    EXPECT_GT(p.categories(2).open_cases(), 0);  // A8 and the cases without an expectation
    EXPECT_EQ(
        p.categories(0).open_cases() + p.categories(1).open_cases() + p.categories(2).open_cases(),
        p.open_cases());
    auto holds = [](const v1::Estimate& e, const std::string& what) {
      EXPECT_LE(e.p10(), e.p90()) << what;
      EXPECT_LE(e.p10(), std::round(e.expected())) << what;
      EXPECT_GE(e.p90(), std::round(e.expected())) << what;
    };
    for (int h = 0; h < 12; ++h) {
      double sum = 0;
      for (const v1::CategoryForecast& c : p.categories()) {
        ASSERT_EQ(c.months_size(), 12);
        EXPECT_EQ(c.months(h).month(), p.caseload(h).month());
        sum += c.months(h).closures().expected();
        holds(c.months(h).closures(), absl::StrCat(c.category(), " ", c.months(h).month()));
      }
      for (const v1::OutcomeMonth& m : p.closures()) {
        if (m.month() == p.caseload(h).month() && m.outcome() == "ALL") {
          EXPECT_NEAR(sum, m.closures().expected(), 1e-9) << m.month();
        }
      }
    }
    double three = 0, twelve = 0;
    for (const v1::CategoryForecast& c : p.categories()) {
      three += c.closures_next_3_months().expected();
      twelve += c.closures_next_12_months().expected();
      holds(c.closures_next_3_months(), absl::StrCat(c.category(), " 3 months"));
      holds(c.closures_next_12_months(), absl::StrCat(c.category(), " 12 months"));
    }
    EXPECT_GT(p.closures_next_3_months().expected(), 0);
    EXPECT_NEAR(three, p.closures_next_3_months().expected(), 1e-9);
    EXPECT_NEAR(twelve, p.closures_next_12_months().expected(), 1e-9);
    holds(p.closures_next_3_months(), "total 3 months");
    holds(p.closures_next_12_months(), "total 12 months");
  }
  // A horizon below 12 months has no 12-month figures.
  v1::ProjectRequest req;
  req.mutable_scope()->set_kind(v1::Scope::TEAM);
  req.mutable_scope()->set_code("TA");
  req.set_horizon_months(6);
  v1::Projection p;
  ASSERT_TRUE(stub_->Project(As("JC1", "tl_a").get(), req, &p).ok());
  EXPECT_TRUE(p.has_closures_next_3_months());
  EXPECT_FALSE(p.has_closures_next_12_months());
  EXPECT_FALSE(p.categories(0).has_closures_next_12_months());
  EXPECT_EQ(p.categories(0).months_size(), 6);
}

// The projection by case type, several at once: SDP + JAF is the sum of its parts for today's
// cases, and an unknown type is refused by name.
TEST_F(ServiceTest, AProjectionFiltersByCaseTypes) {
  auto project = [&](std::vector<std::string> types, v1::Projection* out) {
    v1::ProjectRequest req;
    req.mutable_scope()->set_kind(v1::Scope::TEAM);
    req.mutable_scope()->set_code("TA");
    req.set_horizon_months(3);
    for (const auto& t : types) req.add_case_types(t);
    return stub_->Project(As("JC1", "tl_a").get(), req, out);
  };
  v1::Projection all, both, sdp, jaf;
  ASSERT_TRUE(project({}, &all).ok());
  ASSERT_TRUE(project({"SDP", "JAF"}, &both).ok());
  ASSERT_TRUE(project({"SDP"}, &sdp).ok());
  ASSERT_TRUE(project({"JAF"}, &jaf).ok());
  EXPECT_EQ(both.case_types_size(), 2);
  EXPECT_GT(sdp.open_cases(), 0);
  EXPECT_GT(jaf.open_cases(), 0);
  EXPECT_EQ(both.open_cases(), sdp.open_cases() + jaf.open_cases());
  EXPECT_LT(both.open_cases(), all.open_cases());
  auto total = [](const v1::Projection& p) {
    double sum = 0;
    for (const v1::OutcomeMonth& m : p.closures()) {
      if (m.outcome() == "ALL") sum += m.closures().expected();
    }
    return sum;
  };
  EXPECT_NEAR(total(both), total(sdp) + total(jaf), 1e-6);
  v1::Projection none;
  grpc::Status status = project({"SDP", "NOPE"}, &none);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("case_types[1]"), std::string::npos);
}

// Issue 11, trend: every point is the projection as of its day, exactly as Project answers as of
// that day; past months set the projection made on the month's eve against the closures.
TEST_F(ServiceTest, TheTrendIsTheAsOfAnswersAndPastMonthsUseTheActualClosures) {
  v1::TrendRequest req;
  req.mutable_scope()->set_kind(v1::Scope::TEAM);
  req.mutable_scope()->set_code("TA");
  req.set_points(3);
  req.set_horizon_months(3);
  v1::Trend trend;
  grpc::Status status = stub_->GetTrend(As("JC1", "tl_a").get(), req, &trend);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(trend.model(), v1::CALIBRATED);
  EXPECT_EQ(trend.step(), v1::MONTH_END);
  ASSERT_EQ(trend.points_size(), 4);
  const std::vector<std::string> days = {"2098-12-31", "2099-01-31", "2099-02-28", "2099-03-16"};
  const std::vector<std::string> months = {"2098-12", "2099-01", "2099-02",
                                           "2099-03", "2099-04", "2099-05"};
  EXPECT_EQ(std::vector<std::string>(trend.months().begin(), trend.months().end()), months);
  for (int i = 0; i < trend.points_size(); ++i) {
    const v1::TrendPoint& point = trend.points(i);
    EXPECT_EQ(point.as_of(), days[i]);
    // The as-of answer on that day, through the API.
    v1::ProjectRequest project;
    *project.mutable_scope() = req.scope();
    project.set_model(v1::CALIBRATED);
    project.set_horizon_months(point.months_size());
    project.set_as_of(i + 1 == trend.points_size() ? "" : days[i]);
    v1::Projection then;
    ASSERT_TRUE(stub_->Project(As("JC1", "tl_a").get(), project, &then).ok());
    EXPECT_EQ(point.open_cases(), then.open_cases()) << days[i];
    int matched = 0;
    for (const v1::OutcomeMonth& m : then.closures()) {
      if (m.outcome() != "ALL") continue;
      ASSERT_LT(matched, point.months_size()) << days[i];
      const v1::TrendMonth& t = point.months(matched++);
      EXPECT_EQ(t.month(), m.month());
      EXPECT_EQ(t.closures().expected(), m.closures().expected()) << days[i] << " " << t.month();
      EXPECT_EQ(t.closures().p10(), m.closures().p10());
      EXPECT_EQ(t.closures().p90(), m.closures().p90());
    }
    EXPECT_EQ(matched, point.months_size()) << days[i];
    EXPECT_EQ(point.months(point.months_size() - 1).month(), "2099-05");
  }
  // Closures so far in each point's own month: A5 closed 02-20 (seen on 02-28), A6 on 03-10.
  EXPECT_EQ(trend.points(2).months(0).closed_so_far(), 1);
  EXPECT_EQ(trend.points(3).months(0).closed_so_far(), 1);
  EXPECT_EQ(trend.points(0).months(0).closed_so_far(), 0);

  // Past months: January, February (complete) and March so far.
  ASSERT_EQ(trend.past_months_size(), 3);
  const std::vector<int64_t> actual = {0, 1, 1};
  for (int i = 0; i < 3; ++i) {
    const v1::ProjectedVsActual& row = trend.past_months(i);
    EXPECT_EQ(row.month(), months[i + 1]);
    EXPECT_EQ(row.projected_on(), days[i]);
    EXPECT_EQ(row.projected().expected(), trend.points(i).months(1).closures().expected());
    EXPECT_EQ(row.actual(), actual[i]) << row.month();
    EXPECT_EQ(row.complete(), i < 2);
  }

  // A closure today counts in March's actual; what was projected on 02-28 stays as it was.
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  w.Close("A1", "2099-03-16", "ORDINARY_JOB");
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A1")}).ok());
  v1::Trend after;
  ASSERT_TRUE(stub_->GetTrend(As("JC1", "tl_a").get(), req, &after).ok());
  EXPECT_EQ(after.past_months(2).actual(), 2);
  EXPECT_EQ(after.past_months(2).projected().expected(),
            trend.past_months(2).projected().expected());
  EXPECT_EQ(after.points(3).months(0).closed_so_far(), 2);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(after.points(i), trend.points(i))) << i;
  }

  // Weekly points; a case type filter; refusals.
  req.set_step(v1::WEEK);
  req.set_points(2);
  req.add_case_types("SDP");
  v1::Trend weekly;
  ASSERT_TRUE(stub_->GetTrend(As("JC1", "tl_a").get(), req, &weekly).ok());
  ASSERT_EQ(weekly.points_size(), 3);
  EXPECT_EQ(weekly.points(0).as_of(), "2099-03-02");
  EXPECT_EQ(weekly.points(1).as_of(), "2099-03-09");
  EXPECT_EQ(weekly.case_types_size(), 1);
  req.set_points(13);
  EXPECT_EQ(stub_->GetTrend(As("JC1", "tl_a").get(), req, &weekly).error_code(),
            grpc::INVALID_ARGUMENT);
  req.set_points(2);
  req.mutable_scope()->set_code("TB");
  EXPECT_EQ(stub_->GetTrend(As("JC1", "tl_a").get(), req, &weekly).error_code(),
            grpc::PERMISSION_DENIED);
}

// Issue 11, variation: a caseworker whose share differs from the team's only because of the case
// mix is not flagged (the comparison is made within case type), and the drill-down lists exactly
// the cases behind a share.
TEST_F(ServiceTest, VariationComparesWithinCaseTypeAndDrillsDownToTheCases) {
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  // In SDP three in four cases are expected to end in flex job for both caseworkers of TA, in
  // JAF none; cw_a1 holds mostly SDP, cw_a2 mostly JAF.
  std::vector<std::string> flex;
  int next = 0;
  auto add = [&](const std::string& caseworker, const std::string& type, const std::string& outcome,
                 int n) {
    for (int i = 0; i < n; ++i) {
      const std::string ref = absl::StrCat("V", ++next);
      w.AddCase(ref, type, "2099-01-10", caseworker);
      w.Expect(ref, "2099-02-01", outcome, "2099-06", "MEDIUM");
      if (caseworker == "cw_a1" && outcome == "FLEX_JOB") flex.push_back(ref);
    }
  };
  add("cw_a1", "SDP", "FLEX_JOB", 12);
  add("cw_a1", "SDP", "ORDINARY_JOB", 4);
  add("cw_a1", "JAF", "ORDINARY_JOB", 4);
  add("cw_a2", "SDP", "FLEX_JOB", 3);
  add("cw_a2", "SDP", "ORDINARY_JOB", 1);
  add("cw_a2", "JAF", "ORDINARY_JOB", 16);

  v1::VariationRequest vreq;
  vreq.set_team("TA");
  v1::Variation variation;
  ASSERT_TRUE(stub_->GetVariation(As("JC1", "tl_a").get(), vreq, &variation).ok());
  const v1::OutcomeShare* a1 = nullptr;
  for (const v1::OutcomeShare& s : variation.shares()) {
    if (s.outcome() != "FLEX_JOB") continue;
    if (s.caseworker() == "cw_a1") a1 = &s;
    // The raw shares differ (12 of 23 against 3 of 21), the mix explains it.
    EXPECT_TRUE(s.flagged_without_case_type()) << s.caseworker();
    EXPECT_FALSE(s.flagged()) << s.caseworker();
  }
  ASSERT_NE(a1, nullptr);
  // cw_a1: SDP A1, A3 and 16 new (12 flex), JAF 4, KHA A8: n = 23. The team's SDP cases: 22, 15
  // of them flex.
  EXPECT_EQ(a1->n(), 23);
  EXPECT_EQ(a1->count(), 12);
  EXPECT_NEAR(a1->expected_share(), 18.0 * 15.0 / 22.0 / 23.0, 1e-9);
  EXPECT_NEAR(a1->team_share(), 15.0 / 44.0, 1e-9);

  // The drill-down: exactly the 12 cases behind the share, with goal, horizon and risk.
  v1::VariationCasesRequest creq;
  creq.set_caseworker("cw_a1");
  creq.set_outcome("FLEX_JOB");
  v1::VariationCases cases;
  grpc::Status status = stub_->GetVariationCases(As("JC1", "tl_a").get(), creq, &cases);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cases.team(), "TA");
  EXPECT_EQ(cases.n(), a1->n());
  ASSERT_EQ(cases.cases_size(), a1->count());
  std::vector<std::string> refs;
  for (const v1::VariationCase& c : cases.cases()) {
    refs.push_back(c.case_ref());
    EXPECT_EQ(c.case_type(), "SDP");
    EXPECT_EQ(c.expected_outcome(), "FLEX_JOB");
    EXPECT_EQ(c.expected_month(), "2099-06");
    EXPECT_EQ(c.risk(), "MEDIUM");
    EXPECT_FALSE(c.horizon_passed());
  }
  std::sort(refs.begin(), refs.end());
  std::sort(flex.begin(), flex.end());
  EXPECT_EQ(refs, flex);
  creq.clear_outcome();
  ASSERT_TRUE(stub_->GetVariationCases(As("JC1", "tl_a").get(), creq, &cases).ok());
  EXPECT_EQ(cases.cases_size(), 23);
  // The caseworker sees the own cases, not a colleague's; another team's leader neither.
  EXPECT_TRUE(stub_->GetVariationCases(As("JC1", "cw_a1").get(), creq, &cases).ok());
  EXPECT_EQ(stub_->GetVariationCases(As("JC1", "cw_a2").get(), creq, &cases).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->GetVariationCases(As("JC1", "tl_b").get(), creq, &cases).error_code(),
            grpc::PERMISSION_DENIED);
  creq.set_outcome("NOPE");
  EXPECT_EQ(stub_->GetVariationCases(As("JC1", "tl_a").get(), creq, &cases).error_code(),
            grpc::NOT_FOUND);
}

// Issue 8, the access log: a dialogue's answer names the cases discussed and agreed (agreements
// may come from others), so every dialogue RPC records them in case_read, like the agenda.
TEST_F(ServiceTest, DialogueAnswersAreRecordedInTheCaseReadLog) {
  const auto reads = [&](const std::string& call) {
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    return tx
        .exec1(
            "SELECT count(*) FROM case_read r JOIN cases c ON c.id = r.case_id "
            "JOIN staff s ON s.id = r.staff_id WHERE c.case_ref = 'A2' AND s.code = 'tl_a' "
            "AND r.call = " +
            tx.quote("/forecast.v1.ForecastService/" + call))[0]
        .as<int64_t>();
  };
  v1::OpenDialogueRequest open;
  open.set_caseworker("cw_a1");
  v1::Dialogue draft;
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open, &draft).ok());
  EXPECT_EQ(reads("OpenDialogue"), 0);  // nothing about A2 in an empty draft
  v1::SaveDialogueNotesRequest save;
  save.set_id(draft.id());
  save.set_base_version(0);
  save.add_case_refs("A2");
  save.mutable_notes()->set_status("A2 is close to a job.");
  save.set_idempotency_key("read-log-1");
  v1::Dialogue saved;
  ASSERT_TRUE(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), save, &saved).ok());
  EXPECT_EQ(reads("SaveDialogueNotes"), 1);
  v1::Dialogue again;
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open, &again).ok());
  ASSERT_EQ(again.case_refs_size(), 1);
  EXPECT_EQ(reads("OpenDialogue"), 1);
  v1::FinaliseDialogueRequest finalise;
  finalise.set_id(draft.id());
  finalise.set_base_version(saved.version());
  v1::Dialogue final_d;
  ASSERT_TRUE(stub_->FinaliseDialogue(As("JC1", "tl_a").get(), finalise, &final_d).ok());
  EXPECT_EQ(reads("FinaliseDialogue"), 1);
  v1::RecordDialogueRequest record;
  record.set_caseworker("cw_a1");
  record.set_held_on("2099-03-16");
  record.add_case_refs("A2");
  v1::Dialogue recorded;
  ASSERT_TRUE(stub_->RecordDialogue(As("JC1", "tl_a").get(), record, &recorded).ok());
  EXPECT_EQ(reads("RecordDialogue"), 1);
}

// A milestone on a field the job centre has not configured says so instead of counting 0.
TEST_F(ServiceTest, AMilestoneOnAMissingFieldSaysSo) {
  {
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO milestone_metric (job_centre_id, code, label_da, label_en, kind, field_code, "
        "sort_order) VALUES ($1, 'has_plan', 'Har Min Plan', 'Has a plan', 'FIELD_SET', "
        "'has_plan', 8)",
        seeded_.jc1);
    tx.commit();
  }
  ASSERT_TRUE(engine_->refresher().RefreshNow(seeded_.jc1).ok());
  v1::MilestonesRequest req;
  req.set_team("TA");
  v1::Milestones m;
  ASSERT_TRUE(stub_->GetMilestones(As("JC1", "tl_a").get(), req, &m).ok());
  int missing = 0, configured = 0;
  for (const v1::MilestoneRow& row : m.rows()) {
    if (row.metric() == "has_plan") {
      EXPECT_TRUE(row.field_missing());
      ++missing;
    }
    if (row.metric() == "has_cv" || row.metric() == "closures") {
      EXPECT_FALSE(row.field_missing()) << row.metric();
      ++configured;
    }
  }
  EXPECT_GT(missing, 0);
  EXPECT_GT(configured, 0);
}

// Issue 11: while the dialogue is a draft a case can be taken off its discussed and agreed lists
// (a save with remove_case_refs, a new version); an agreement made afterwards counts again. A
// finalised dialogue takes neither removals nor agreements.
TEST_F(ServiceTest, ACaseIsTakenOffADraftDialoguesListsAndAFinalDialogueTakesNoAgreement) {
  v1::OpenDialogueRequest open;
  open.set_caseworker("cw_a1");
  v1::Dialogue draft;
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open, &draft).ok());
  RecordExpectation("tl_a", "A1", "ORDINARY_JOB", "2099-04", draft.id());
  RecordExpectation("tl_a", "A2", "ORDINARY_JOB", "2099-05", draft.id());
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A1"), w.Case("A2")}).ok());
  v1::SaveDialogueNotesRequest save;
  save.set_id(draft.id());
  save.set_base_version(0);
  save.add_case_refs("A1");
  save.add_case_refs("A3");
  save.mutable_notes()->set_status("Three cases.");
  save.set_idempotency_key("rm-1");
  v1::Dialogue saved;
  ASSERT_TRUE(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), save, &saved).ok());
  auto sorted = [](const google::protobuf::RepeatedPtrField<std::string>& refs) {
    std::vector<std::string> out(refs.begin(), refs.end());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(sorted(saved.case_refs()), (std::vector<std::string>{"A1", "A3"}));
  EXPECT_EQ(saved.agreed_case_refs_size(), 2);

  // Take A1 off (discussed and agreed) and A2 off (agreed only).
  v1::SaveDialogueNotesRequest remove;
  remove.set_id(draft.id());
  remove.set_base_version(1);
  *remove.mutable_notes() = save.notes();
  remove.add_remove_case_refs("A1");
  remove.add_remove_case_refs("A2");
  remove.set_idempotency_key("rm-2");
  v1::Dialogue removed;
  grpc::Status status = stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), remove, &removed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(removed.version(), 2);
  EXPECT_EQ(std::vector<std::string>(removed.case_refs().begin(), removed.case_refs().end()),
            (std::vector<std::string>{"A3"}));
  EXPECT_EQ(removed.agreed_case_refs_size(), 0);
  // The same from a fresh read of the centre, and the case's history keeps the expectation.
  {
    auto loaded = store_->Load(seeded_.jc1);
    ASSERT_TRUE(loaded.ok());
    for (const DialogueRecord& d : (*loaded)->dialogues) {
      if (d.id != draft.id()) continue;
      EXPECT_EQ(d.case_ids, std::vector<int64_t>{w.Case("A3")});
      EXPECT_TRUE(AgreedCaseRefs(**loaded, d).empty());
    }
    const CaseTimeline* a1 = (*loaded)->CaseByRef("A1");
    ASSERT_NE(a1, nullptr);
    EXPECT_TRUE(
        std::any_of(a1->expectations.begin(), a1->expectations.end(),
                    [&](const ExpectationEvent& e) { return e.dialogue_id == draft.id(); }));
  }
  // Not on the lists: refused, naming the entry.
  remove.set_base_version(2);
  remove.set_idempotency_key("rm-3");
  status = stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), remove, &removed);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("remove_case_refs[0]"), std::string::npos);

  // Agreed again after the removal: it counts again; named again: discussed again.
  RecordExpectation("tl_a", "A1", "EDUCATION", "2099-06", draft.id());
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A1")}).ok());
  save.set_base_version(2);
  save.clear_case_refs();
  save.add_case_refs("A1");
  save.set_idempotency_key("rm-4");
  ASSERT_TRUE(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), save, &saved).ok());
  EXPECT_EQ(sorted(saved.case_refs()), (std::vector<std::string>{"A1", "A3"}));
  EXPECT_EQ(
      std::vector<std::string>(saved.agreed_case_refs().begin(), saved.agreed_case_refs().end()),
      std::vector<std::string>{"A1"});

  // Finalised: no removal (FAILED_PRECONDITION DIALOGUE_FINAL), no agreement.
  v1::FinaliseDialogueRequest fin;
  fin.set_id(draft.id());
  fin.set_base_version(3);
  v1::Dialogue final_d;
  ASSERT_TRUE(stub_->FinaliseDialogue(As("JC1", "tl_a").get(), fin, &final_d).ok());
  remove.clear_remove_case_refs();
  remove.add_remove_case_refs("A3");
  remove.set_base_version(3);
  remove.set_idempotency_key("rm-5");
  status = stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), remove, &removed);
  EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION);
  auto caller = ResolveCaller("JC1", "tl_a", *directory_);
  ASSERT_TRUE(caller.ok());
  v1::GetCaseRequest get;
  get.set_case_ref("A3");
  auto c = keeper_->GetCase(*caller, get);
  ASSERT_TRUE(c.ok());
  v1::RecordExpectationRequest rec;
  rec.set_case_ref("A3");
  rec.set_base_version(c->version());
  rec.set_expected_outcome("ORDINARY_JOB");
  rec.set_expected_month("2099-05");
  rec.set_risk("LOW");
  rec.set_agreed_in_dialogue(true);
  rec.set_dialogue_id(draft.id());
  auto refused = keeper_->RecordExpectation(*caller, rec);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DetailOf(refused.status()).reason, "DIALOGUE_FINAL");
}

// The dialogue in the order of a real meeting: opened (a draft), agreements on cases, notes
// written, corrected (a new version with its own key; the first kept), finalised (locked). The
// next dialogue opens with what became of the agreements.
TEST_F(ServiceTest, DialogueDraftVersionsFinaliseAndFollowUp) {
  v1::OpenDialogueRequest open;
  open.set_caseworker("cw_a1");
  v1::Dialogue draft;
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open, &draft).ok());
  EXPECT_EQ(draft.state(), "DRAFT");
  EXPECT_EQ(draft.version(), 0);
  EXPECT_EQ(draft.held_on(), "2099-03-16");
  EXPECT_EQ(draft.caseworker(), "cw_a1");
  v1::Dialogue same;
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open, &same).ok());
  EXPECT_EQ(same.id(), draft.id());  // one draft per caseworker

  // Agreements first, while the draft is open: an expectation and an action on A2.
  RecordExpectation("tl_a", "A2", "ORDINARY_JOB", "2099-04", draft.id());
  {
    auto caller = ResolveCaller("JC1", "tl_a", *directory_);
    ASSERT_TRUE(caller.ok());
    v1::GetCaseRequest get;
    get.set_case_ref("A2");
    auto c = keeper_->GetCase(*caller, get);
    ASSERT_TRUE(c.ok());
    v1::AddActionRequest action;
    action.set_case_ref("A2");
    action.set_base_version(c->version());
    action.set_description("Call the employer about hours");
    action.set_due_on("2099-03-25");
    action.set_agreed_in_dialogue(true);
    ASSERT_TRUE(keeper_->AddAction(*caller, action).ok());
  }
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A2")}).ok());

  // Notes, then a correction: each save a new version with its own key.
  v1::SaveDialogueNotesRequest save;
  save.set_id(draft.id());
  save.set_base_version(0);
  save.add_case_refs("A2");
  save.mutable_notes()->set_status("A2 is clsoe to a job.");
  save.set_idempotency_key("save-1");
  v1::Dialogue v1d;
  ASSERT_TRUE(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), save, &v1d).ok());
  EXPECT_EQ(v1d.version(), 1);
  EXPECT_EQ(v1d.agreed_case_refs_size(), 1);
  v1::Dialogue replay;  // a retry of the same save stores nothing
  ASSERT_TRUE(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), save, &replay).ok());
  EXPECT_EQ(replay.version(), 1);
  EXPECT_EQ(replay.versions_size(), 1);
  v1::SaveDialogueNotesRequest fix = save;
  fix.set_base_version(1);
  fix.mutable_notes()->set_status("A2 is close to a job.");
  fix.mutable_notes()->set_adjustment("Follow up on A2 in April.");
  fix.set_idempotency_key("save-2");
  v1::Dialogue v2d;
  ASSERT_TRUE(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), fix, &v2d).ok());
  EXPECT_EQ(v2d.version(), 2);
  EXPECT_EQ(v2d.notes().status(), "A2 is close to a job.");
  ASSERT_EQ(v2d.versions_size(), 2);
  EXPECT_EQ(v2d.versions(0).notes().status(), "A2 is clsoe to a job.");  // history kept
  EXPECT_EQ(v2d.versions(1).recorded_by(), "tl_a");
  ASSERT_EQ(v2d.case_refs_size(), 1);
  EXPECT_EQ(v2d.case_refs(0), "A2");

  // Concurrent edits from the same base: one wins, the other is ABORTED, nothing is overwritten.
  grpc::Status first, second;
  v1::Dialogue out1, out2;
  v1::SaveDialogueNotesRequest edit1 = fix, edit2 = fix;
  edit1.set_base_version(2);
  edit1.set_idempotency_key("race-1");
  edit1.mutable_notes()->set_learning("one");
  edit2.set_base_version(2);
  edit2.set_idempotency_key("race-2");
  edit2.mutable_notes()->set_learning("two");
  std::thread t1([&] { first = stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), edit1, &out1); });
  std::thread t2([&] { second = stub_->SaveDialogueNotes(As("JC1", "mgr").get(), edit2, &out2); });
  t1.join();
  t2.join();
  EXPECT_NE(first.ok(), second.ok());
  EXPECT_EQ((first.ok() ? second : first).error_code(), grpc::ABORTED);
  const v1::Dialogue& won = first.ok() ? out1 : out2;
  EXPECT_EQ(won.version(), 3);
  EXPECT_EQ(won.versions_size(), 3);

  // Bad input names the field.
  v1::SaveDialogueNotesRequest bad = fix;
  bad.set_base_version(3);
  bad.set_idempotency_key("");
  v1::Dialogue none;
  grpc::Status status = stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), bad, &none);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("idempotency_key"), std::string::npos);
  bad.set_idempotency_key("bad-1");
  bad.mutable_notes()->set_knowledge("CPR 010203-1234");
  status = stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), bad, &none);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("notes.knowledge"), std::string::npos);

  // Finalise: locked with a timestamp; a retry is fine; no edit afterwards.
  v1::FinaliseDialogueRequest finalise;
  finalise.set_id(draft.id());
  finalise.set_base_version(2);
  EXPECT_EQ(stub_->FinaliseDialogue(As("JC1", "tl_a").get(), finalise, &none).error_code(),
            grpc::ABORTED);  // stale: version 3 is the current one
  finalise.set_base_version(3);
  v1::Dialogue final_d;
  ASSERT_TRUE(stub_->FinaliseDialogue(As("JC1", "tl_a").get(), finalise, &final_d).ok());
  EXPECT_EQ(final_d.state(), "FINAL");
  EXPECT_FALSE(final_d.finalised_at().empty());
  EXPECT_EQ(final_d.finalised_by(), "tl_a");
  ASSERT_TRUE(stub_->FinaliseDialogue(As("JC1", "tl_a").get(), finalise, &none).ok());
  bad = fix;
  bad.set_base_version(3);
  bad.set_idempotency_key("after-final");
  EXPECT_EQ(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), bad, &none).error_code(),
            grpc::FAILED_PRECONDITION);

  // The caseworker reads their own dialogues, not the team's or a colleague's.
  v1::ListDialoguesRequest mine;
  v1::ListDialoguesResponse list;
  ASSERT_TRUE(stub_->ListDialogues(As("JC1", "cw_a1").get(), mine, &list).ok());
  ASSERT_EQ(list.dialogues_size(), 1);
  EXPECT_EQ(list.dialogues(0).state(), "FINAL");
  EXPECT_EQ(list.dialogues(0).versions_size(), 3);
  v1::ListDialoguesRequest team;
  team.set_team("TA");
  EXPECT_EQ(stub_->ListDialogues(As("JC1", "cw_a1").get(), team, &list).error_code(),
            grpc::PERMISSION_DENIED);
  v1::ListDialoguesRequest colleague;
  colleague.set_caseworker("cw_a1");
  EXPECT_EQ(stub_->ListDialogues(As("JC1", "cw_a2").get(), colleague, &list).error_code(),
            grpc::PERMISSION_DENIED);

  // A new dialogue opens with the agreements of the last one and what became of them.
  v1::DialogueAgendaRequest agenda_req;
  agenda_req.set_caseworker("cw_a1");
  v1::DialogueAgenda agenda;
  ASSERT_TRUE(stub_->GetDialogueAgenda(As("JC1", "tl_a").get(), agenda_req, &agenda).ok());
  EXPECT_EQ(agenda.last_dialogue_on(), "2099-03-16");
  EXPECT_EQ(agenda.previous_dialogue_id(), draft.id());
  ASSERT_EQ(agenda.previous_agreements_size(), 1);
  EXPECT_EQ(agenda.previous_agreements(0).case_ref(), "A2");
  EXPECT_EQ(agenda.previous_agreements(0).agreed_outcome(), "ORDINARY_JOB");
  EXPECT_EQ(agenda.previous_agreements(0).action(), "OPEN");
  EXPECT_EQ(agenda.previous_agreements(0).expectation(), "PENDING");
  {
    auto caller = ResolveCaller("JC1", "cw_a1", *directory_);
    ASSERT_TRUE(caller.ok());
    v1::GetCaseRequest get;
    get.set_case_ref("A2");
    auto c = keeper_->GetCase(*caller, get);
    ASSERT_TRUE(c.ok());
    ASSERT_FALSE(c->open_actions().empty());
    v1::FollowUpActionRequest done;
    done.set_case_ref("A2");
    done.set_base_version(c->version());
    done.set_action_id(c->open_actions(c->open_actions_size() - 1).id());
    done.set_result(v1::FOLLOW_UP_DONE);
    ASSERT_TRUE(keeper_->FollowUpAction(*caller, done).ok());
    auto c2 = keeper_->GetCase(*caller, get);
    ASSERT_TRUE(c2.ok());
    v1::CloseCaseRequest close;
    close.set_case_ref("A2");
    close.set_base_version(c2->version());
    close.set_outcome("ORDINARY_JOB");
    close.set_closed_on("2099-03-16");
    auto closed = keeper_->CloseCase(*caller, close);
    ASSERT_TRUE(closed.ok()) << closed.status();
  }
  ASSERT_TRUE(engine_->refresher().RefreshCases(seeded_.jc1, {w.Case("A2")}).ok());
  ASSERT_TRUE(stub_->GetDialogueAgenda(As("JC1", "tl_a").get(), agenda_req, &agenda).ok());
  ASSERT_EQ(agenda.previous_agreements_size(), 1);
  EXPECT_EQ(agenda.previous_agreements(0).action(), "DONE");
  EXPECT_EQ(agenda.previous_agreements(0).expectation(), "HELD");
  EXPECT_EQ(agenda.previous_agreements(0).current_month(), "2099-03");

  // A key used for one dialogue is refused for another.
  v1::OpenDialogueRequest open2;
  open2.set_caseworker("cw_a2");
  v1::Dialogue draft2;
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open2, &draft2).ok());
  EXPECT_NE(draft2.id(), draft.id());
  v1::SaveDialogueNotesRequest reuse;
  reuse.set_id(draft2.id());
  reuse.set_idempotency_key("save-1");
  EXPECT_EQ(stub_->SaveDialogueNotes(As("JC1", "tl_a").get(), reuse, &none).error_code(),
            grpc::ALREADY_EXISTS);
}

// Every new dialogue RPC refuses the wrong role, another team and another job centre.
TEST_F(ServiceTest, DialogueWritesAreRefusedOutsideTheTeam) {
  v1::OpenDialogueRequest open;
  open.set_caseworker("cw_a1");
  v1::Dialogue draft, none;
  // Wrong role, another team's leader, another job centre (the codes do not exist there).
  EXPECT_EQ(stub_->OpenDialogue(As("JC1", "cw_a1").get(), open, &none).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->OpenDialogue(As("JC1", "tl_b").get(), open, &none).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->OpenDialogue(As("JC2", "tl_x").get(), open, &none).error_code(),
            grpc::NOT_FOUND);
  ASSERT_TRUE(stub_->OpenDialogue(As("JC1", "tl_a").get(), open, &draft).ok());

  v1::SaveDialogueNotesRequest save;
  save.set_id(draft.id());
  save.set_idempotency_key("k");
  save.mutable_notes()->set_status("x");
  EXPECT_EQ(stub_->SaveDialogueNotes(As("JC1", "cw_a1").get(), save, &none).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->SaveDialogueNotes(As("JC1", "tl_b").get(), save, &none).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->SaveDialogueNotes(As("JC2", "tl_x").get(), save, &none).error_code(),
            grpc::NOT_FOUND);
  v1::FinaliseDialogueRequest finalise;
  finalise.set_id(draft.id());
  EXPECT_EQ(stub_->FinaliseDialogue(As("JC1", "cw_a1").get(), finalise, &none).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->FinaliseDialogue(As("JC1", "tl_b").get(), finalise, &none).error_code(),
            grpc::PERMISSION_DENIED);
  EXPECT_EQ(stub_->FinaliseDialogue(As("JC2", "tl_x").get(), finalise, &none).error_code(),
            grpc::NOT_FOUND);
  // Nothing of the refused calls was stored.
  v1::ListDialoguesRequest list_req;
  list_req.set_caseworker("cw_a1");
  v1::ListDialoguesResponse list;
  ASSERT_TRUE(stub_->ListDialogues(As("JC1", "tl_a").get(), list_req, &list).ok());
  ASSERT_EQ(list.dialogues_size(), 1);
  EXPECT_EQ(list.dialogues(0).state(), "DRAFT");
  EXPECT_EQ(list.dialogues(0).version(), 0);
  // Another job centre's leader cannot list them either.
  EXPECT_EQ(stub_->ListDialogues(As("JC2", "tl_x").get(), list_req, &list).error_code(),
            grpc::NOT_FOUND);
  // A manager may finalise.
  ASSERT_TRUE(stub_->FinaliseDialogue(As("JC1", "mgr").get(), finalise, &none).ok());
}

TEST_F(ServiceTest, ANewJobCentreWithoutCasesHasEmptyFigures) {
  {
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    const int64_t id =
        tx.exec_params1("INSERT INTO job_centre (code, name) VALUES ('JC3', 'New') RETURNING id")[0]
            .as<int64_t>();
    tx.exec_params("SELECT seed_default_catalogue($1)", id);
    tx.exec_params(
        "INSERT INTO org_unit (job_centre_id, code, name, kind) VALUES ($1, 'T1', 'T1', 'TEAM')",
        id);
    tx.exec_params(
        "INSERT INTO staff (job_centre_id, code, role, team_id) "
        "SELECT $1::bigint, 'boss', 'MANAGER', NULL::bigint UNION ALL "
        "SELECT $1::bigint, 'lead', 'TEAM_LEADER', id FROM org_unit WHERE job_centre_id = $1::bigint",
        id);
    tx.commit();
  }
  v1::TeamDashboard team;
  ASSERT_TRUE(TeamDashboard("lead", "T1", &team, "", "JC3").ok());
  EXPECT_EQ(team.rows_size(), 0);
  EXPECT_EQ(team.totals().open_cases(), 0);
  v1::ProjectRequest p;
  p.mutable_scope()->set_kind(v1::Scope::JOB_CENTRE);
  v1::Projection projection;
  ASSERT_TRUE(stub_->Project(As("JC3", "boss").get(), p, &projection).ok());
  EXPECT_EQ(projection.open_cases(), 0);
  v1::MilestonesRequest m;
  m.set_team("T1");
  v1::Milestones milestones;
  ASSERT_TRUE(stub_->GetMilestones(As("JC3", "lead").get(), m, &milestones).ok());
  EXPECT_EQ(milestones.rows_size(), 7 * 6);
}

TEST_F(ServiceTest, BadInputIsRefusedWithTheFieldNamed) {
  v1::TeamDashboard team;
  grpc::Status s = TeamDashboard("mgr", "TA", &team, "2099-13-01");
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("as_of"), std::string::npos);
  s = TeamDashboard("mgr", "TA", &team, "2099-03-17");
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("future"), std::string::npos);
  EXPECT_EQ(TeamDashboard("mgr", "NOPE", &team).error_code(), grpc::NOT_FOUND);
  v1::ProjectRequest p;
  p.mutable_scope()->set_kind(v1::Scope::TEAM);
  p.mutable_scope()->set_code("TA");
  p.set_horizon_months(99);
  v1::Projection projection;
  s = stub_->Project(As("JC1", "mgr").get(), p, &projection);
  EXPECT_EQ(s.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("horizon_months"), std::string::npos);
  v1::AccuracyRequest a;
  a.set_lookback_months(-1);
  v1::Accuracy accuracy;
  EXPECT_EQ(stub_->GetAccuracy(As("JC1", "mgr").get(), a, &accuracy).error_code(),
            grpc::INVALID_ARGUMENT);
  a.set_lookback_months(6);
  ASSERT_TRUE(stub_->GetAccuracy(As("JC1", "mgr").get(), a, &accuracy).ok());
  EXPECT_EQ(accuracy.models_size(), 3);
}

// A catalogue change (here: what a LOW risk is worth) reaches the projection at once, without
// waiting for the next change to a case (migration 0004 announces reference-data changes).
TEST_F(ServiceTest, ACatalogueChangeShowsInTheProjectionWithoutACaseChange) {
  v1::ProjectRequest p;
  p.mutable_scope()->set_kind(v1::Scope::TEAM);
  p.mutable_scope()->set_code("TA");
  p.set_model(v1::AS_PLANNED);
  p.set_horizon_months(6);
  auto expected_total = [&](double* out) {
    v1::Projection projection;
    grpc::Status s = stub_->Project(As("JC1", "mgr").get(), p, &projection);
    ASSERT_TRUE(s.ok()) << s.error_message();
    double total = 0;
    for (const auto& m : projection.closures()) {
      if (m.outcome() == "ALL") total += m.closures().expected();
    }
    *out = total;
  };
  double before = 0;
  expected_total(&before);
  {
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    tx.exec0("UPDATE catalogue_entry SET probability = 0.05 WHERE kind = 'RISK' AND code = 'LOW'");
    tx.commit();
  }
  double after = before;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (after == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    expected_total(&after);
  }
  EXPECT_NE(after, before) << "the projection did not see the catalogue change within 2 s";
}

// A mark as the change listener takes it (see ChangeListener): the highest case event id and
// the oldest unfinished transaction of a snapshot.
ChangeMark MarkNow(const std::string& conninfo) {
  pqxx::connection conn(conninfo);
  pqxx::nontransaction tx(conn);
  pqxx::row row = tx.exec1(
      "SELECT (SELECT coalesce(max(id), 0) FROM case_event), "
      "pg_snapshot_xmin(pg_current_snapshot())::text::bigint");
  return ChangeMark{row[0].as<int64_t>(), row[1].as<int64_t>()};
}

TEST_F(ServiceTest, ACutOffServiceCatchesUpByEventIdIncludingWritesThatWereInFlight) {
  v1::TeamDashboard before;
  ASSERT_TRUE(TeamDashboard("tl_a", "TA", &before).ok());
  EXPECT_EQ(before.totals().no_expectation(), 2);  // A2, A9
  listener_.reset();  // cut off: no notification reaches the engine from now on
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  const int64_t a9 = w.Case("A9");
  // A9's expectation takes its event id first but commits last: in flight when the mark is taken.
  pqxx::connection slow_conn(db_->conninfo());
  pqxx::work slow(slow_conn);
  const int64_t e = slow.exec_params1(
                            "INSERT INTO expectation (job_centre_id, case_id, expected_outcome, "
                            "expected_month, risk, agreed_in_dialogue, recorded_by, recorded_at) "
                            "SELECT $1, id, 'ORDINARY_JOB', DATE '2099-06-01', 'LOW', false, "
                            "caseworker_id, '2099-03-16 12:00:00+00' FROM cases WHERE id = $2 "
                            "RETURNING id",
                            seeded_.jc1, a9)[0]
                        .as<int64_t>();
  const int64_t version =
      slow.exec_params1(
              "UPDATE cases SET version = version + 1, current_expectation_id = $2 WHERE id = $1 "
              "RETURNING version",
              a9, e)[0]
          .as<int64_t>();
  const int64_t slow_event =
      slow.exec_params1(
              "INSERT INTO case_event (job_centre_id, case_id, case_version, kind, actor_id, "
              "effective_on) SELECT $1, id, $3, 'EXPECTATION', caseworker_id, DATE '2099-03-16' "
              "FROM cases WHERE id = $2 RETURNING id",
              seeded_.jc1, a9, version)[0]
          .as<int64_t>();
  w.Expect("A2", "2099-03-16", "ORDINARY_JOB", "2099-06", "LOW");  // a later id, committed
  const ChangeMark mark = MarkNow(db_->conninfo());
  EXPECT_GT(mark.event_id, slow_event);  // the in-flight write's id is below the mark
  slow.commit();

  // Exactly the two changed cases: A2 by its event id, A9 by its transaction.
  auto missed = store_->CasesChangedAfter(seeded_.jc1, mark);
  ASSERT_TRUE(missed.ok()) << missed.status();
  std::vector<int64_t> got = missed->case_ids;
  std::sort(got.begin(), got.end());
  std::vector<int64_t> want = {w.Case("A2"), a9};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  // A mark taken now finds nothing: every write is at or below it and finished.
  auto none = store_->CasesChangedAfter(seeded_.jc1, MarkNow(db_->conninfo()));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->case_ids.empty());

  EXPECT_EQ(engine_->refresher().CatchUp(mark), 2);
  v1::TeamDashboard after;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(TeamDashboard("tl_a", "TA", &after).ok());
  } while (after.totals().no_expectation() != 0 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.totals().no_expectation(), 0);
  EXPECT_EQ(after.totals().open_cases(), before.totals().open_cases());
}

TEST_F(ServiceTest, TheListenerCatchesUpOnWhatWasCommittedWhileItsConnectionWasLost) {
  v1::TeamDashboard before;
  ASSERT_TRUE(TeamDashboard("tl_a", "TA", &before).ok());
  EXPECT_EQ(before.totals().no_expectation(), 2);
  // The listener takes a mark every second; one counts once a later one was taken.
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
  w.Expect("A2", "2099-03-16", "ORDINARY_JOB", "2099-06", "LOW");
  {
    // The listening connection is lost (as in a failover).
    pqxx::connection conn(db_->conninfo());
    pqxx::nontransaction tx(conn);
    const pqxx::result killed = tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND (query LIKE 'LISTEN%' OR query LIKE '%pg_snapshot_xmin%')");
    ASSERT_EQ(killed.size(), 1u);
  }
  w.Expect("A9", "2099-03-16", "ORDINARY_JOB", "2099-06", "LOW");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  v1::TeamDashboard after;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(TeamDashboard("tl_a", "TA", &after).ok());
  } while ((after.totals().no_expectation() != 0 || listener_->reconnects() == 0) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(after.totals().no_expectation(), 0);
  EXPECT_EQ(listener_->reconnects(), 1);
  // A2's write was committed after the last counted mark: caught up by event id (it may also
  // have been notified; either way the catch-up does not trust that).
  EXPECT_GE(listener_->caught_up_cases(), 1);
}

}  // namespace
}  // namespace forecast::fsvc
