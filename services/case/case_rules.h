// Validation rules of the case service, free of I/O: catalogue membership, expectation months,
// typed custom field values, page tokens and request fingerprints. Every error is
// INVALID_ARGUMENT with the offending field named first ("field: problem").
#ifndef SERVICES_CASE_CASE_RULES_H_
#define SERVICES_CASE_CASE_RULES_H_

#include <cstdint>
#include <map>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "forecast/v1/case_service.pb.h"
#include "services/common/caller.h"
#include "services/common/limits.h"

namespace forecast {

// A Case lists at most this many open actions (soonest due first); ListCaseActions pages the rest.
inline constexpr int kCaseOpenActions = 50;
inline constexpr int kDefaultActionPageSize = 50;
inline constexpr int kMaxActionPageSize = 500;
// GetCaseHistory: rows of each list (events, expectations, actions) on one page.
inline constexpr int kDefaultHistoryPageSize = 200;
inline constexpr int kMaxHistoryPageSize = 1000;

// Read-only index over a job centre's catalogue. Thread-compatible (immutable after build).
class CatalogueView {
 public:
  explicit CatalogueView(v1::Catalogue catalogue);
  const v1::Catalogue& catalogue() const { return catalogue_; }
  // nullptr when the code is not in the catalogue (active or not).
  const v1::CatalogueEntry* Find(v1::CatalogueEntry::Kind kind, absl::string_view code) const;
  const v1::CaseField* FindField(absl::string_view code) const;

  // OK when `code` is an active entry of `kind`; otherwise names `field` and lists the choices.
  absl::Status CheckActive(v1::CatalogueEntry::Kind kind, absl::string_view code,
                           absl::string_view field) const;

 private:
  v1::Catalogue catalogue_;
  std::map<std::pair<int, std::string>, const v1::CatalogueEntry*> entries_;
  std::map<std::string, const v1::CaseField*, std::less<>> fields_;
};

// The expected closure month: not before the month the case opened, at most 60 months after
// `today`'s month. Thread-safe (pure).
absl::Status CheckExpectedMonth(absl::CivilMonth month, absl::CivilDay opened_on,
                                absl::CivilDay today, absl::string_view field);

// A day that must lie in [not_before, not_after]; the message names `field` and the bound
// (described by `before_what` / `after_what`, e.g. "the day the case opened").
absl::Status CheckDayWithin(absl::CivilDay day, absl::CivilDay not_before,
                            absl::string_view before_what, absl::CivilDay not_after,
                            absl::string_view after_what, absl::string_view field);

// A custom field value as JSON text (bool, number, or string for CHOICE and DATE), checked
// against the field's type and choices; `field` names it in errors, e.g. "fields[has_cv]".
absl::StatusOr<std::string> FieldValueToJson(const v1::CaseField& definition,
                                             const v1::FieldValue& value, absl::string_view field);
// The same from import text ("true"/"false"/"yes"/"no"/"1"/"0", a number, a choice, a date).
absl::StatusOr<std::string> FieldTextToJson(const v1::CaseField& definition, absl::string_view text,
                                            absl::string_view field);
// The inverse of FieldValueToJson; false when the JSON does not fit the type.
bool FieldValueFromJson(v1::CaseField::Type type, absl::string_view json, v1::FieldValue* value);

// Checks every value of a case's fields map against the catalogue (active fields only) and
// returns them as one JSON object text. Thread-safe given a const view.
absl::StatusOr<std::string> FieldsToJson(
    const CatalogueView& catalogue,
    const google::protobuf::Map<std::string, v1::FieldValue>& fields);

// Opaque, URL-safe page tokens carrying the last case_ref of the page. Thread-safe (pure).
std::string EncodePageToken(absl::string_view last_case_ref);
absl::StatusOr<std::string> DecodePageToken(absl::string_view token);

// Where a page of a case's actions ends: actions sort by due date, then id.
struct ActionPosition {
  std::string due_on;  // YYYY-MM-DD
  int64_t id = 0;
};
// Opaque, URL-safe page tokens of ListCaseActions (and Case.open_actions_page_token).
// INVALID_ARGUMENT naming page_token for a token this service did not issue. Thread-safe (pure).
std::string EncodeActionPageToken(const ActionPosition& last);
absl::StatusOr<ActionPosition> DecodeActionPageToken(absl::string_view token);
// Where a history page ends in each of its lists: the oldest row answered so far (the event's
// case version, the expectation's and the action's id). 0: none yet (start at the newest);
// kHistoryListDone: the list has no older rows.
struct HistoryPosition {
  static constexpr int64_t kHistoryListDone = -1;
  int64_t event_version = 0;
  int64_t expectation_id = 0;
  int64_t action_id = 0;

  // True when every list is done.
  bool Done() const {
    return event_version == kHistoryListDone && expectation_id == kHistoryListDone &&
           action_id == kHistoryListDone;
  }
};

// Opaque, URL-safe page tokens of GetCaseHistory, bound to the case. INVALID_ARGUMENT naming
// page_token for a token this service did not issue for `case_ref`. Thread-safe (pure).
std::string EncodeHistoryPageToken(absl::string_view case_ref, const HistoryPosition& next);
absl::StatusOr<HistoryPosition> DecodeHistoryPageToken(absl::string_view token,
                                                       absl::string_view case_ref);
// Sets open_action_count and, when open_actions (sorted, at most kCaseOpenActions) are not all
// of them, open_actions_page_token. Thread-safe (pure).
void SetOpenActionsPage(int32_t open_action_count, v1::Case& view);

// A stable fingerprint (hex) of a request: method plus its deterministic serialisation.
// Equal requests give equal fingerprints across processes. Thread-safe (pure).
std::string RequestFingerprint(absl::string_view method, const google::protobuf::Message& request);

// "Agreed in dialogue" is the team leader's word: only a team leader (or a manager) may mark an
// expectation or action so, or a write that names the dialogue it was agreed in (dialogue_id);
// a caseworker cannot tick it alone. PERMISSION_DENIED "AGREED_NEEDS_TEAM_LEADER" naming
// agreed_in_dialogue. Thread-safe (pure).
absl::Status CheckAgreedInDialogue(Role role, bool agreed, int64_t dialogue_id);

// An agreement names a dialogue that is finalised: FAILED_PRECONDITION "DIALOGUE_FINAL" naming
// dialogue_id (agreements are recorded only while the dialogue is open). Thread-safe (pure).
absl::Status DialogueFinalError(int64_t dialogue_id);

// Checks a catalogue entry or case field an admin wants to store. Thread-safe (pure).
absl::Status CheckCatalogueEntry(const v1::CatalogueEntry& entry);
absl::Status CheckCaseFieldDefinition(const v1::CaseField& field);

// "CASE_TYPE", "OUTCOME", "RISK"; "BOOL", ... as stored. Thread-safe (pure).
std::string EntryKindName(v1::CatalogueEntry::Kind kind);
std::string FieldTypeName(v1::CaseField::Type type);
v1::CaseField::Type ParseFieldType(absl::string_view name);

}  // namespace forecast

#endif  // SERVICES_CASE_CASE_RULES_H_
