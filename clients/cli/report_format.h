// Exports of the forecast service's answers: the projection CSV of DESIGN.md
// (`month,scope,outcome,expected,p10,p90`), dashboard and milestone CSVs, Protobuf's JSON
// mapping, and the projection as a table for the terminal.
#ifndef CLIENTS_CLI_REPORT_FORMAT_H_
#define CLIENTS_CLI_REPORT_FORMAT_H_

#include <ostream>
#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "forecast/v1/forecast_service.pb.h"

namespace forecast::cli {

// Parses "team:CODE", "department:CODE", "caseworker:CODE" or "ALL" (the whole job centre).
// INVALID_ARGUMENT naming --scope otherwise. Thread-safe (pure).
absl::StatusOr<v1::Scope> ParseScope(std::string_view text);

// The scope column of the projection CSV: the unit or staff code, or "ALL". Thread-safe (pure).
std::string ScopeColumn(const v1::Scope& scope);

// Parses "as_planned", "calibrated" or "baseline". INVALID_ARGUMENT naming --model otherwise.
// Thread-safe (pure).
absl::StatusOr<v1::Model> ParseModel(std::string_view text);

// Writes the projection as CSV: header `month,scope,outcome,expected,p10,p90`, one row per
// month and outcome (outcome "ALL" for the total), figures with two decimals. Thread-safe as
// far as `out` is.
void WriteProjectionCsv(const v1::Projection& projection, std::ostream& out);

// Writes the team dashboard as CSV: one row per caseworker and a TOTAL row. Thread-safe as far
// as `out` is.
void WriteTeamDashboardCsv(const v1::TeamDashboard& dashboard, std::ostream& out);

// Writes the milestones as CSV: one row per metric and month. Thread-safe as far as `out` is.
void WriteMilestonesCsv(const v1::Milestones& milestones, std::ostream& out);

// The message in Protobuf's JSON mapping (field names as in the .proto, enums by name,
// pretty-printed). INTERNAL only if the message cannot be printed. Thread-safe.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

// The projection as a terminal table: one line per month, one column per outcome that has any
// expected closures, the total, and the open caseload; each cell "expected (p10-p90)".
// Thread-safe (pure).
std::string FormatProjectionTable(const v1::Projection& projection);

}  // namespace forecast::cli

#endif  // CLIENTS_CLI_REPORT_FORMAT_H_
