// Forecast adjustments (issue 11 section 4) end to end: real PostgreSQL (each service as its own
// role), LISTEN/NOTIFY, gRPC on port 0, the hand-built centre of seed_centre.h. The service's
// clock is fixed at 2099-03-16. Rows recorded on past days (as-of views, accuracy) are written
// with SQL in the shape PgHistoryStore::AddAdjustment writes them, before the service first reads
// the centre.
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "forecast/v1/forecast_service.grpc.pb.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"
#include "tests/forecast_service/seed_centre.h"
#include "tests/forecast_service/service_fixture.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::fsvc {
namespace {

class AdjustmentsTest : public ForecastServiceFixture {
 protected:
  static std::unique_ptr<grpc::ClientContext> As(const std::string& staff,
                                                 const std::string& centre = "JC1") {
    return CallAs(centre, staff, std::chrono::seconds(60));
  }

  grpc::Status Set(const std::string& staff, const std::string& team, const std::string& month,
                   double figure, int base_version, const std::string& key,
                   v1::ForecastAdjustment* out, const std::string& reason = "Kendt sæsonudsving",
                   bool clear = false, const std::string& outcome = "ALL") {
    v1::SetForecastAdjustmentRequest r;
    r.set_team(team);
    r.set_month(month);
    r.set_outcome(outcome);
    r.set_figure(figure);
    r.set_clear(clear);
    r.set_reason(reason);
    r.set_base_version(base_version);
    r.set_idempotency_key(key);
    return stub_->SetForecastAdjustment(As(staff).get(), r, out);
  }

  v1::Projection Project(const std::string& team, const std::string& as_of = "") {
    v1::ProjectRequest r;
    r.mutable_scope()->set_kind(v1::Scope::TEAM);
    r.mutable_scope()->set_code(team);
    r.set_horizon_months(3);
    r.set_as_of(as_of);
    v1::Projection p;
    const grpc::Status status = stub_->Project(As("tl_a").get(), r, &p);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return p;
  }

