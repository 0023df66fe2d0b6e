// A synthetic job centre with years of history, deterministic for a seed: departments > teams >
// caseworkers holding 30-50 open cases, case types with different durations and outcome mixes,
// seasonal inflow, caseworkers with different optimism (systematic slip of their expected
// months) and outcome habits (some steer cases to FLEX_JOB), expectations updated about monthly
// (often in dialogues with the team leader), risk, actions and re-assignments.
//
// Codes follow the default catalogue of DESIGN.md. Case references look like "S-000123" (never
// CPR-like); teams "T01", departments "D1", caseworkers "CW0101" (team 01, number 01).
#ifndef FORECASTING_SYNTHETIC_H_
#define FORECASTING_SYNTHETIC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "forecasting/inputs.h"

namespace forecasting {

struct SyntheticSpec {
  uint64_t seed = 20261122;
  int32_t departments = 2;
  int32_t teams = 6;  // spread over the departments
  int32_t caseworkers_per_team = 8;
  int32_t open_cases_per_caseworker = 40;   // mean at the end; each caseworker 30-50
  int32_t history_months = 36;              // months of history before the end
  int32_t end_year = 2026, end_month = 11;  // the generated "today" is end_month's day end_day
  int32_t end_day = 15;
  double reassignment_rate = 0.01;        // per open case and month
  double expectation_update_rate = 0.75;  // per open case and month
  // Calendar of closures, 0 (none, the default) .. 1 (strong): in December and July some cases
  // due to close slip a month (at 1: December closures ~0.8 and July ~0.75 of the monthly mean);
  // education starts pull EDUCATION closures into January and the spring job market pulls
  // ORDINARY_JOB closures into March-May. Caseworkers' expectations do not foresee it.
  double closure_seasonality = 0.0;
};

// ~6 teams x 8 caseworkers x 40 cases, 3 years of history: the demo job centre. Pure;
// thread-safe.
SyntheticSpec DemoSpec();
// 40 teams, ~15,000 open cases, 5 years of history. Pure; thread-safe.
SyntheticSpec LargeSpec();
// The accuracy harness's centres: `count` specs with different seeds, sizes (4-12 teams, 6-10
// caseworkers each) and closure calendars (every other one strongly seasonal); `small` shrinks
// them for a fast test. Pure; thread-safe.
std::vector<SyntheticSpec> HarnessSpecs(int32_t count, bool small = false);

struct Date {
  int32_t year = 0, month = 0, day = 0;
};

// Records with string codes, ready to be written as the interchange CSV files.
struct SyntheticJobCentre {
  struct Department {
    std::string code, name;
  };
  struct Team {
    std::string code, name, department;
  };
  struct Caseworker {
    std::string code, name, team;  // name: a staff display name (staff, not citizens)
    double optimism_months = 0;    // truth: how many months too early they expect closures
    std::string habit_outcome;     // truth: outcome they steer toward ("" none)
  };
  struct Case {  // cases.csv: case_ref,case_type,opened_on,team,caseworker
    std::string case_ref, case_type;
    Date opened_on;
    std::string team, caseworker;  // at opening (re-assignments move them later)
    std::string current_team, current_caseworker;
  };
  struct ExpectationRow {  // expectations.csv
    std::string case_ref;
    Date recorded_on;
    std::string recorded_by, expected_outcome;
    int32_t expected_year = 0, expected_month = 0;
    std::string risk;
    bool in_dialogue = false;
  };
  struct Closure {
    std::string case_ref;
    Date closed_on;
    std::string outcome;
  };  // closures.csv
  struct Reassignment {
    std::string case_ref;
    Date on;
    std::string from, to;
  };               // reassignments.csv
  struct Action {  // the next agreed step of an open case
    std::string case_ref, description, owner;
    Date due_on;
    bool done = false;
  };

  Date today;
  std::vector<Department> departments;
  std::vector<Team> teams;
  std::vector<Caseworker> caseworkers;
  std::vector<Case> cases;                   // by opening date
  std::vector<ExpectationRow> expectations;  // by recorded date
  std::vector<Closure> closures;             // by closing date
  std::vector<Reassignment> reassignments;   // by date
  std::vector<Action> actions;               // open cases' next steps
};

// Generates the job centre for `spec`. Same spec, same output, on every platform.
// INVALID_ARGUMENT for sizes out of range. Pure; thread-safe.
absl::StatusOr<SyntheticJobCentre> GenerateJobCentre(const SyntheticSpec& spec);

// The job centre in the library's terms: default catalogue with its teams and caseworkers,
// history (every case; expectations by the caseworker who recorded them; inflow counted from
// opening months) and the portfolio of cases open at the start of `as_of_month`. case_id is the
// position in `case_refs`.
struct CompiledJobCentre {
  Catalogue catalogue;
  History history;
  Portfolio portfolio;
  std::vector<std::string> case_refs;         // case_id -> case ref
  std::vector<std::string> team_codes;        // team index -> code
  std::vector<std::string> caseworker_codes;  // caseworker index -> code
};

// Compiles as of `as_of_month` (history is cut there: later events are dropped); the portfolio
// is the cases open at its start. INVALID_ARGUMENT for unknown codes. Pure; thread-safe.
absl::StatusOr<CompiledJobCentre> CompileJobCentre(const SyntheticJobCentre& centre,
                                                   MonthIndex as_of_month);

}  // namespace forecasting

#endif  // FORECASTING_SYNTHETIC_H_
