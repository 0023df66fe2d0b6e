// The set-up audit trail (table admin_change, migration 0050): every change to the job centre's
// set-up - organisation units, staff, catalogue entries, case fields, milestone metrics - is
// recorded with who made it, when, through which call, and the target's values before and after.
// Written in the same transaction as the change, so a change and its record commit together or
// not at all.
#ifndef SERVICES_CASE_ADMIN_AUDIT_H_
#define SERVICES_CASE_ADMIN_AUDIT_H_

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "absl/strings/string_view.h"

namespace forecast {

// What admin_change.target_kind names.
enum class SetUpTarget { kOrgUnit, kStaff, kCatalogueEntry, kCaseField, kMilestoneMetric };

// The target's current values as JSON text (codes, not ids), nullopt when it does not exist.
// `code` is the target's code; for catalogue entries `catalogue_kind` is CASE_TYPE, OUTCOME or
// RISK. Thread-compatible (uses the caller's transaction).
std::optional<std::string> SetUpSnapshot(pqxx::transaction_base& tx, int64_t job_centre_id,
                                         SetUpTarget target, const std::string& code,
                                         const std::string& catalogue_kind = "");

// Records the change from `before` to the target's values now, unless they are equal (a
// re-run with the same values is no change). `staff_id` 0 means the operator (forecast-admin).
// Thread-compatible (uses the caller's transaction).
void RecordSetUpChange(pqxx::transaction_base& tx, int64_t job_centre_id, int64_t staff_id,
                       absl::string_view call, SetUpTarget target, const std::string& code,
                       const std::optional<std::string>& before,
                       const std::string& catalogue_kind = "");

}  // namespace forecast

#endif  // SERVICES_CASE_ADMIN_AUDIT_H_
