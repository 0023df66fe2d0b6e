// The models on hand-made histories: known answers, the calibration trap, pooling, inflow.
#include "forecasting/models.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "forecasting/projector.h"
#include "gtest/gtest.h"
#include "test_portfolios.h"

namespace forecasting {
namespace {

using testing::Expect;
using testing::SmallCatalogue;

constexpr MonthIndex kStart = MakeMonth(2024, 1);

CaseRecord Record(int64_t id, CaseTypeIndex type, CaseworkerIndex worker, MonthIndex opened,
                  std::optional<MonthIndex> closed, OutcomeIndex outcome) {
  CaseRecord r;
  r.case_id = id;
  r.case_type = type;
  r.team = 0;
  r.caseworker = worker;
  r.opened_month = opened;
  r.closed_month = closed;
  r.outcome = closed.has_value() ? outcome : -1;
  return r;
}

TEST(MonthTest, IndexRoundTrips) {
  EXPECT_EQ(MakeMonth(2026, 11), 2026 * 12 + 10);
  EXPECT_EQ(YearOf(MakeMonth(2026, 12)), 2026);
  EXPECT_EQ(MonthOfYear(MakeMonth(2026, 12)), 12);
  EXPECT_EQ(MonthOfYear(MakeMonth(2027, 1)), 1);
  EXPECT_EQ(FormatMonth(MakeMonth(2026, 3)), "2026-03");
  EXPECT_EQ(MakeMonth(2026, 12) + 1, MakeMonth(2027, 1));
}

TEST(ModelsTest, LeadBuckets) {
  EXPECT_EQ(LeadBucket(-10), 0);
  EXPECT_EQ(LeadBucket(-6), 0);
  EXPECT_EQ(LeadBucket(-5), 1);
  EXPECT_EQ(LeadBucket(0), 6);
  EXPECT_EQ(LeadBucket(3), 9);
  EXPECT_EQ(LeadBucket(8), 14);
  EXPECT_EQ(LeadBucket(18), 24);
  EXPECT_EQ(LeadBucket(19), 25);
  EXPECT_EQ(LeadBucket(24), 25);
  EXPECT_EQ(LeadBucket(40), kNumLeadBuckets - 1);
}

TEST(ModelsTest, ValidationNamesTheField) {
  Catalogue c = SmallCatalogue();
  c.risk_probability[1] = 1.5;
  EXPECT_NE(ValidateCatalogue(c).message().find("risk_probability[1]"), std::string::npos);
  History h;
  h.cases.push_back(Record(42, 5, 0, kStart, std::nullopt, -1));
  const absl::Status s = ValidateHistory(SmallCatalogue(), h);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("case 42"), std::string::npos);
  EXPECT_NE(s.message().find("case_type"), std::string::npos);
  h.cases[0] = Record(43, 0, 0, kStart, kStart - 1, 0);
  EXPECT_NE(ValidateHistory(SmallCatalogue(), h).message().find("closed_month"), std::string::npos);
  EXPECT_FALSE(BaselineModel::Fit(SmallCatalogue(), h, kStart + 5).ok());
}

TEST(ModelsTest, BaselineRecoversAConstantHazard) {
  // 2000 SDP cases opened monthly, each closes with hazard 0.25 a month (deterministic thinning:
  // of every 4 cases open at a duration, one closes), to DECLARED_FIT.
  History h;
  int64_t id = 0;
  for (int cohort = 0; cohort < 20; ++cohort) {
    const MonthIndex opened = kStart + cohort;
    // 256 cases: 64 close at duration 0, 48 at 1, 36 at 2, 27 at 3, ...
    int open = 256;
    for (int d = 0; open > 0 && d < 30; ++d) {
      const int closing = d < 29 ? open / 4 : open;
      for (int i = 0; i < closing; ++i)
        h.cases.push_back(Record(id++, 0, 0, opened, opened + d, 2));
      open -= closing;
      if (open < 4) {
        for (int i = 0; i < open; ++i)
          h.cases.push_back(Record(id++, 0, 0, opened, std::nullopt, -1));
        break;
      }
    }
  }
  h.observed_from = kStart;
  auto m = BaselineModel::Fit(SmallCatalogue(), h, kStart + 20);
  ASSERT_TRUE(m.ok()) << m.status();
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(m->Hazard(0, d), 0.25, 0.02) << d;
  EXPECT_NEAR(m->OutcomeShare(0, 2, 2), 1.0, 0.02);
  double sum = 0;
  for (int o = 0; o < 3; ++o)
    sum += m->OutcomeShare(1, 5, o);  // no JAF data: pooled, still sums to 1
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_GT(m->Hazard(1, 5), 0.0);
}

TEST(ModelsTest, LeftTruncatedSurvivorsDoNotBiasTheHazard) {
  // Cases opened long before the export began; their early months are not observed.
  History h;
  for (int i = 0; i < 400; ++i) {
    const MonthIndex opened = kStart - 12;
    // Survivors to kStart, then half close in each month.
    h.cases.push_back(Record(i, 0, 0, opened, kStart + (i % 2 == 0 ? 0 : 1), 0));
  }
  h.observed_from = kStart;
  auto m = BaselineModel::Fit(SmallCatalogue(), h, kStart + 2);
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->Hazard(0, 12), 0.5, 0.05);  // 200 of 400 close at duration 12
  EXPECT_LT(m->Exposure(0, 5), 1.0);         // months before the export are not counted
}