  v1::ForecastAdjustments List(const std::string& staff, const std::string& team,
                               const std::string& as_of = "") {
    v1::ListForecastAdjustmentsRequest r;
    r.set_team(team);
    r.set_as_of(as_of);
    v1::ForecastAdjustments out;
    const grpc::Status status = stub_->ListForecastAdjustments(As(staff).get(), r, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }

  // A row recorded at `set_at` (a past day), as the service writes it.
  void Insert(const std::string& team, const std::string& month, const std::string& outcome,
              int version, std::optional<double> figure, std::optional<double> previous,
              const std::string& set_at, const std::string& key) {
    forecast::testing::CentreWriter w(db_->conninfo(), seeded_.jc1);
    pqxx::connection conn(db_->conninfo());
    pqxx::work tx(conn);
    tx.exec_params(
        "INSERT INTO forecast_adjustment (job_centre_id, team_id, month, outcome, version, "
        "figure, previous_figure, reason, idempotency_key, set_by, set_at) VALUES ($1, $2, "
        "$3::date, $4, $5, CASE WHEN $6 THEN $7::float8 END, CASE WHEN $8 THEN $9::float8 END, "
        "'Kendt udsving', $10, $11, $12::timestamptz)",
        seeded_.jc1, w.Unit(team), month + "-01", outcome, version, figure.has_value(),
        figure.value_or(0), previous.has_value(), previous.value_or(0), key, w.Staff("tl_a"),
        set_at);
    tx.commit();
  }

  static const v1::ForecastAdjustment* Find(const v1::Projection& p, const std::string& month) {
    for (const v1::ForecastAdjustment& a : p.adjustments()) {
      if (a.month() == month && a.outcome() == "ALL") return &a;
    }
    return nullptr;
  }
};

TEST_F(AdjustmentsTest, SetSupersedeClearBesideAnUnchangedModelAndAudited) {
  const v1::Projection before = Project("TA");
  ASSERT_TRUE(before.adjustments().empty());

  v1::ForecastAdjustment first;
  ASSERT_TRUE(Set("tl_a", "TA", "2099-04", 7, 0, "k1", &first).ok());
  EXPECT_EQ(first.version(), 1);
  EXPECT_EQ(first.figure(), 7);
  EXPECT_FALSE(first.has_previous());
  EXPECT_FALSE(first.cleared());
  EXPECT_EQ(first.set_by(), "tl_a");
  EXPECT_EQ(first.reason(), "Kendt sæsonudsving");
  EXPECT_FALSE(first.set_at().empty());

  // Shown beside the model's figure; the model's figures are exactly as before.
  const v1::Projection with = Project("TA");
  const v1::ForecastAdjustment* shown = Find(with, "2099-04");
  ASSERT_NE(shown, nullptr);
  EXPECT_EQ(shown->figure(), 7);
  ASSERT_EQ(with.closures_size(), before.closures_size());
  for (int i = 0; i < with.closures_size(); ++i) {
    EXPECT_EQ(with.closures(i).closures().expected(), before.closures(i).closures().expected());
  }
  // Filtered by case type, the figure is not the team's whole one: no adjustments.
  {
    v1::ProjectRequest r;
    r.mutable_scope()->set_kind(v1::Scope::TEAM);
    r.mutable_scope()->set_code("TA");
    r.add_case_types("SDP");
    v1::Projection p;
    ASSERT_TRUE(stub_->Project(As("tl_a").get(), r, &p).ok());
    EXPECT_TRUE(p.adjustments().empty());
  }

  // A newer row supersedes, naming the version it replaces.
  v1::ForecastAdjustment second;
  ASSERT_TRUE(Set("mgr", "TA", "2099-04", 9.5, 1, "k2", &second, "Ny virksomhedsaftale").ok());
  EXPECT_EQ(second.version(), 2);
  EXPECT_TRUE(second.has_previous());
  EXPECT_EQ(second.previous_figure(), 7);
  EXPECT_EQ(second.set_by(), "mgr");
  EXPECT_EQ(Find(Project("TA"), "2099-04")->figure(), 9.5);

  // A stale version is refused; nothing is stored.
  v1::ForecastAdjustment stale;
  const grpc::Status refused = Set("tl_a", "TA", "2099-04", 3, 1, "k3", &stale);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(DetailOf(FromGrpcStatus(refused)).reason, "ADJUSTMENT_CHANGED");
  EXPECT_EQ(DetailOf(FromGrpcStatus(refused)).field, "base_version");

  // A retried key answers the stored row again; the key for another adjustment is refused.
  v1::ForecastAdjustment retried;
  ASSERT_TRUE(Set("mgr", "TA", "2099-04", 9.5, 1, "k2", &retried, "Ny virksomhedsaftale").ok());
  EXPECT_EQ(retried.version(), 2);
  EXPECT_EQ(retried.set_at(), second.set_at());
  EXPECT_EQ(Set("mgr", "TA", "2099-05", 4, 0, "k2", &retried).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  // Clearing is a row of its own.
  v1::ForecastAdjustment cleared;
  ASSERT_TRUE(Set("tl_a", "TA", "2099-04", 0, 2, "k4", &cleared, "Aftalen faldt", true).ok());
  EXPECT_TRUE(cleared.cleared());
  EXPECT_EQ(cleared.version(), 3);
  EXPECT_EQ(cleared.previous_figure(), 9.5);
  EXPECT_EQ(Find(Project("TA"), "2099-04"), nullptr);
  v1::ForecastAdjustment again;
  EXPECT_EQ(Set("tl_a", "TA", "2099-04", 0, 3, "k5", &again, "Igen", true).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // The audit: every row, oldest first; the latest per month is current (cleared included, so
  // the next edit knows its version). A caseworker of the team reads it too.
  const v1::ForecastAdjustments listed = List("cw_a1", "TA");
  ASSERT_EQ(listed.history_size(), 3);
  EXPECT_EQ(listed.history(0).figure(), 7);
  EXPECT_EQ(listed.history(0).reason(), "Kendt sæsonudsving");
  EXPECT_EQ(listed.history(1).figure(), 9.5);
  EXPECT_EQ(listed.history(1).previous_figure(), 7);
  EXPECT_EQ(listed.history(1).set_by(), "mgr");
  EXPECT_TRUE(listed.history(2).cleared());
  ASSERT_EQ(listed.current_size(), 1);
  EXPECT_EQ(listed.current(0).version(), 3);

  // The store holds the same three rows, none changed.
  pqxx::connection conn(db_->conninfo());
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM forecast_adjustment")[0].as<int>(), 3);
  // A new service instance reads them from the database alike.
  ForecastEngine fresh(*store_, clock_);
  auto view = fresh.cache().Now(seeded_.jc1);
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ((*view)->history().adjustments.size(), 3u);
  EXPECT_EQ((*view)->history().adjustments[1].previous, std::optional<double>(7));
}

TEST_F(AdjustmentsTest, RefusalsNameTheRuleOrTheField) {
  v1::ForecastAdjustment out;
  // Another team's leader, a caseworker and an admin may not; a manager may for any team.
  EXPECT_EQ(Set("tl_b", "TA", "2099-04", 5, 0, "p1", &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Set("cw_a1", "TA", "2099-04", 5, 0, "p2", &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Set("mgr", "TB", "2099-04", 5, 0, "p3", &out).ok());
  // Another job centre's team does not exist for the caller.
  EXPECT_EQ(Set("tl_a", "TX", "2099-04", 5, 0, "p4", &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  struct Bad {
    std::string month, outcome, reason, key, field, code;
    double figure;
    int base;
  };
  const Bad bad[] = {
      {"2099-04", "ALL", "", "b1", "reason", "REQUIRED", 5, 0},
      {"2099-04", "ALL", "   ", "b2", "reason", "REQUIRED", 5, 0},
      {"2099-04", "ALL", std::string(4001, 'x'), "b3", "reason", "", 5, 0},
      {"2099-04", "NO_SUCH", "Grund", "b4", "outcome", "UNKNOWN_OUTCOME", 5, 0},
      {"2099-02", "ALL", "Grund", "b5", "month", "MONTH_PASSED", 5, 0},
      {"2101-04", "ALL", "Grund", "b6", "month", "MONTH_TOO_FAR", 5, 0},
      {"2099-13", "ALL", "Grund", "b7", "month", "", 5, 0},
      {"2099-04", "ALL", "Grund", "b8", "figure", "OUT_OF_RANGE", -1, 0},
      {"2099-04", "ALL", "Grund", "b9", "base_version", "OUT_OF_RANGE", 5, -1},
      {"2099-04", "ALL", "Grund", "", "idempotency_key", "REQUIRED", 5, 0},
      {"2099-04", "ALL", "CPR 010190-1234", "b10", "reason", "", 5, 0},
  };
  for (const Bad& b : bad) {
    v1::SetForecastAdjustmentRequest r;
    const grpc::Status status =
        Set("tl_a", "TA", b.month, b.figure, b.base, b.key, &out, b.reason, false, b.outcome);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << b.field << " " << b.key;
    const ErrorDetail detail = DetailOf(FromGrpcStatus(status));
    EXPECT_EQ(detail.field, b.field) << b.key;
    if (!b.code.empty()) {
      EXPECT_EQ(detail.reason, b.code) << b.key;
    }
  }
  // An outcome code of the catalogue is an outcome group of the projection too.
  EXPECT_TRUE(Set("tl_a", "TA", "2099-04", 2, 0, "o1", &out, "Grund", false, "ORDINARY_JOB").ok());
  // Nothing refused was stored.
  EXPECT_EQ(List("tl_a", "TA").history_size(), 1);
  // Another team's list is not the team leader's to read.
  v1::ListForecastAdjustmentsRequest r;
  r.set_team("TB");
  v1::ForecastAdjustments listed;
  EXPECT_EQ(stub_->ListForecastAdjustments(As("tl_a").get(), r, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AdjustmentsTest, AsOfViewsShowTheAdjustmentInForceThen) {
  // 2099-04: 5 recorded on 02-10, superseded by 8 on 03-05.
  Insert("TA", "2099-04", "ALL", 1, 5, std::nullopt, "2099-02-10 12:00:00+00", "h1");
  Insert("TA", "2099-04", "ALL", 2, 8, 5, "2099-03-05 12:00:00+00", "h2");
  EXPECT_EQ(Find(Project("TA", "2099-02-09"), "2099-04"), nullptr);
  const v1::ForecastAdjustment* then = Find(Project("TA", "2099-02-20"), "2099-04");
  ASSERT_NE(then, nullptr);
  EXPECT_EQ(then->figure(), 5);
  const v1::ForecastAdjustment* now = Find(Project("TA"), "2099-04");
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(now->figure(), 8);
  EXPECT_EQ(now->previous_figure(), 5);
  EXPECT_EQ(List("tl_a", "TA", "2099-02-20").history_size(), 1);
  EXPECT_EQ(List("tl_a", "TA").history_size(), 2);
  // An edit today names the latest version, whatever an as-of view showed.
  v1::ForecastAdjustment out;
  EXPECT_EQ(Set("tl_a", "TA", "2099-04", 6, 1, "h3", &out).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_TRUE(Set("tl_a", "TA", "2099-04", 6, 2, "h4", &out).ok());
}

TEST_F(AdjustmentsTest, AccuracyOfTheAdjustedSeriesOnKnownData) {
  // The backtest compares 2098-03 .. 2099-02 (origins every three months, three months ahead).
  // Team TA's only closure among the cases open at origin 2098-12 in 2099-02 is A5's (02-20).
  // 2099-02: adjusted to 1 on 01-20, before the month began: used.
  Insert("TA", "2099-02", "ALL", 1, 1, std::nullopt, "2099-01-20 12:00:00+00", "a1");
  // 2099-01: recorded on 01-05, after the month began: not used.
  Insert("TA", "2099-01", "ALL", 1, 4, std::nullopt, "2099-01-05 12:00:00+00", "a2");
  // 2098-12: set, then cleared before the month began: not used.
  Insert("TA", "2098-12", "ALL", 1, 3, std::nullopt, "2098-11-10 12:00:00+00", "a3");
  Insert("TA", "2098-12", "ALL", 2, std::nullopt, 3, "2098-11-20 12:00:00+00", "a4");
  // Another outcome group's adjustment does not stand for the total.
  Insert("TA", "2098-11", "ORDINARY_JOB", 1, 9, std::nullopt, "2098-10-01 12:00:00+00", "a5");

  v1::AccuracyRequest r;
  r.mutable_scope()->set_kind(v1::Scope::TEAM);
  r.mutable_scope()->set_code("TA");
  v1::Accuracy accuracy;
  ASSERT_TRUE(stub_->GetAccuracy(As("tl_a").get(), r, &accuracy).ok());
  const v1::ModelAccuracy* calibrated = nullptr;
  const v1::ModelAccuracy* adjusted = nullptr;
  for (const v1::ModelAccuracy& m : accuracy.models()) {
    if (m.model() == v1::CALIBRATED) calibrated = &m;
    if (m.model() == v1::ADJUSTED) adjusted = &m;
  }
  ASSERT_NE(calibrated, nullptr);
  ASSERT_NE(adjusted, nullptr);
  EXPECT_EQ(adjusted->n_months(), calibrated->n_months());
  EXPECT_EQ(adjusted->n_adjusted_months(), 1);
  EXPECT_EQ(adjusted->brier_score(), calibrated->brier_score());
  ASSERT_EQ(accuracy.adjusted_months_size(), 1);
  const v1::AdjustedMonth& m = accuracy.adjusted_months(0);
  EXPECT_EQ(m.month(), "2099-02");
  EXPECT_EQ(m.origin(), "2098-12");
  EXPECT_EQ(m.adjusted(), 1);
  EXPECT_EQ(m.actual(), 1);
  // The adjusted series differs from the calibrated one exactly in that month's error.
  const double n = static_cast<double>(calibrated->n_months());
  EXPECT_NEAR(adjusted->mean_abs_error() * n,
              calibrated->mean_abs_error() * n - std::abs(m.calibrated() - m.actual()) +
                  std::abs(m.adjusted() - m.actual()),
              1e-9);
  EXPECT_NE(accuracy.explanation().method().find("Adjusted"), std::string::npos);

  // Not a team: no adjusted series.
  r.mutable_scope()->set_kind(v1::Scope::JOB_CENTRE);
  r.mutable_scope()->clear_code();
  ASSERT_TRUE(stub_->GetAccuracy(As("mgr").get(), r, &accuracy).ok());
  for (const v1::ModelAccuracy& model : accuracy.models()) EXPECT_NE(model.model(), v1::ADJUSTED);
}

}  // namespace
}  // namespace forecast::fsvc
