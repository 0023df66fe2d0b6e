// Small hand-made catalogues and histories for the forecasting tests.
#ifndef TESTS_FORECASTING_TEST_PORTFOLIOS_H_
#define TESTS_FORECASTING_TEST_PORTFOLIOS_H_

#include "forecasting/inputs.h"

namespace forecasting::testing {

// Two case types, three outcomes, risks LOW/MEDIUM/HIGH at 0.8/0.5/0.25, one team of three
// caseworkers.
inline Catalogue SmallCatalogue() {
  Catalogue c;
  c.case_types = {"SDP", "JAF"};
  c.outcomes = {"ORDINARY_JOB", "FLEX_JOB", "DECLARED_FIT"};
  c.risks = {"LOW", "MEDIUM", "HIGH"};
  c.risk_probability = {0.8, 0.5, 0.25};
  c.num_teams = 1;
  c.caseworker_team = {0, 0, 0};
  return c;
}

inline Expectation Expect(OutcomeIndex outcome, MonthIndex month, RiskIndex risk,
                          MonthIndex recorded, CaseworkerIndex by = -1) {
  Expectation e;
  e.expected_outcome = outcome;
  e.expected_month = month;
  e.risk = risk;
  e.recorded_month = recorded;
  e.recorded_by = by;
  return e;
}

inline OpenCase Open(int64_t id, CaseTypeIndex type, CaseworkerIndex worker, MonthIndex opened) {
  OpenCase c;
  c.case_id = id;
  c.case_type = type;
  c.team = 0;
  c.caseworker = worker;
  c.opened_month = opened;
  return c;
}

}  // namespace forecasting::testing

#endif  // TESTS_FORECASTING_TEST_PORTFOLIOS_H_