// The trap: every case gets a last expectation in its closing month pointing at that month,
// while the expectations made ahead were all two months too early. Learning only from the last
// expectation would say "no slip"; the calibration must see the two months.
History TrapHistory() {
  History h;
  for (int i = 0; i < 300; ++i) {
    const MonthIndex opened = kStart + i % 12;
    const MonthIndex closed = opened + 6;
    CaseRecord r = Record(i, 0, i % 3, opened, closed, 0);
    for (MonthIndex t = opened; t < closed; ++t) {
      r.expectations.push_back(Expect(0, closed - 2 > t ? closed - 2 : t, 1, t, i % 3));
    }
    r.expectations.push_back(Expect(0, closed, 0, closed, i % 3));
    h.cases.push_back(r);
  }
  h.observed_from = kStart;
  return h;
}

TEST(ModelsTest, CalibrationLearnsFromEveryExpectationInForce) {
  const History h = TrapHistory();
  auto m = CalibrationModel::Fit(SmallCatalogue(), h, kStart + 40);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GT(m->person_months(), 1000);
  // Slip: expectations in force pointed at closed - 2 (or the current month near the end).
  for (int w = 0; w < 3; ++w) {
    EXPECT_GT(m->RawMeanSlip(w), 1.0) << w;
    EXPECT_GT(m->MeanSlip(w), 1.0) << w;
  }
  // In force at the start of a month: "expected this month" (lead 0) never closed that month but
  // always two months later; one month past (lead -1) closed that month half the time (the last
  // two months re-point at the current month).
  EXPECT_LT(m->Hazard(0, 1, 0, 0, 0, 0), 0.1);
  EXPECT_GT(m->Hazard(0, 1, 0, 2, 0, 0), 0.8);
  EXPECT_NEAR(m->Hazard(0, 1, -1, 0, 0, 0), 0.5, 0.1);
  EXPECT_GT(m->ExpectedOutcomeWeight(1), 0.9);
}

TEST(ModelsTest, CaseworkerFactorsShrinkTowardTheTeam) {
  History h = TrapHistory();
  // Caseworker 2's cases: only three, all closing right as expected.
  h.cases.erase(std::remove_if(h.cases.begin(), h.cases.end(),
                               [](const CaseRecord& r) { return r.caseworker == 2; }),
                h.cases.end());
  for (int i = 0; i < 3; ++i) {
    CaseRecord r = Record(1000 + i, 0, 2, kStart, kStart + 4, 0);
    for (MonthIndex t = kStart; t < kStart + 4; ++t)
      r.expectations.push_back(Expect(0, kStart + 4, 1, t, 2));
    h.cases.push_back(r);
  }
  auto m = CalibrationModel::Fit(SmallCatalogue(), h, kStart + 40);
  ASSERT_TRUE(m.ok());
  // Raw slip of caseworker 2 is about 0 on a few months; shrunk toward the team's ~2.
  EXPECT_LT(std::abs(m->RawMeanSlip(2)), 0.5);
  EXPECT_GT(m->MeanSlip(2), m->RawMeanSlip(2) + 0.3);
  EXPECT_LT(m->MeanSlip(2), m->TeamMeanSlip(0));
  EXPECT_LT(m->SlipWeight(2), m->SlipWeight(0));
}

