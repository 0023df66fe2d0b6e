// The forecast service's plain classes on the hand-built job centre of seed_centre.h, read from
// a real PostgreSQL by the service's own storage: snapshots as of a day, dashboards, the ranked
// agenda, change detection and milestone figures, each checked against values computed by hand.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/common/calendar.h"
#include "services/common/pg_pool.h"
#include "services/forecast/attention.h"
#include "services/forecast/centre_view.h"
#include "services/forecast/dashboards.h"
#include "services/forecast/dialogues.h"
#include "services/forecast/history_store.h"
#include "services/forecast/milestones.h"
#include "services/forecast/projections.h"
#include "tests/forecast_service/seed_centre.h"
#include "tests/support/test_database.h"

namespace forecast::fsvc {
namespace {

const Day kToday(2099, 3, 16);

class LogicTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto db = forecast::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = db->release();
    seeded_ = forecast::testing::SeedCentres(db_->conninfo());
    pool_ = new PgPool(db_->conninfo_as(forecast::testing::kForecastServiceRole), 2);
    store_ = new PgHistoryStore(*pool_);
    // Targets of team TA (recorded by the database clock, long before 2099: in force).
    forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
    auto add = [&](const char* metric, Month month, double target, int64_t caseworker) {
      NewMilestoneTarget t;
      t.centre_id = seeded_.jc1;
      t.team_id = w.Unit("TA");
      t.caseworker_id = caseworker;
      t.metric = metric;
      t.month = month;
      t.target = target;
      t.set_by = w.Staff("tl_a");
      ASSERT_TRUE(store_->AddTarget(t).ok());
    };
    add("closures", Month(2099, 2), 2, 0);
    add("closures", Month(2099, 3), 1, 0);  // replaced by the next one: the latest is in force
    add("closures", Month(2099, 3), 3, 0);
    add("caseload", Month(2099, 3), 5, 0);
    add("closures", Month(2099, 3), 1, w.Staff("cw_a1"));
    auto history = store_->Load(seeded_.jc1);
    ASSERT_TRUE(history.ok()) << history.status();
    history_ = new std::shared_ptr<const CentreHistory>(*history);
  }
  static void TearDownTestSuite() {
    delete history_;
    delete store_;
    delete pool_;
    delete db_;
  }

  static std::shared_ptr<const CentreView> ViewOn(Day today, Day cutoff = kEndOfTime) {
    auto view =
        CentreView::Build(CentreSnapshot::Build(*history_, ViewDays{today, cutoff}), nullptr, 1);
    EXPECT_TRUE(view.ok()) << view.status();
    return *view;
  }
  static const CentreHistory& H() { return **history_; }
  static int64_t StaffId(const std::string& code) { return H().StaffByCode(code)->id; }
  static int64_t TeamId(const std::string& code) { return H().UnitByCode(code)->id; }
  static int64_t CaseId(const std::string& ref) { return H().CaseByRef(ref)->id; }

  static forecast::testing::TestDatabase* db_;
  static forecast::testing::SeededCentres seeded_;
  static PgPool* pool_;
  static PgHistoryStore* store_;
  static std::shared_ptr<const CentreHistory>* history_;
};

forecast::testing::TestDatabase* LogicTest::db_ = nullptr;
forecast::testing::SeededCentres LogicTest::seeded_;
PgPool* LogicTest::pool_ = nullptr;
PgHistoryStore* LogicTest::store_ = nullptr;
std::shared_ptr<const CentreHistory>* LogicTest::history_ = nullptr;

TEST_F(LogicTest, SnapshotShowsEachCaseAsItStoodOnTheDay) {
  auto early = CentreSnapshot::Build(*history_, ViewDays{Day(2099, 3, 1), Day(2099, 3, 1)});
  auto now = CentreSnapshot::Build(*history_, ViewDays{kToday, kEndOfTime});
  // Re-assigned on 03-02.
  EXPECT_EQ(early->Case(CaseId("A7"))->caseworker_id, StaffId("cw_a1"));
  EXPECT_EQ(now->Case(CaseId("A7"))->caseworker_id, StaffId("cw_b1"));
  EXPECT_EQ(now->Case(CaseId("A7"))->team_id, TeamId("TB"));
  // The expectation in force: 03-01's on 03-05, 03-10's today.
  const CaseState* a4_early =
      CentreSnapshot::Build(*history_, ViewDays{Day(2099, 3, 5), Day(2099, 3, 5)})
          ->Case(CaseId("A4"));
  EXPECT_EQ(a4_early->expectation->expected_month, Month(2099, 5));
  EXPECT_EQ(now->Case(CaseId("A4"))->expectation->expected_month, Month(2099, 7));
  // The action due 03-01 is overdue by 15 days today and not yet on 03-01.
  EXPECT_EQ(early->Case(CaseId("A1"))->overdue_actions, 0);
  EXPECT_EQ(now->Case(CaseId("A1"))->overdue_actions, 1);
  EXPECT_EQ(now->Case(CaseId("A1"))->max_days_overdue, 15);
  // Closed on 03-10: open before, closed after; A9 (opened 03-11) unknown on 03-01.
  EXPECT_TRUE(early->Case(CaseId("A6"))->open);
  EXPECT_FALSE(now->Case(CaseId("A6"))->open);
  EXPECT_EQ(early->Case(CaseId("A9")), nullptr);
  // Field values as of the day.
  const size_t internship = H().field_index.at("in_internship");
  EXPECT_FALSE(early->Case(CaseId("A2"))->fields[internship].IsSet(FieldType::kBool));
  EXPECT_TRUE(now->Case(CaseId("A2"))->fields[internship].IsSet(FieldType::kBool));
}

