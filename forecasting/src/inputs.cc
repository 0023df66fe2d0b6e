#include "forecasting/inputs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace forecasting {

Catalogue DefaultCatalogue() {
  Catalogue c;
  c.case_types = {"SDP", "JAF", "RF", "KHJ", "KHA", "DP", "UDH", "INT"};
  c.outcomes = {"ORDINARY_JOB", "SMALL_JOB",          "FLEX_JOB",      "EDUCATION",
                "DECLARED_FIT", "DISABILITY_PENSION", "OTHER_BENEFIT", "OTHER"};
  c.risks = {"LOW", "MEDIUM", "HIGH"};
  c.risk_probability = {0.8, 0.5, 0.25};
  return c;
}

absl::Status ValidateCatalogue(const Catalogue& c) {
  if (c.case_types.empty()) return absl::InvalidArgumentError("catalogue.case_types: empty");
  if (c.outcomes.empty()) return absl::InvalidArgumentError("catalogue.outcomes: empty");
  if (c.risks.empty()) return absl::InvalidArgumentError("catalogue.risks: empty");
  if (c.risk_probability.size() != c.risks.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("catalogue.risk_probability: ", c.risk_probability.size(), " values for ",
                     c.risks.size(), " risks"));
  }
  for (size_t r = 0; r < c.risk_probability.size(); ++r) {
    const double p = c.risk_probability[r];
    if (!(p > 0.0 && p <= 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("catalogue.risk_probability[", r, "]: ", p, " is not in (0, 1]"));
    }
  }
  if (c.num_teams < 0) return absl::InvalidArgumentError("catalogue.num_teams: negative");
  for (size_t w = 0; w < c.caseworker_team.size(); ++w) {
    if (c.caseworker_team[w] < 0 || c.caseworker_team[w] >= c.num_teams) {
      return absl::InvalidArgumentError(absl::StrCat("catalogue.caseworker_team[", w, "]: team ",
                                                     c.caseworker_team[w], " out of range"));
    }
  }
  return absl::OkStatus();
}