// Caseworkers 0 and 1 close their cases in the month they expect; caseworker 2 three months
// later. The calibration shifts caseworker 2's leads by their slip beyond the centre's, so the
// same recorded lead projects three months later for them than for the others.
TEST(ModelsTest, LateCaseworkersLeadsAreShifted) {
  History h;
  for (int i = 0; i < 900; ++i) {
    const int worker = i % 3;
    const MonthIndex opened = kStart + i % 24;
    const MonthIndex closed = opened + 3 + i % 5;
    CaseRecord r = Record(i, 0, worker, opened, closed, 0);
    for (MonthIndex t = opened; t < closed; ++t) {
      const MonthIndex expected = worker == 2 ? closed - 3 : closed;
      r.expectations.push_back(Expect(0, std::max(expected, t), 0, t, worker));
    }
    h.cases.push_back(r);
  }
  h.observed_from = kStart;
  const MonthIndex as_of = kStart + 36;
  auto m = CalibrationModel::Fit(SmallCatalogue(), h, as_of);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_GT(m->LeadShift(2), 1.3);
  EXPECT_LT(m->LeadShift(0), -0.4);
  EXPECT_NEAR(m->LeadShift(0), m->LeadShift(1), 0.1);
  EXPECT_GT(m->LeadShift(2) - m->LeadShift(0), 2.0);
  // A case expected in 2 months: caseworker 0's closes then, caseworker 2's three months later.
  std::vector<double> q0(8), q2(8);
  m->ClosureCurve(0, 0, 2, 0, 0, 0, as_of, 8, q0.data());
  m->ClosureCurve(0, 0, 2, 0, 2, 0, as_of, 8, q2.data());
  auto peak = [](const std::vector<double>& q) {
    return static_cast<int>(std::max_element(q.begin(), q.end()) - q.begin());
  };
  EXPECT_EQ(peak(q0), 2);
  EXPECT_EQ(peak(q2), 5);
  EXPECT_GT(q0[2], 0.5);
  EXPECT_GT(q2[5], 0.4);
  // Without the shift the same lead reads the same centre hazards for both.
  FitOptions off;
  off.slip_shift = false;
  auto plain = CalibrationModel::Fit(SmallCatalogue(), h, as_of, off);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->LeadShift(2), 0.0);
}

// Outcome habits: caseworkers 0 and 1 close expected ORDINARY_JOB cases to it 90% of the time
// when on time (else DECLARED_FIT) and half the time when late; caseworker 2 steers half of them
// to FLEX_JOB; caseworker 3 has two closures, both FLEX_JOB (too few to be believed).
History HabitHistory() {
  History h;
  int64_t id = 0;
  for (int i = 0; i < 1200; ++i) {
    const int worker = i % 3;
    const bool late = i % 4 == 3;
    const MonthIndex opened = kStart + i % 24;
    const MonthIndex closed = opened + 4;
    OutcomeIndex outcome = 0;
    if (worker == 2) {
      outcome = (i / 12) % 2 == 0 ? 1 : 0;
    } else if (late) {
      outcome = (i / 12) % 2 == 0 ? 2 : 0;
    } else {
      outcome = (i / 3) % 10 == 0 ? 2 : 0;
    }
    CaseRecord r = Record(id++, 0, worker, opened, closed, outcome);
    for (MonthIndex t = opened; t < closed; ++t) {
      r.expectations.push_back(Expect(0, late ? closed - 2 : closed, 1, t, worker));
    }
    h.cases.push_back(r);
  }
  for (int i = 0; i < 2; ++i) {
    CaseRecord r = Record(id++, 0, 3, kStart + 5, kStart + 9, 1);
    for (MonthIndex t = kStart + 5; t < kStart + 9; ++t)
      r.expectations.push_back(Expect(0, kStart + 9, 1, t, 3));
    h.cases.push_back(r);
  }
  h.observed_from = kStart;
  return h;
}

