#include "clients/cli/report_format.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cli/csv.h"

namespace forecast::cli {
namespace {

std::string Figure(double value) { return absl::StrFormat("%.2f", value); }

std::string Cell(const v1::Estimate& e) {
  return absl::StrFormat("%.1f (%.0f-%.0f)", e.expected(), e.p10(), e.p90());
}

std::string ModelName(v1::Model model) {
  switch (model) {
    case v1::AS_PLANNED: return "as planned";
    case v1::CALIBRATED: return "calibrated";
    case v1::BASELINE: return "baseline";
    default: return "unspecified model";
  }
}

}  // namespace

absl::StatusOr<v1::Scope> ParseScope(std::string_view view) {
  const std::string text(view);  // this Abseil's string_view is not std::string_view
  v1::Scope scope;
  if (text == "ALL" || text == "all") {
    scope.set_kind(v1::Scope::JOB_CENTRE);
    return scope;
  }
  const size_t colon = text.find(':');
  if (colon != std::string_view::npos && colon + 1 < text.size()) {
    const std::string kind = absl::AsciiStrToLower(text.substr(0, colon));
    scope.set_code(std::string(text.substr(colon + 1)));
    if (kind == "team") scope.set_kind(v1::Scope::TEAM);
    if (kind == "department") scope.set_kind(v1::Scope::DEPARTMENT);
    if (kind == "caseworker") scope.set_kind(v1::Scope::CASEWORKER);
    if (scope.kind() != v1::Scope::KIND_UNSPECIFIED) return scope;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--scope: \"", text, "\" is not team:CODE, department:CODE, caseworker:CODE or ALL"));
}

std::string ScopeColumn(const v1::Scope& scope) {
  if (scope.kind() == v1::Scope::JOB_CENTRE || scope.code().empty()) return "ALL";
  return scope.code();
}

absl::StatusOr<v1::Model> ParseModel(std::string_view view) {
  const std::string text(view);
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "as_planned" || lower == "as-planned") return v1::AS_PLANNED;
  if (lower == "calibrated") return v1::CALIBRATED;
  if (lower == "baseline") return v1::BASELINE;
  return absl::InvalidArgumentError(
      absl::StrCat("--model: \"", text, "\" is not as_planned, calibrated or baseline"));
}

void WriteProjectionCsv(const v1::Projection& projection, std::ostream& out) {
  WriteCsvRow(out, {"month", "scope", "outcome", "expected", "p10", "p90"});
  const std::string scope = ScopeColumn(projection.scope());
  for (const v1::OutcomeMonth& row : projection.closures()) {
    WriteCsvRow(out, {row.month(), scope, row.outcome(), Figure(row.closures().expected()),
                      Figure(row.closures().p10()), Figure(row.closures().p90())});
  }
  // The open caseload at each month's end (today's cases still open plus new cases still open).
  for (const v1::CaseloadMonth& row : projection.caseload()) {
    WriteCsvRow(out, {row.month(), scope, "OPEN_CASELOAD", Figure(row.open().expected()),
                      Figure(row.open().p10()), Figure(row.open().p90())});
  }
}

void WriteTeamDashboardCsv(const v1::TeamDashboard& dashboard, std::ostream& out) {
  WriteCsvRow(out, {"team", "caseworker", "display_name", "open_cases", "no_expectation",
                    "stale_expectation", "overdue_actions", "passed_horizon",
                    "closures_next_3_months", "p10", "p90", "mean_slip_months"});
  auto write = [&](const v1::CaseworkerRow& row, const std::string& caseworker) {
    WriteCsvRow(out,
                {dashboard.team(), caseworker, row.display_name(), absl::StrCat(row.open_cases()),
                 absl::StrCat(row.no_expectation()), absl::StrCat(row.stale_expectation()),
                 absl::StrCat(row.overdue_actions()), absl::StrCat(row.passed_horizon()),
                 Figure(row.closures_next_3_months().expected()),
                 Figure(row.closures_next_3_months().p10()),
                 Figure(row.closures_next_3_months().p90()), Figure(row.mean_slip_months())});
  };
  for (const v1::CaseworkerRow& row : dashboard.rows()) write(row, row.caseworker());
  if (dashboard.has_totals()) write(dashboard.totals(), "TOTAL");
}

