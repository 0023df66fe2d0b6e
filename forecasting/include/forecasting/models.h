// The models: as planned, calibrated, baseline (competing risks) and inflow.
//
// Every model is fitted "as of" a month from a History, using only what was known before that
// month began, and is immutable afterwards: const member functions are thread-safe.
#ifndef FORECASTING_MODELS_H_
#define FORECASTING_MODELS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "forecasting/inputs.h"
#include "forecasting/month.h"

namespace forecasting {

enum class ModelKind {
  kAsPlanned = 1,   // every planned step carried out: expected outcome in expected month, by risk
  kCalibrated = 2,  // as planned, corrected by how reality has departed from expectations
  kBaseline = 3,    // competing-risks hazards by case type and duration
};

// Stable lower-case key, e.g. "as_planned". Pure; thread-safe.
const char* ModelKey(ModelKind kind);

struct FitOptions {
  // Baseline: durations (months since opening) modelled one by one; older cases share the last.
  int32_t max_duration_months = 48;
  // Baseline: prior strength (person-months) pulling a (type, duration) hazard toward the
  // type's pooled hazard over neighbouring durations, and that toward the centre's.
  double baseline_pooling = 20.0;
  // Calibration: prior strength (expected closures) pulling a team's factor per (lead bucket,
  // months-ahead band) toward 1 and a caseworker's toward the team's (Poisson-gamma shrinkage of
  // observed / expected).
  double calibration_pooling = 8.0;
  // Calendar: prior strength (closures) pulling a month-of-year factor toward the broader one
  // (type toward centre, centre toward 1). 0 switches the calendar off.
  double calendar_pooling = 40.0;
  // Calibration: prior strength (case-months) pulling a (risk, lead, type, months ahead) hazard
  // toward the same pooled over types, and that toward the same pooled over risks.
  double hazard_pooling = 30.0;
  // Intervals: the shared monthly shocks' squared relative size is the in-sample estimate (at
  // least month_shock_floor) times month_shock_scale: in-sample residuals miss the parameters'
  // own error and their drift, so the scale is set by the accuracy harness's coverage.
  double month_shock_floor = 0.002;
  double month_shock_scale = 2.0;
  // Calibration: a caseworker whose cases close later (earlier) than the centre's relative to
  // their expectations has their leads shifted by that (shrunk) slip before the centre's
  // hazards are read. false: no shift (the factors alone).
  bool slip_shift = true;
  // Inflow: months of history used (the most recent ones before as_of).
  int32_t inflow_window_months = 36;
};

// Months ahead modelled one by one by the calibration; later months share the last slot.
constexpr int32_t kCalibrationAheadSlots = 25;

// Lead buckets of the calibration: lead = expected month - current month, grouped as
// <=-6, -5, -4, ..., 18 (one by one), 19-24, >=25. Pure; thread-safe.
constexpr int32_t kNumLeadBuckets = 27;
// Leads at or below the first share bucket 0; leads at or above the last share the last bucket.
constexpr int32_t kFirstBucketLead = -6;
constexpr int32_t kLastBucketLead = 25;
int32_t LeadBucket(int32_t lead_months);

// A caseworker's lead shift is at most this many months either way (CalibrationModel::LeadShift).
constexpr double kMaxLeadShift = 6.0;

// Lead bands of the outcome habits, by the lead in the closing month (expected month - closing
// month): 0 passed (< 0), 1 due (0), 2 early by 1-2 months, 3 early by 3 or more. Pure;
// thread-safe.
constexpr int32_t kOutcomeLeadBands = 4;
int32_t OutcomeLeadBand(int32_t lead_at_closure);

// Discrete-time competing risks by case type and duration: the cause-specific hazard of closing
// to each outcome in a month, given the case is open at its start and has been open d months.
// Aalen-Johansen: P(close to o in month d) = S(d) * h_o(d), S(d+1) = S(d) * (1 - sum_o h_o(d)).
class BaselineModel {
 public:
  // Fits from every case month observed before `as_of_month` (closed and censored cases).
  // INVALID_ARGUMENT for bad input (see ValidateHistory). Thread-safe.
  static absl::StatusOr<BaselineModel> Fit(const Catalogue& catalogue, const History& history,
                                           MonthIndex as_of_month, const FitOptions& options = {});

  // Probability of closing in a month at `duration` months since opening (any outcome).
  double Hazard(CaseTypeIndex type, int32_t duration) const;
  // Probability of outcome `o` given closure at `duration`; sums to 1 over outcomes.
  double OutcomeShare(CaseTypeIndex type, int32_t duration, OutcomeIndex o) const;
  // The type's mean monthly hazard over all durations (closures / person-months, pooled).
  double TypeHazard(CaseTypeIndex type) const;
  // The type's overall outcome mix among closures (all durations); sums to 1.
  double OutcomeMix(CaseTypeIndex type, OutcomeIndex o) const;
  // Person-months behind the (type, duration) cell, for small-sample flags.
  double Exposure(CaseTypeIndex type, int32_t duration) const;