TEST_F(LogicTest, CaseworkerDashboardCountsTheOwnCaseload) {
  auto view = ViewOn(kToday);
  auto d = BuildCaseworkerDashboard(*view, StaffId("cw_a1"));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->caseworker(), "cw_a1");
  EXPECT_EQ(d->as_of(), "2099-03-16");
  EXPECT_EQ(d->open_cases(), 4);         // A1, A2, A3, A8
  EXPECT_EQ(d->no_expectation(), 1);     // A2
  EXPECT_EQ(d->stale_expectation(), 1);  // A1, recorded 162 days ago
  EXPECT_EQ(d->overdue_actions(), 1);    // A1
  EXPECT_EQ(d->passed_horizon(), 1);     // A1, expected 2099-01
  auto count = [](const auto& counts, const std::string& key) -> int64_t {
    for (const auto& c : counts)
      if (c.key() == key) return c.count();
    return -1;
  };
  EXPECT_EQ(count(d->by_case_type(), "SDP"), 2);
  EXPECT_EQ(count(d->by_case_type(), "JAF"), 1);
  EXPECT_EQ(count(d->by_case_type(), "KHA"), 1);
  EXPECT_EQ(count(d->by_field(), "has_cv"), 1);
  EXPECT_EQ(count(d->by_field(), "in_internship"), 1);
  EXPECT_EQ(count(d->by_field(), "segment:ready"), 0);
  EXPECT_EQ(count(d->by_expected_outcome(), "ORDINARY_JOB"), 2);
  EXPECT_EQ(count(d->by_expected_outcome(), "OTHER_BENEFIT"), 1);
  ASSERT_FALSE(d->expected_closures_next_3_months().empty());
  // Counts: the 80% interval of a rare closure can be [0, 0] while its mean is above 0.
  for (const auto& m : d->expected_closures_next_3_months()) {
    EXPECT_LE(m.closures().p10(), m.closures().expected() + 1e-9);
    EXPECT_LE(m.closures().p10(), m.closures().p90());
  }
  EXPECT_EQ(d->explanation().n(), 4);
  EXPECT_TRUE(d->explanation().small_sample());
}

TEST_F(LogicTest, TeamDashboardHasARowPerCaseworkerAndTotals) {
  auto view = ViewOn(kToday);
  auto d = BuildTeamDashboard(*view, TeamId("TA"), {}, "t");
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->rows_size(), 2);
  EXPECT_EQ(d->rows(0).caseworker(), "cw_a1");
  EXPECT_EQ(d->rows(0).open_cases(), 4);
  EXPECT_EQ(d->rows(1).caseworker(), "cw_a2");
  EXPECT_EQ(d->rows(1).open_cases(), 2);  // A4, A9
  EXPECT_EQ(d->totals().open_cases(), 6);
  EXPECT_EQ(d->totals().no_expectation(), 2);  // A2, A9
  EXPECT_EQ(d->variation().team(), "TA");
}

