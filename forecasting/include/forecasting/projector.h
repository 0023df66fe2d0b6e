// Projections for a scope (any set of open cases): expected closures per month and outcome, and
// the open caseload per month, each with an 80% interval; and per-case distributions.
//
// Cost is linear in the cases of the scope. Cases that share a model profile (as planned: case
// type, risk, lead time and expected outcome; calibrated: caseworker, case type, risk, lead
// bucket and expected outcome; baseline: case type and duration) are grouped first, their
// distribution is computed once as one column of an Eigen array, and the columns are reduced with
// their multiplicities. Intervals treat cases as independent (see count_distribution.h for the
// method per figure).
//
// How each model spreads a case over months h = 0 (the rest of as_of_month), 1, ... and outcomes:
//  - as planned: the expected month gets the risk's probability (Catalogue::risk_probability) to
//    the expected outcome. When the expected month has already passed and the case is still
//    open, that probability goes to the current month (as planned, the overdue step is carried
//    out now; Projection::passed_horizon counts these cases). The rest closes geometrically
//    from the month after, at the case type's mean baseline hazard, with the type's outcome mix.
//    Nothing closes before the expected month: this is the view "if every planned step is carried
//    out". An expected month beyond the horizon keeps the case open throughout.
//  - calibrated: the learned probability of closing k months after today given the expectation
//    in force (lead shifted by the caseworker's slip, risk, type) and the caseworker's factor;
//    the outcome follows the outcome habits (CalibrationModel::OutcomeHabits): the expected one
//    with the chance learned by risk, that month's lead and caseworker, else where that
//    caseworker's, team's and centre's closures of the type and expected outcome went.
//  - baseline: competing-risks hazards by case type and duration.
// Cases without an expectation follow the baseline in every model.
//
// Open caseload at the end of month h = today's cases still open + new cases still open, where
// new cases arrive as Poisson(inflow) and stay open per the baseline survival of their type.
#ifndef FORECASTING_PROJECTOR_H_
#define FORECASTING_PROJECTOR_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "forecasting/count_distribution.h"
#include "forecasting/inputs.h"
#include "forecasting/models.h"

namespace forecasting {

inline constexpr int32_t kMaxHorizonMonths = 60;

// Forecast categories, in the manner of a sales forecast's commit / best case / pipeline: each
// open case falls in one category by the risk its caseworker recorded, read through the
// probability the job centre gives that risk (Catalogue::risk_probability, by default low 0.85,
// medium 0.60, high 0.35):
//  - kSafe ("sikker"): the risk's probability is at least kSafeRiskProbability (low risk);
//  - kLikely ("sandsynlig"): at least kLikelyRiskProbability (medium risk);
//  - kPossible ("mulig"): below that (high risk), or no expectation recorded (nobody has
//    committed to the case).
// A category is the caseworker's judgement; the amounts in it are the model's. So a category's
// closures are what the projected model expects from the cases in it: a low-risk case of a
// caseworker whose low-risk cases tend to slip adds less to "sikker" under the calibrated model.
// A case keeps its category in every month, so a category's months add up to its 3- and 12-month
// figures, and the categories add up to the total in every month.
enum class ForecastCategory : int32_t { kSafe = 0, kLikely = 1, kPossible = 2 };
inline constexpr int32_t kNumCategories = 3;
inline constexpr double kSafeRiskProbability = 0.75;
inline constexpr double kLikelyRiskProbability = 0.5;

// A figure with its central interval (p10, p90 bound the 80% interval).
struct Estimate {
  double expected = 0;
  double p10 = 0;
  double p90 = 0;
};

struct ProjectionRequest {
  ModelKind model = ModelKind::kAsPlanned;
  int32_t horizon_months = 12;  // 1..kMaxHorizonMonths
  // New cases flowing into the scope (fitted on the scope's own inflow); null: no inflow. New
  // cases stay open per the baseline survival of their case type.
  const InflowModel* inflow = nullptr;
  bool with_intervals = true;  // false: expected values only (p10 = p90 = expected)
  // true: intervals include the shocks that move every case in a month together (their size
  // fitted by the baseline, growing with the months ahead for parameter uncertainty), and a
  // small count's interval is the one whose own probability is nearest 80% (see CountSum).
  // false: cases independent, [q(0.1), q(0.9)] of their exact Poisson-binomial.
  bool honest_intervals = true;
  // true: also split today's cases' closures (all outcomes) by forecast category
  // (Projection::category_closures and category_cumulative), each interval computed like the
  // total's (same shocks and small-count rule). Three extra matrix-vector products over the
  // 2 x horizon monthly and cumulative rows: lost in the noise up to 100k cases, about a sixth
  // more at 1M calibrated cases (README, forecasting_benchmark BM_CalibratedCategories).
  bool categories = false;
};

// Closures and caseload by month; month offset h is month first_month + h.
struct Projection {
  ModelKind model = ModelKind::kAsPlanned;
  MonthIndex first_month = 0;
  int32_t horizon_months = 0;
  int32_t num_outcomes = 0;
  int64_t open_cases = 0;  // open cases in scope at the start
  int64_t cases_with_expectation = 0;
  int64_t cases_without_expectation = 0;  // projected by the baseline in every model
  int64_t passed_horizon = 0;             // expected month already past, still open
  // Closures of today's open cases: (num_outcomes + 1) per month, the last one all outcomes.
  std::vector<Estimate> closures;
  std::vector<Estimate> cumulative_closures;  // all outcomes, by the end of each month
  std::vector<Estimate> inflow;               // new cases per month (Poisson)
  // Closures of the cases opening during the horizon (inflow x baseline hazards; Poisson), all
  // outcomes, per month; zero without inflow. Not part of `closures`.
  std::vector<Estimate> new_closures;
  // Their expected value by month and outcome: [h * num_outcomes + o] (each a Poisson mean).
  std::vector<double> new_closures_by_outcome;
  // All closures per month: today's cases (`closures`, all outcomes) plus the new cases'.
  std::vector<Estimate> total_closures;
  // Open cases at the end of each month: today's cases still open plus new cases still open.
  std::vector<Estimate> open;
  double still_open_at_horizon = 0;  // expected, of today's cases
  // How many figures used each interval method (exact, binned, skew-normal).
  int64_t method_counts[3] = {0, 0, 0};
  // With ProjectionRequest::categories: today's cases' closures, all outcomes, by forecast
  // category: in month h ([h * kNumCategories + c]) and by the end of month h (cumulative). The
  // expected values of the categories add up to closures' all-outcomes figure and to
  // cumulative_closures of the same month; the intervals are each category's own.
  std::vector<Estimate> category_closures;
  std::vector<Estimate> category_cumulative;
  int64_t category_cases[kNumCategories] = {0, 0, 0};  // open cases in each category

