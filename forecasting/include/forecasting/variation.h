// Variation between caseworkers: each caseworker's share of open cases expected to end in each
// outcome against the rest of the team, and how late their expectations turn out to be.
//
// The comparison is made within case type, so that a caseworker's case mix does not pass for a
// habit: the expected share is the team's share in each case type weighted by the caseworker's
// own cases of that type, and the test compares the caseworker with the rest of the team in each
// case type at once (the exact conditional test over the case types' 2x2 tables; with one case
// type it is Fisher's exact test).
#ifndef FORECASTING_VARIATION_H_
#define FORECASTING_VARIATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "forecasting/inputs.h"
#include "forecasting/models.h"

namespace forecasting {

struct VariationOptions {
  double interval = 0.8;       // central mass of the share's interval (Wilson score)
  double significance = 0.05;  // two-sided level for the flag
  int64_t small_sample = 10;   // n below this: small_sample, never flagged
};

struct OutcomeShare {
  CaseworkerIndex caseworker = 0;
  OutcomeIndex outcome = 0;
  int64_t n = 0;      // the caseworker's open cases with an expectation
  int64_t count = 0;  // of which expected to end in this outcome
  double share = 0;
  double low = 0, high = 0;  // Wilson interval of the share
  double team_share = 0;     // the whole team's share (all its caseworkers)
  // sum over case types t of n_t x (the whole team's share in t), / n, where n_t is the
  // caseworker's cases of type t: the share the case mix alone leads one to expect.
  double expected_share = 0;
  // Two-sided test against the rest of the team within case type (StratifiedExactTwoSided over
  // one 2x2 table per case type).
  double p_value = 1;
  bool flagged = false;  // p_value < significance and not small_sample
  // The same without case type (Fisher's exact test on the pooled table): what the comparison
  // would say if case mix were ignored.
  double p_value_without_case_type = 1;
  bool flagged_without_case_type = false;
  bool small_sample = false;
};

struct CaseworkerCalibration {
  CaseworkerIndex caseworker = 0;
  double mean_slip_months = 0;  // shrunk toward the team: how much later than expected cases close
  double raw_slip_months = 0;
  double weight = 0;          // in-force months behind the raw figure
  bool small_sample = false;  // weight below 12 in-force months
};

struct Variation {
  std::vector<OutcomeShare> shares;  // per caseworker x outcome, caseworkers in first-seen order
  std::vector<CaseworkerCalibration> calibration;  // per caseworker
  int64_t n = 0;                                   // open cases with an expectation in the scope
};

// Compares the caseworkers among the open cases at `case_positions` (usually one team's). The
// comparison for each caseworker is against the other cases in the set. `calibration` supplies
// the slip figures. INVALID_ARGUMENT for bad positions or options. Pure; thread-safe.
absl::StatusOr<Variation> CompareCaseworkers(const Portfolio& portfolio,
                                             absl::Span<const int32_t> case_positions,
                                             const Catalogue& catalogue,
                                             const CalibrationModel& calibration,
                                             const VariationOptions& options = {});

// A 2x2 table [[a, b], [c, d]].
struct Table2x2 {
  int64_t a = 0, b = 0, c = 0, d = 0;
};

// Two-sided exact test of no association in every stratum, conditional on each table's margins:
// the sum of the a cells follows the convolution of the strata's hypergeometric distributions;
// the p-value adds the sums no more probable than the observed one. One stratum: Fisher's exact
// test. Pure; thread-safe.
double StratifiedExactTwoSided(absl::Span<const Table2x2> strata);

// Wilson score interval of k successes in n at central mass `interval`. Pure; thread-safe.
void WilsonInterval(int64_t k, int64_t n, double interval, double* low, double* high);

// Two-sided Fisher exact test p-value for the 2x2 table [[a, b], [c, d]]. Pure; thread-safe.
double FisherExactTwoSided(int64_t a, int64_t b, int64_t c, int64_t d);

}  // namespace forecasting

#endif  // FORECASTING_VARIATION_H_