Catalogue HabitCatalogue() {
  Catalogue c = SmallCatalogue();
  c.caseworker_team = {0, 0, 0, 0};
  return c;
}

TEST(ModelsTest, OutcomeHabitsAreAConfusionMatrixByRiskLeadAndCaseworker) {
  auto m = CalibrationModel::Fit(HabitCatalogue(), HabitHistory(), kStart + 36);
  ASSERT_TRUE(m.ok()) << m.status();
  std::vector<double> d0(3), d0_late(3), d2(3), d3(3), team(3);
  const double s0 = m->OutcomeHabits(0, 1, 0, 0, 0, 0, d0.data());
  const double s0_late = m->OutcomeHabits(0, 1, 0, -2, 0, 0, d0_late.data());
  const double s2 = m->OutcomeHabits(0, 1, 0, 0, 0, 2, d2.data());
  const double s3 = m->OutcomeHabits(0, 1, 0, 0, 0, 3, d3.data());
  const double st = m->OutcomeHabits(0, 1, 0, 0, 0, -1, team.data());
  for (const auto* d : {&d0, &d0_late, &d2, &d3, &team}) {
    EXPECT_EQ((*d)[0], 0.0);  // the expected outcome is the stay, not a destination
    EXPECT_NEAR((*d)[0] + (*d)[1] + (*d)[2], 1.0, 1e-12);
  }
  // On time, caseworker 0 closes to the expected outcome ~90%, else to DECLARED_FIT.
  EXPECT_GT(s0, 0.8);
  EXPECT_GT(d0[2], d0[1]);
  // Late closures (expected month passed) end as expected less often: the lead matters.
  EXPECT_LT(s0_late, s0 - 0.15);
  // Caseworker 2 steers to FLEX_JOB: stays less, and switches go to FLEX_JOB.
  EXPECT_LT(s2, 0.65);
  EXPECT_GT(d2[1], 0.8);
  // Caseworker 3's two FLEX_JOB closures are shrunk toward the team: a milder habit than 2's.
  EXPECT_LT(d3[1], d2[1]);
  EXPECT_GT(s3, s2);
  EXPECT_NEAR(s3, st, 0.2);
  // The centre's stay chance for the risk, pooled over leads and caseworkers.
  EXPECT_GT(m->ExpectedOutcomeWeight(1), 0.5);
  EXPECT_LT(m->ExpectedOutcomeWeight(1), 0.9);
}

// The calibrated projection uses the habits: an open case expected to end in ORDINARY_JOB held by
// caseworker 2 is projected toward FLEX_JOB, the same case held by caseworker 0 toward
// DECLARED_FIT.
TEST(ModelsTest, CalibratedProjectionUsesTheCaseworkersOutcomeHabits) {
  History h = HabitHistory();
  const MonthIndex as_of = kStart + 36;
  for (int worker : {0, 2}) {
    CaseRecord r = Record(5000 + worker, 0, worker, as_of - 2, std::nullopt, -1);
    r.expectations.push_back(Expect(0, as_of + 1, 1, as_of - 1, worker));
    h.cases.push_back(r);
  }
  auto fitted = FittedModels::Fit(HabitCatalogue(), h, as_of);
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  std::vector<int32_t> pos;
  const Portfolio portfolio = SnapshotAt(h, as_of, &pos);
  auto projector = Projector::Create(portfolio, *fitted);
  ASSERT_TRUE(projector.ok()) << projector.status();
  double flex[2] = {0, 0}, fit[2] = {0, 0};
  for (size_t i = 0; i < portfolio.cases.size(); ++i) {
    const int64_t id = portfolio.cases[i].case_id;
    if (id != 5000 && id != 5002) continue;
    auto d = projector->Explain(static_cast<int32_t>(i), ModelKind::kCalibrated, 6);
    ASSERT_TRUE(d.ok()) << d.status();
    const int k = id == 5000 ? 0 : 1;
    for (int32_t m = 0; m < 6; ++m) {
      flex[k] += d->P(m, 1);
      fit[k] += d->P(m, 2);
    }
  }
  EXPECT_GT(fit[0], flex[0]);
  EXPECT_GT(flex[1], 3 * fit[1]);
  EXPECT_GT(flex[1], flex[0] + 0.2);
}