TEST_F(LogicTest, AgendaRanksCasesByTheirReasons) {
  auto view = ViewOn(kToday);
  auto items = RankAttention(*view, {ScopeFilter::Kind::kCaseworker, StaffId("cw_a1")}, 0);
  ASSERT_EQ(items.size(), 3u);
  // A1: overdue 15 days (100 + 5), horizon passed 2 months (80 + 10), stale 162 days (30 + 4).
  EXPECT_EQ(items[0].case_ref(), "A1");
  EXPECT_DOUBLE_EQ(items[0].score(), 229);
  EXPECT_EQ(items[0].reason(), "OVERDUE_ACTION");
  ASSERT_EQ(items[0].reasons_size(), 3);
  EXPECT_EQ(items[0].reasons(1), "PASSED_HORIZON");
  EXPECT_EQ(items[0].reasons(2), "STALE_EXPECTATION");
  // A2: no expectation, open 4 months (60 + 4).
  EXPECT_EQ(items[1].case_ref(), "A2");
  EXPECT_DOUBLE_EQ(items[1].score(), 64);
  EXPECT_EQ(items[1].reason(), "NO_EXPECTATION");
  // A8: high risk.
  EXPECT_EQ(items[2].case_ref(), "A8");
  EXPECT_EQ(items[2].reason(), "HIGH_RISK");
  EXPECT_DOUBLE_EQ(items[2].score(), 40);
  // The limit keeps the strongest.
  EXPECT_EQ(RankAttention(*view, {ScopeFilter::Kind::kCaseworker, StaffId("cw_a1")}, 1).size(), 1u);
}

std::vector<std::string> Kinds(const v1::Changes& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes.changes()) out.push_back(c.kind() + ":" + c.case_ref());
  return out;
}

TEST_F(LogicTest, ChangesSinceADayPerTeamAndCaseworker) {
  const ViewDays until{kToday, kEndOfTime};
  v1::Changes ta =
      DetectChanges(H(), {ScopeFilter::Kind::kTeam, TeamId("TA")}, Day(2099, 3, 1), until);
  EXPECT_EQ(Kinds(ta),
            (std::vector<std::string>{"NEW:A9", "CLOSED:A6", "REASSIGNED_OUT:A7", "MOVED_LATER:A4",
                                      "MOVED_EARLIER:A3", "OUTCOME_CHANGED:A3", "RISK_UP:A4",
                                      "RISK_DOWN:A3"}));
  EXPECT_EQ(ta.since(), "2099-03-01");
  EXPECT_EQ(ta.until(), "2099-03-16");
  ASSERT_EQ(ta.counts_size(), 8);
  EXPECT_EQ(ta.counts(0).key(), "NEW");
  EXPECT_EQ(ta.counts(0).count(), 1);
  for (const auto& c : ta.changes()) {
    if (c.kind() == "MOVED_LATER") {
      EXPECT_EQ(c.before(), "2099-05");
      EXPECT_EQ(c.after(), "2099-07");
    }
    if (c.kind() == "REASSIGNED_OUT") {
      EXPECT_EQ(c.before(), "cw_a1");
      EXPECT_EQ(c.after(), "cw_b1");
    }
  }
  v1::Changes tb =
      DetectChanges(H(), {ScopeFilter::Kind::kTeam, TeamId("TB")}, Day(2099, 3, 1), until);
  EXPECT_EQ(Kinds(tb),
            (std::vector<std::string>{"NEW:B2", "REASSIGNED_IN:A7", "FIRST_EXPECTATION:B1"}));
  v1::Changes a2 = DetectChanges(H(), {ScopeFilter::Kind::kCaseworker, StaffId("cw_a2")},
                                 Day(2099, 3, 1), until);
  EXPECT_EQ(Kinds(a2), (std::vector<std::string>{"NEW:A9", "MOVED_LATER:A4", "RISK_UP:A4"}));
  // Nothing changed within one day of nothing happening.
  EXPECT_EQ(DetectChanges(H(), {ScopeFilter::Kind::kTeam, TeamId("TA")}, Day(2099, 3, 15), until)
                .changes_size(),
            0);
}

// The row of a metric and month.
const v1::MilestoneRow& Row(const v1::Milestones& m, const std::string& metric,
                            const std::string& month) {
  for (const auto& r : m.rows()) {
    if (r.metric() == metric && r.month() == month) return r;
  }
  ADD_FAILURE() << "no row " << metric << " " << month;
  static v1::MilestoneRow none;
  return none;
}