  // Calendar: the month-of-year factor (calendar month 1..12) on the type's hazard, observed /
  // expected closures in that calendar month, the type's shrunk toward the centre's and that
  // toward 1 where closures are few.
  double CalendarFactor(CaseTypeIndex type, int calendar_month) const;
  // The month-of-year factor on outcome o's share among closures (shrunk toward 1).
  double CalendarOutcomeFactor(int calendar_month, OutcomeIndex o) const;
  // The hazard in calendar month `month` (Hazard times CalendarFactor, at most 0.95).
  double HazardIn(CaseTypeIndex type, int32_t duration, MonthIndex month) const;
  // The outcome shares of a closure in `month` (OutcomeShare times CalendarOutcomeFactor,
  // renormalised), written to shares[0..num_outcomes).
  void OutcomeSharesIn(CaseTypeIndex type, int32_t duration, MonthIndex month,
                       double* shares) const;
  // The squared relative size of the shocks that move every case's hazard together in a month
  // (the centre's monthly closures vary by more than independent cases would): var / mean^2 of
  // the centre's monthly closures in the fit window beyond the Poisson part (method of moments,
  // at least 0). Intervals add (sd * figure)^2 per month.
  double MonthShockVariance() const { return month_shock_variance_; }

  int32_t num_outcomes() const { return num_outcomes_; }
  int32_t max_duration() const { return max_duration_; }

 public:
  // An empty model: every accessor returns 0. Use Fit.
  BaselineModel() = default;

 private:
  int32_t num_types_ = 0, num_outcomes_ = 0, max_duration_ = 0;
  std::vector<double> hazard_;            // [type][duration]
  std::vector<double> outcome_share_;     // [type][duration][outcome]
  std::vector<double> outcome_mix_;       // [type][outcome]
  std::vector<double> type_hazard_;       // [type]
  std::vector<double> exposure_;          // [type][duration]
  std::vector<double> calendar_;          // [type][12]
  std::vector<double> calendar_outcome_;  // [12][outcome]
  double month_shock_variance_ = 0;
};

// Calibration: how reality departs from recorded expectations. Learned from every expectation
// while it was in force (not only the last one before closure, which is usually written in the
// closing month itself): for every case and month t, the expectation in force at the start of
// t, its lead (expected month - t) and risk, and when the case then closed (open cases are
// censored). From these, the probability of closing k months later given still open then, by
// (risk, lead bucket, case type, k), pooled over types and risks where thin; times a factor per
// team and per caseworker by (lead bucket, band of k) (observed / expected closures, shrunk
// toward the team, the team toward the centre), which captures caseworkers whose cases close
// systematically later (or earlier) than they expect. Expected months already past while the
// case is open are leads below zero: information, not noise. Holding today's expectation and
// asking "k months later" (rather than replaying the lead month by month) lets the later updates
// of expectations be part of what is learned.
class CalibrationModel {
 public:
  // Fits from person-months before `as_of_month`. INVALID_ARGUMENT for bad input. Thread-safe.
  static absl::StatusOr<CalibrationModel> Fit(const Catalogue& catalogue, const History& history,
                                              MonthIndex as_of_month,
                                              const FitOptions& options = {});

  // Probability that a case closes in the month `months_ahead` after a month t in which the
  // expectation in force had `lead` = expected month - t (negative: passed), given it is still
  // open then; for the caseworker (or, when unknown (-1), the team). In (0, 0.95].
  double Hazard(CaseTypeIndex type, RiskIndex risk, int32_t lead, int32_t months_ahead,
                TeamIndex team, CaseworkerIndex caseworker) const;
  // The same at a lead already shifted by the caseworker's slip (see LeadShift).
  double ShiftedHazard(CaseTypeIndex type, RiskIndex risk, int32_t shifted_lead,
                       int32_t months_ahead, TeamIndex team, CaseworkerIndex caseworker) const;
  // The same in calendar month `month` (the month of the step) for an expectation of outcome
  // `expected`: times CalendarFactor.
  double HazardIn(CaseTypeIndex type, RiskIndex risk, int32_t lead, int32_t months_ahead,
                  TeamIndex team, CaseworkerIndex caseworker, OutcomeIndex expected,
                  MonthIndex month) const;
  // q[h] = P(closes in month first + h), h < horizon, for a case whose expectation has `lead`
  // = expected month - first: the shifted-lead hazards with the calendar, the caseworker's
  // fractional shift as a mixture of the two whole-month shifts around it.
  void ClosureCurve(CaseTypeIndex type, RiskIndex risk, int32_t lead, TeamIndex team,
                    CaseworkerIndex caseworker, OutcomeIndex expected, MonthIndex first,
                    int32_t horizon, double* q) const;
  // Months added to the caseworker's leads: their shrunk mean slip minus the centre's (0 for
  // an unknown caseworker or with FitOptions::slip_shift off).
  double LeadShift(CaseworkerIndex caseworker) const;
  // The month-of-year factor (calendar month 1..12) on the hazards of the type's cases expected
  // to end in `expected`: observed / expected closures in that calendar month, shrunk toward
  // the centre's, that toward 1.
  double CalendarFactor(CaseTypeIndex type, OutcomeIndex expected, int calendar_month) const;
  // Probability that a closure ends in the expected outcome, for the risk (centre, all leads).
  double ExpectedOutcomeWeight(RiskIndex risk) const;
  // Outcome habits, a confusion matrix row: returns the chance that a closure ends in the
  // `expected` outcome when the expectation in force in the closing month had
  // `lead_at_closure` (= expected month - closing month), by risk and lead (centre) times the
  // caseworker's factor (shrunk toward the team's, that toward 1; the team's when caseworker is
  // -1); writes to destination[0..num_outcomes) where it ends when not (0 at `expected`, sums
  // to 1): by type and expected outcome, times the caseworker's ratio per outcome (shrunk the
  // same way), e.g. a caseworker who steers cases to FLEX_JOB.
  double OutcomeHabits(CaseTypeIndex type, RiskIndex risk, OutcomeIndex expected,
                       int32_t lead_at_closure, TeamIndex team, CaseworkerIndex caseworker,
                       double* destination) const;
  // The caseworker's (shrunk) factor on the centre hazard this month for an expectation with
  // this lead; 1 = like the centre.
  double CaseworkerFactor(CaseworkerIndex caseworker, int32_t lead) const;

