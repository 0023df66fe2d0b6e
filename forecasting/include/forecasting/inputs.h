// What the models read: the job centre's catalogue, today's open cases and the case history.
//
// Codes (case types, outcomes, risks, teams, caseworkers) are small integer indices into the
// catalogue; the caller maps its string codes to indices once. All structs are plain values:
// copy them freely, share them read-only between threads.
#ifndef FORECASTING_INPUTS_H_
#define FORECASTING_INPUTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "forecasting/month.h"

namespace forecasting {

using CaseTypeIndex = int32_t;
using OutcomeIndex = int32_t;
using RiskIndex = int32_t;
using TeamIndex = int32_t;
using CaseworkerIndex = int32_t;

// The job centre's catalogues. Only sizes and numbers matter to the models; the codes are kept
// for readable reasons ("expected FLEX_JOB in 2026-12") and may be left empty.
struct Catalogue {
  std::vector<std::string> case_types;  // index -> code, e.g. "SDP"
  std::vector<std::string> outcomes;    // index -> code, e.g. "FLEX_JOB"
  std::vector<std::string> risks;       // index -> code, e.g. "LOW"
  // Per risk: the probability that a case closes to its expected outcome in its expected month
  // ("as planned"). Each in (0, 1].
  std::vector<double> risk_probability;
  int32_t num_teams = 0;
  // Per caseworker: its team (index < num_teams). Its size is the number of caseworkers.
  std::vector<TeamIndex> caseworker_team;

  int32_t num_case_types() const { return static_cast<int32_t>(case_types.size()); }
  int32_t num_outcomes() const { return static_cast<int32_t>(outcomes.size()); }
  int32_t num_risks() const { return static_cast<int32_t>(risks.size()); }
  int32_t num_caseworkers() const { return static_cast<int32_t>(caseworker_team.size()); }
};

// The default catalogue of DESIGN.md: case types SDP JAF RF KHJ KHA DP UDH INT, outcomes
// ORDINARY_JOB .. OTHER, risks LOW MEDIUM HIGH with as-planned probabilities 0.8, 0.5, 0.25.
// Teams and caseworkers are left empty for the caller to fill. Pure; thread-safe.
Catalogue DefaultCatalogue();

// Checks sizes and ranges (non-empty catalogues, probabilities in (0, 1], teams in range).
// Returns INVALID_ARGUMENT naming the field. Pure; thread-safe.
absl::Status ValidateCatalogue(const Catalogue& catalogue);

// A forward-looking expectation for a case: it will close to `expected_outcome` in
// `expected_month`, with `risk`. Recorded in `recorded_month` by `recorded_by` (a caseworker
// index, or -1 when unknown: then the case's caseworker is assumed).
struct Expectation {
  OutcomeIndex expected_outcome = 0;
  MonthIndex expected_month = 0;
  RiskIndex risk = 0;
  MonthIndex recorded_month = 0;
  CaseworkerIndex recorded_by = -1;
};

// A case open at the snapshot, with the expectation in force (the latest recorded), if any.
struct OpenCase {
  int64_t case_id = 0;  // the caller's key; not interpreted
  CaseTypeIndex case_type = 0;
  TeamIndex team = 0;
  CaseworkerIndex caseworker = 0;
  MonthIndex opened_month = 0;
  std::optional<Expectation> expectation;
  bool action_overdue = false;
};

// Today's open cases. Projections cover months as_of_month, as_of_month + 1, ...: month 0 is the
// rest of the current month. An expectation whose expected_month < as_of_month has a passed
// horizon (the case is still open although it was expected to close).
struct Portfolio {
  MonthIndex as_of_month = 0;
  std::vector<OpenCase> cases;
};

// One case's whole history, closed or still open. Expectations in the order recorded (ascending
// recorded_month; several in one month: the last one wins).
struct CaseRecord {
  int64_t case_id = 0;
  CaseTypeIndex case_type = 0;
  TeamIndex team = 0;              // current team
  CaseworkerIndex caseworker = 0;  // current caseworker
  MonthIndex opened_month = 0;
  std::optional<MonthIndex> closed_month;  // none: still open (censored)
  OutcomeIndex outcome = -1;               // set when closed
  std::vector<Expectation> expectations;
};

// New cases per month and case type: counts(t, m) for case type t in month first_month + m.
struct InflowCounts {
  MonthIndex first_month = 0;
  std::vector<std::vector<double>> counts;  // [case type][month offset]

  int32_t num_months() const { return counts.empty() ? 0 : static_cast<int32_t>(counts[0].size()); }
};

// Everything known about the past. Models fitted "as of" a month use only what was known before
// that month began, so one History serves any backtest origin.
struct History {
  std::vector<CaseRecord> cases;
  InflowCounts inflow;
  // The first month whose closures are all in the history. Exports usually hold the cases open
  // at some date and everything after it, so cases that closed earlier are missing; counting the
  // survivors' earlier months would bias hazards down (left truncation). Months before it are
  // ignored by the fits. None: the earliest closure month in the history.
  std::optional<MonthIndex> observed_from;
};

// history.observed_from, or the earliest closure month (the earliest opening when nothing has
// closed). Pure; thread-safe.
MonthIndex ObservedFrom(const History& history);

// Checks every index against the catalogue, closure after opening, outcome set iff closed,
// expectations in order. INVALID_ARGUMENT names the case id and the field. Pure; thread-safe.
absl::Status ValidateHistory(const Catalogue& catalogue, const History& history);

// Checks every open case against the catalogue and that it opened no later than as_of_month.
// INVALID_ARGUMENT names the case id and the field. Pure; thread-safe.
absl::Status ValidatePortfolio(const Catalogue& catalogue, const Portfolio& portfolio);

// The open cases as they stood at the start of `as_of_month`, reconstructed from the history:
// opened before as_of_month and not closed before it, with the latest expectation recorded
// before as_of_month. Current team and caseworker are used (re-assignments are not replayed).
// `case_id` is copied; the i-th open case's position in history is written to
// `history_positions` when non-null. Pure; thread-safe.
Portfolio SnapshotAt(const History& history, MonthIndex as_of_month,
                     std::vector<int32_t>* history_positions = nullptr);

// Monthly inflow by case type, counted from the cases' opening months over
// [first_month, last_month] (inclusive); only the cases at `positions` when non-null.
// Pure; thread-safe.
InflowCounts InflowFromHistory(const Catalogue& catalogue, const std::vector<CaseRecord>& cases,
                               MonthIndex first_month, MonthIndex last_month,
                               const std::vector<int32_t>* positions = nullptr);

}  // namespace forecasting

#endif  // FORECASTING_INPUTS_H_