TEST_F(LogicTest, MilestonesMatchHandComputedFigures) {
  auto view = ViewOn(kToday);
  auto m = BuildMilestones(*view, TeamId("TA"), 0, Month(2099, 2), Month(2099, 3));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->rows_size(), 7 * 2);
  // Closures: A5 (cw_a2, 02-20) in February, A6 (cw_a1, 03-10) in March; both to a JOB outcome.
  const auto& feb = Row(*m, "closures", "2099-02");
  EXPECT_EQ(feb.actual(), 1);
  EXPECT_TRUE(feb.has_target());
  EXPECT_EQ(feb.target(), 2);
  EXPECT_EQ(feb.gap(), 1);
  EXPECT_FALSE(feb.on_track());
  EXPECT_EQ(feb.projected().expected(), 1);  // a past month: the actual
  const auto& mar = Row(*m, "closures", "2099-03");
  EXPECT_EQ(mar.actual(), 1);
  EXPECT_EQ(mar.target(), 3);  // the latest target set
  EXPECT_EQ(mar.gap(), 2);
  EXPECT_GE(mar.projected().expected(), 1);  // the actual so far plus the rest of the month
  EXPECT_EQ(Row(*m, "closures_job", "2099-02").actual(), 1);
  EXPECT_EQ(Row(*m, "closures_job", "2099-03").actual(), 1);
  EXPECT_EQ(Row(*m, "closures_flex_job", "2099-03").actual(), 0);  // B2 is team TB's
  EXPECT_FALSE(Row(*m, "closures_job", "2099-03").has_target());
  // Internships started: A4 on 02-10, A2 on 03-05.
  EXPECT_EQ(Row(*m, "internship_starts", "2099-02").actual(), 1);
  EXPECT_EQ(Row(*m, "internship_starts", "2099-03").actual(), 1);
  // Open cases with a CV at the month's end (today for March): A1 and A4.
  EXPECT_EQ(Row(*m, "has_cv", "2099-02").actual(), 2);
  EXPECT_EQ(Row(*m, "has_cv", "2099-03").actual(), 2);
  // Caseload: 02-28 A1 A2 A3 A4 A6 A7 A8; today A1 A2 A3 A4 A8 A9. Lower is better.
  EXPECT_EQ(Row(*m, "caseload", "2099-02").actual(), 7);
  const auto& load = Row(*m, "caseload", "2099-03");
  EXPECT_EQ(load.actual(), 6);
  EXPECT_EQ(load.target(), 5);
  EXPECT_EQ(load.gap(), 1);
  EXPECT_FALSE(load.higher_is_better());

  // One caseworker: cw_a1 closed A6 in March; the target for cw_a1 alone is 1: no gap.
  auto cw = BuildMilestones(*view, TeamId("TA"), StaffId("cw_a1"), Month(2099, 2), Month(2099, 3));
  ASSERT_TRUE(cw.ok()) << cw.status();
  EXPECT_EQ(Row(*cw, "closures", "2099-02").actual(), 0);
  EXPECT_EQ(Row(*cw, "closures", "2099-03").actual(), 1);
  EXPECT_EQ(Row(*cw, "closures", "2099-03").target(), 1);
  EXPECT_EQ(Row(*cw, "closures", "2099-03").gap(), 0);
  EXPECT_EQ(Row(*cw, "caseload", "2099-02").actual(), 6);  // A1 A2 A3 A6 A7 A8
  EXPECT_EQ(Row(*cw, "caseload", "2099-03").actual(), 4);

  EXPECT_FALSE(BuildMilestones(*view, TeamId("TA"), 0, Month(2099, 3), Month(2099, 2)).ok());
}

TEST_F(LogicTest, ProjectionIsConsistent) {
  auto view = ViewOn(kToday);
  v1::Scope scope;
  scope.set_kind(v1::Scope::TEAM);
  scope.set_code("TA");
  for (auto model : {forecasting::ModelKind::kAsPlanned, forecasting::ModelKind::kCalibrated,
                     forecasting::ModelKind::kBaseline}) {
    auto p =
        BuildProjection(*view, {ScopeFilter::Kind::kTeam, TeamId("TA")}, scope, model, 6, nullptr);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->open_cases(), 6);
    EXPECT_EQ(p->caseload_size(), 6);
    EXPECT_EQ(p->caseload(0).month(), "2099-03");
    double all = 0;
    for (const auto& c : p->closures()) {
      if (c.outcome() == "ALL") all += c.closures().expected();
      EXPECT_LE(c.closures().p10(), c.closures().expected() + 1e-9);
    }
    EXPECT_GT(all, 0);
    EXPECT_LE(all, 6 + 1e-6);  // today's cases close at most once
    EXPECT_TRUE(p->explanation().small_sample());
  }
  auto explained =
      BuildCaseExplanation(*view, CaseId("A8"), forecasting::ModelKind::kAsPlanned, 12);
  ASSERT_TRUE(explained.ok()) << explained.status();
  double total = explained->still_open_at_horizon();
  for (const auto& p : explained->probabilities()) total += p.probability();
  EXPECT_NEAR(total, 1.0, 1e-3);
  EXPECT_FALSE(explained->reasons().empty());
  EXPECT_EQ(BuildCaseExplanation(*view, CaseId("A6"), forecasting::ModelKind::kAsPlanned, 12)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace forecast::fsvc