  // Mean slip in months (actual closure month - expected month) of the caseworker's
  // expectations on closed cases, each weighted by the months it was in force, with passed
  // horizons of still-open cases as lower bounds; shrunk toward the team's mean.
  double MeanSlip(CaseworkerIndex caseworker) const;
  // The same before shrinkage, and the in-force months behind it.
  double RawMeanSlip(CaseworkerIndex caseworker) const;
  double SlipWeight(CaseworkerIndex caseworker) const;
  double TeamMeanSlip(TeamIndex team) const;

  // Person-months with an expectation in force that the fit used.
  int64_t person_months() const { return person_months_; }

 public:
  // An empty model: hazards and slips 0, factors 1. Use Fit.
  CalibrationModel() = default;

 private:
  friend class CalibrationFitter;
  int32_t num_types_ = 0, num_outcomes_ = 0, num_risks_ = 0, num_teams_ = 0, num_caseworkers_ = 0;
  std::vector<double> hazard_;             // [risk][lead bucket][type][months ahead slot]
  std::vector<double> team_factor_;        // [team][lead bucket x ahead band]
  std::vector<double> caseworker_factor_;  // [caseworker][lead bucket x ahead band], vs the centre
  std::vector<double> expected_weight_;    // [risk]
  std::vector<double> stay_;               // [risk][outcome lead band]
  std::vector<double> stay_team_, stay_worker_;    // [team], [caseworker] factors on stay_
  std::vector<double> destination_;                // [type][expected][outcome]
  std::vector<double> habit_team_, habit_worker_;  // [team|caseworker][outcome] ratios
  std::vector<double> calendar_;                   // [type][expected outcome][12]
  std::vector<double> slip_, raw_slip_, slip_weight_, team_slip_;
  std::vector<double> shift_;  // [caseworker] months added to leads
  int64_t person_months_ = 0;
};

// Seasonal inflow of new cases per case type: the type's monthly level over the recent window
// times a month-of-year factor (shrunk toward 1 where data is thin). Counts are Poisson.
class InflowModel {
 public:
  // Fits from counts in months before `as_of_month`. An empty InflowCounts gives zero inflow.
  // INVALID_ARGUMENT when counts have the wrong number of case types. Thread-safe.
  static absl::StatusOr<InflowModel> Fit(const Catalogue& catalogue, const InflowCounts& counts,
                                         MonthIndex as_of_month, const FitOptions& options = {});

  // Expected new cases of `type` in month `m`.
  double Expected(CaseTypeIndex type, MonthIndex m) const;
  // The month-of-year factor (mean 1 over the year) for `type` and calendar month 1..12.
  double SeasonalFactor(CaseTypeIndex type, int calendar_month) const;
  int32_t num_case_types() const { return static_cast<int32_t>(level_.size()); }

 public:
  // No inflow; use Fit.
  InflowModel() = default;

 private:
  std::vector<double> level_;     // [type] mean per month, deseasonalised
  std::vector<double> seasonal_;  // [type][12]
};

// All models fitted as of one month, ready for projecting. Immutable; thread-safe to share.
struct FittedModels {
  MonthIndex as_of_month = 0;
  Catalogue catalogue;
  BaselineModel baseline;
  CalibrationModel calibration;
  InflowModel inflow;

  // Fits every model from `history` as of `as_of_month`. INVALID_ARGUMENT for bad input
  // (catalogue or history), naming the field. Thread-safe.
  static absl::StatusOr<FittedModels> Fit(const Catalogue& catalogue, const History& history,
                                          MonthIndex as_of_month, const FitOptions& options = {});
};

}  // namespace forecasting

#endif  // FORECASTING_MODELS_H_