  const Estimate& CategoryClosures(int32_t h, ForecastCategory c) const {
    return category_closures[static_cast<size_t>(h) * kNumCategories + static_cast<int32_t>(c)];
  }
  const Estimate& CategoryCumulative(int32_t h, ForecastCategory c) const {
    return category_cumulative[static_cast<size_t>(h) * kNumCategories + static_cast<int32_t>(c)];
  }

  // The closures estimate of month offset h and outcome o (o == num_outcomes: all outcomes).
  const Estimate& Closures(int32_t h, OutcomeIndex o) const {
    return closures[static_cast<size_t>(h) * (num_outcomes + 1) + o];
  }
};

// One case's distribution: probability of closing in each month to each outcome, and of being
// still open after the horizon; the entries sum to 1.
struct CaseDistribution {
  int64_t case_id = 0;
  ModelKind model = ModelKind::kAsPlanned;
  MonthIndex first_month = 0;
  int32_t horizon_months = 0;
  int32_t num_outcomes = 0;
  std::vector<double> probability;  // [h * num_outcomes + o]
  double still_open_at_horizon = 0;
  std::vector<std::string> reasons;  // plain English, with the catalogue's codes
  // The same reasons as data, for clients to phrase in their language: a code ("EXPECTED",
  // "AS_PLANNED", ...) and its parameters (catalogue codes, months "YYYY-MM", shares 0..1).
  struct Reason {
    std::string code;
    std::vector<std::pair<std::string, std::string>> params;
  };
  std::vector<Reason> reason_details;

  double P(int32_t h, OutcomeIndex o) const {
    return probability[static_cast<size_t>(h) * num_outcomes + o];
  }
};

// The forecast category of a risk with this probability (see ForecastCategory). Pure.
ForecastCategory RiskCategory(double risk_probability);

// The forecast category of an open case (see ForecastCategory). The catalogue must be valid for
// the case (ValidatePortfolio). Pure; thread-safe.
ForecastCategory CategoryOf(const Catalogue& catalogue, const OpenCase& c);

// Projects a portfolio with fitted models. Holds references: the portfolio and the models must
// outlive the projector. Const member functions are thread-safe (no shared mutable state).
class Projector {
 public:
  // Validates the portfolio against the models' catalogue. INVALID_ARGUMENT naming the case and
  // field. The models should be fitted as of the portfolio's month (or shortly before).
  static absl::StatusOr<Projector> Create(const Portfolio& portfolio, const FittedModels& models);

  // Projects the cases at `case_positions` (indices into portfolio.cases; duplicates are counted
  // twice). INVALID_ARGUMENT for a position out of range or a bad horizon.
  absl::StatusOr<Projection> Project(absl::Span<const int32_t> case_positions,
                                     const ProjectionRequest& request) const;
  // Projects every open case.
  absl::StatusOr<Projection> ProjectAll(const ProjectionRequest& request) const;

  // One case's distribution and the reasons behind it. INVALID_ARGUMENT for a bad position or
  // horizon.
  absl::StatusOr<CaseDistribution> Explain(int32_t case_position, ModelKind model,
                                           int32_t horizon_months) const;

  // Per-case distributions as columns: (num_outcomes * horizon + 1) x positions.size(); row
  // h * num_outcomes + o is P(close in month h to o), the last row P(still open). For drill-down
  // and backtests; memory grows with cases x horizon x outcomes, so keep the set small.
  absl::StatusOr<Eigen::MatrixXd> Distributions(absl::Span<const int32_t> case_positions,
                                                ModelKind model, int32_t horizon_months) const;

  const Portfolio& portfolio() const { return *portfolio_; }
  const FittedModels& models() const { return *models_; }

 private:
  Projector(const Portfolio* portfolio, const FittedModels* models)
      : portfolio_(portfolio), models_(models) {}
  const Portfolio* portfolio_;
  const FittedModels* models_;
};

}  // namespace forecasting

#endif  // FORECASTING_PROJECTOR_H_