namespace {

absl::Status CheckIndex(int64_t case_id, const char* field, int32_t value, int32_t size) {
  if (value < 0 || value >= size) {
    return absl::InvalidArgumentError(absl::StrCat("case ", case_id, ": ", field, " ", value,
                                                   " is out of range [0, ", size, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckExpectation(const Catalogue& c, int64_t case_id, const Expectation& e) {
  if (auto s =
          CheckIndex(case_id, "expectation.expected_outcome", e.expected_outcome, c.num_outcomes());
      !s.ok()) {
    return s;
  }
  if (auto s = CheckIndex(case_id, "expectation.risk", e.risk, c.num_risks()); !s.ok()) return s;
  if (e.recorded_by != -1) {
    if (auto s = CheckIndex(case_id, "expectation.recorded_by", e.recorded_by, c.num_caseworkers());
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateHistory(const Catalogue& c, const History& history) {
  for (const CaseRecord& r : history.cases) {
    if (auto s = CheckIndex(r.case_id, "case_type", r.case_type, c.num_case_types()); !s.ok()) {
      return s;
    }
    if (auto s = CheckIndex(r.case_id, "team", r.team, c.num_teams); !s.ok()) return s;
    if (auto s = CheckIndex(r.case_id, "caseworker", r.caseworker, c.num_caseworkers()); !s.ok()) {
      return s;
    }
    if (r.closed_month.has_value()) {
      if (*r.closed_month < r.opened_month) {
        return absl::InvalidArgumentError(
            absl::StrCat("case ", r.case_id, ": closed_month ", FormatMonth(*r.closed_month),
                         " is before opened_month ", FormatMonth(r.opened_month)));
      }
      if (auto s = CheckIndex(r.case_id, "outcome", r.outcome, c.num_outcomes()); !s.ok()) {
        return s;
      }
    } else if (r.outcome != -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", r.case_id, ": outcome is set but the case is open"));
    }
    MonthIndex previous = r.opened_month;
    for (const Expectation& e : r.expectations) {
      if (auto s = CheckExpectation(c, r.case_id, e); !s.ok()) return s;
      if (e.recorded_month < previous) {
        return absl::InvalidArgumentError(absl::StrCat(
            "case ", r.case_id, ": expectation recorded ", FormatMonth(e.recorded_month),
            " is out of order or before the case opened"));
      }
      previous = e.recorded_month;
    }
  }
  const InflowCounts& inflow = history.inflow;
  if (!inflow.counts.empty()) {
    if (static_cast<int32_t>(inflow.counts.size()) != c.num_case_types()) {
      return absl::InvalidArgumentError(absl::StrCat("inflow.counts: ", inflow.counts.size(),
                                                     " case types, catalogue has ",
                                                     c.num_case_types()));
    }
    for (const auto& row : inflow.counts) {
      if (row.size() != inflow.counts[0].size()) {
        return absl::InvalidArgumentError("inflow.counts: rows of different lengths");
      }
      for (double v : row) {
        if (!(v >= 0)) return absl::InvalidArgumentError("inflow.counts: negative or NaN count");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePortfolio(const Catalogue& c, const Portfolio& portfolio) {
  for (const OpenCase& oc : portfolio.cases) {
    if (auto s = CheckIndex(oc.case_id, "case_type", oc.case_type, c.num_case_types()); !s.ok()) {
      return s;
    }
    if (auto s = CheckIndex(oc.case_id, "team", oc.team, c.num_teams); !s.ok()) return s;
    if (auto s = CheckIndex(oc.case_id, "caseworker", oc.caseworker, c.num_caseworkers());
        !s.ok()) {
      return s;
    }
    if (oc.opened_month > portfolio.as_of_month) {
      return absl::InvalidArgumentError(
          absl::StrCat("case ", oc.case_id, ": opened_month ", FormatMonth(oc.opened_month),
                       " is after as_of_month ", FormatMonth(portfolio.as_of_month)));
    }
    if (oc.expectation.has_value()) {
      if (auto s = CheckExpectation(c, oc.case_id, *oc.expectation); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

MonthIndex ObservedFrom(const History& history) {
  if (history.observed_from.has_value()) return *history.observed_from;
  std::optional<MonthIndex> first_closure, first_opening;
  for (const CaseRecord& r : history.cases) {
    if (r.closed_month.has_value() && (!first_closure || *r.closed_month < *first_closure)) {
      first_closure = *r.closed_month;
    }
    if (!first_opening || r.opened_month < *first_opening) first_opening = r.opened_month;
  }
  if (first_closure) return *first_closure;
  return first_opening.value_or(0);
}

Portfolio SnapshotAt(const History& history, MonthIndex as_of_month,
                     std::vector<int32_t>* history_positions) {
  Portfolio p;
  p.as_of_month = as_of_month;
  if (history_positions != nullptr) history_positions->clear();
  for (size_t i = 0; i < history.cases.size(); ++i) {
    const CaseRecord& r = history.cases[i];
    if (r.opened_month >= as_of_month) continue;
    if (r.closed_month.has_value() && *r.closed_month < as_of_month) continue;
    OpenCase oc;
    oc.case_id = r.case_id;
    oc.case_type = r.case_type;
    oc.team = r.team;
    oc.caseworker = r.caseworker;
    oc.opened_month = r.opened_month;
    for (const Expectation& e : r.expectations) {
      if (e.recorded_month >= as_of_month) break;
      oc.expectation = e;
    }
    p.cases.push_back(oc);
    if (history_positions != nullptr) history_positions->push_back(static_cast<int32_t>(i));
  }
  return p;
}

InflowCounts InflowFromHistory(const Catalogue& catalogue, const std::vector<CaseRecord>& cases,
                               MonthIndex first_month, MonthIndex last_month,
                               const std::vector<int32_t>* positions) {
  InflowCounts inflow;
  inflow.first_month = first_month;
  const int32_t months = std::max(0, last_month - first_month + 1);
  inflow.counts.assign(catalogue.num_case_types(), std::vector<double>(months, 0.0));
  auto add = [&](const CaseRecord& r) {
    const int32_t offset = r.opened_month - first_month;
    if (offset < 0 || offset >= months) return;
    if (r.case_type < 0 || r.case_type >= catalogue.num_case_types()) return;
    inflow.counts[r.case_type][offset] += 1.0;
  };
  if (positions != nullptr) {
    for (int32_t i : *positions) add(cases[i]);
  } else {
    for (const CaseRecord& r : cases) add(r);
  }
  return inflow;
}

}  // namespace forecasting