TEST(ModelsTest, InflowRecoversLevelAndSeason) {
  Catalogue c = SmallCatalogue();
  InflowCounts counts;
  counts.first_month = kStart;
  counts.counts.assign(2, std::vector<double>(36, 0.0));
  for (int m = 0; m < 36; ++m) {
    const int calendar = MonthOfYear(kStart + m);
    counts.counts[0][m] = calendar == 1 ? 40 : 20;  // January peak for SDP
    counts.counts[1][m] = 5;
  }
  auto inflow = InflowModel::Fit(c, counts, kStart + 36);
  ASSERT_TRUE(inflow.ok()) << inflow.status();
  EXPECT_NEAR(inflow->Expected(0, MakeMonth(2027, 1)), 40, 4.0);  // shrunk a little toward 1
  EXPECT_NEAR(inflow->Expected(0, MakeMonth(2027, 6)), 20, 1.5);
  EXPECT_NEAR(inflow->Expected(1, MakeMonth(2027, 6)), 5, 0.2);
  double mean = 0;
  for (int m = 1; m <= 12; ++m) mean += inflow->SeasonalFactor(0, m) / 12;
  EXPECT_NEAR(mean, 1.0, 1e-9);
  // Only counts before as_of are used.
  auto early = InflowModel::Fit(c, counts, kStart);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->Expected(0, kStart), 0.0);
  InflowCounts bad = counts;
  bad.counts.pop_back();
  EXPECT_EQ(InflowModel::Fit(c, bad, kStart + 36).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ModelsTest, FitsUseOnlyWhatWasKnownBeforeAsOf) {
  const History past = TrapHistory();
  const MonthIndex as_of = kStart + 9;
  History changed = past;
  for (CaseRecord& r : changed.cases) {
    // Rewrite the future: later closures end elsewhere, later expectations say anything.
    if (r.closed_month && *r.closed_month >= as_of) r.outcome = 2;
    for (Expectation& e : r.expectations) {
      if (e.recorded_month >= as_of) {
        e.expected_month += 7;
        e.risk = 2;
      }
    }
  }
  auto a = FittedModels::Fit(SmallCatalogue(), past, as_of);
  auto b = FittedModels::Fit(SmallCatalogue(), changed, as_of);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->calibration.person_months(), b->calibration.person_months());
  for (int lead = -5; lead <= 14; ++lead) {
    for (int ahead = 0; ahead < 6; ++ahead) {
      EXPECT_EQ(a->calibration.Hazard(0, 1, lead, ahead, 0, 1),
                b->calibration.Hazard(0, 1, lead, ahead, 0, 1));
    }
  }
  for (int d = 0; d < 12; ++d) {
    EXPECT_EQ(a->baseline.Hazard(0, d), b->baseline.Hazard(0, d));
    EXPECT_EQ(a->baseline.OutcomeShare(0, d, 2), b->baseline.OutcomeShare(0, d, 2));
  }
  EXPECT_EQ(a->calibration.MeanSlip(1), b->calibration.MeanSlip(1));
}

TEST(ModelsTest, SnapshotReconstructsThePast) {
  History h = TrapHistory();
  const MonthIndex as_of = kStart + 8;
  std::vector<int32_t> positions;
  const Portfolio p = SnapshotAt(h, as_of, &positions);
  ASSERT_EQ(p.cases.size(), positions.size());
  ASSERT_FALSE(p.cases.empty());
  for (size_t i = 0; i < p.cases.size(); ++i) {
    const CaseRecord& r = h.cases[positions[i]];
    EXPECT_LT(r.opened_month, as_of);
    EXPECT_GE(*r.closed_month, as_of);
    ASSERT_TRUE(p.cases[i].expectation.has_value());
    EXPECT_LT(p.cases[i].expectation->recorded_month, as_of);
  }
  EXPECT_TRUE(ValidatePortfolio(SmallCatalogue(), p).ok());
}

}  // namespace
}  // namespace forecasting