void WriteMilestonesCsv(const v1::Milestones& milestones, std::ostream& out) {
  WriteCsvRow(out, {"team", "caseworker", "metric", "month", "target", "actual", "projected", "p10",
                    "p90", "on_track", "gap"});
  for (const v1::MilestoneRow& row : milestones.rows()) {
    WriteCsvRow(
        out, {milestones.team(), milestones.caseworker(), row.metric(), row.month(),
              row.has_target() ? Figure(row.target()) : "", Figure(row.actual()),
              Figure(row.projected().expected()), Figure(row.projected().p10()),
              Figure(row.projected().p90()), row.on_track() ? "true" : "false", Figure(row.gap())});
  }
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return absl::InternalError(std::string(status.message()));
  return json;
}

std::string FormatProjectionTable(const v1::Projection& projection) {
  // Outcomes in the order the service lists them, "ALL" last; only those with closures.
  std::vector<std::string> outcomes;
  std::set<std::string> seen;
  std::map<std::pair<std::string, std::string>, v1::Estimate> cells;
  std::set<std::string> months;
  std::map<std::string, double> outcome_total;
  for (const v1::OutcomeMonth& row : projection.closures()) {
    months.insert(row.month());
    cells[{row.month(), row.outcome()}] = row.closures();
    outcome_total[row.outcome()] += row.closures().expected();
    if (row.outcome() != "ALL" && seen.insert(row.outcome()).second)
      outcomes.push_back(row.outcome());
  }
  outcomes.erase(std::remove_if(outcomes.begin(), outcomes.end(),
                                [&](const std::string& o) { return outcome_total[o] < 0.005; }),
                 outcomes.end());
  if (seen.count("ALL") > 0 || outcome_total.count("ALL") > 0) outcomes.push_back("ALL");
  std::map<std::string, v1::Estimate> open;
  for (const v1::CaseloadMonth& row : projection.caseload()) {
    months.insert(row.month());
    open[row.month()] = row.open();
  }

  std::vector<std::string> header = {"month"};
  for (const std::string& o : outcomes) header.push_back(o);
  header.push_back("open caseload");
  std::vector<std::vector<std::string>> rows;
  for (const std::string& month : months) {
    std::vector<std::string> row = {month};
    for (const std::string& o : outcomes) {
      auto it = cells.find({month, o});
      row.push_back(it == cells.end() ? "-" : Cell(it->second));
    }
    auto it = open.find(month);
    row.push_back(it == open.end() ? "-" : Cell(it->second));
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string text =
      absl::StrCat("Projected closures by outcome, ", ModelName(projection.model()), ", scope ",
                   ScopeColumn(projection.scope()), ", as of ",
                   projection.as_of().empty() ? "today" : projection.as_of(), "; ",
                   projection.open_cases(), " open case(s). Cells: expected (80% interval).\n");
  auto line = [&](const std::vector<std::string>& cells_of_row) {
    for (size_t c = 0; c < cells_of_row.size(); ++c) {
      const size_t pad = width[c] - cells_of_row[c].size();
      // Month left-aligned, figures right-aligned.
      if (c == 0) {
        absl::StrAppend(&text, cells_of_row[c], std::string(pad, ' '));
      } else {
        absl::StrAppend(&text, "  ", std::string(pad, ' '), cells_of_row[c]);
      }
    }
    absl::StrAppend(&text, "\n");
  };
  line(header);
  for (const auto& row : rows) line(row);
  if (projection.has_explanation() && !projection.explanation().method().empty()) {
    absl::StrAppend(
        &text, "Method: ", projection.explanation().method(),
        projection.explanation().small_sample()
            ? absl::StrCat(" Small sample (n=", projection.explanation().n(), "): read with care.")
            : "",
        "\n");
  }
  if (projection.has_accuracy() && projection.accuracy().n_months() > 0) {
    absl::StrAppend(
        &text,
        absl::StrFormat(
            "Backtest: mean absolute error %.1f closures/month, interval coverage %.0f%% over %d months\n",
            projection.accuracy().mean_abs_error(), 100 * projection.accuracy().interval_coverage(),
            projection.accuracy().n_months()));
  }
  return text;
}

}  // namespace forecast::cli
