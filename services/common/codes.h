// The domain's fixed codes, and the one place where they convert between the text stored in the
// database (the columns' CHECK constraints: staff.role, cases.status, action.status,
// action_follow_up.result, org_unit.kind, dialogue.state), the API's proto enums, and the
// services' own enums. Catalogue codes (case types, outcomes, risks) are the job centre's own data
// and are not here. Every function is pure and thread-safe.
#ifndef SERVICES_COMMON_CODES_H_
#define SERVICES_COMMON_CODES_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "forecast/v1/case_service.pb.h"
#include "forecast/v1/common.pb.h"

namespace forecast {

// A staff member's role, as authorisation uses it.
enum class Role { kCaseworker, kTeamLeader, kManager, kAdmin };

// A row of status_change: the case closed, or was reopened.
enum class StatusChange { kClosed, kReopened };

// A dialogue's state: a draft is open (agreements link to it, notes are editable); a final one is
// locked.
enum class DialogueState { kDraft, kFinal };

// staff.role: "CASEWORKER", "TEAM_LEADER", "MANAGER", "ADMIN".
absl::string_view RoleName(Role role);
// The inverse of RoleName; nullopt for any other text.
std::optional<Role> ParseRole(absl::string_view text);
v1::Role ToProto(Role role);
// nullopt for ROLE_UNSPECIFIED and unknown values.
std::optional<Role> FromProto(v1::Role role);

// cases.status: "OPEN", "CLOSED".
absl::string_view CaseStatusName(v1::CaseStatus status);
// nullopt for any other text.
std::optional<v1::CaseStatus> ParseCaseStatus(absl::string_view text);

// status_change.status: "CLOSED", "REOPENED".
absl::string_view StatusChangeName(StatusChange change);
std::optional<StatusChange> ParseStatusChange(absl::string_view text);

// action.status: "OPEN", "DONE", "NOT_DONE".
absl::string_view ActionStatusName(v1::ActionStatus status);
std::optional<v1::ActionStatus> ParseActionStatus(absl::string_view text);

// action_follow_up.result: "DONE", "NOT_DONE", "POSTPONED".
absl::string_view FollowUpResultName(v1::FollowUpResult result);
std::optional<v1::FollowUpResult> ParseFollowUpResult(absl::string_view text);
// The action's status after a follow-up with `result`: a postponed action stays open.
v1::ActionStatus ActionStatusAfter(v1::FollowUpResult result);

// org_unit.kind: "DEPARTMENT", "TEAM".
absl::string_view OrgUnitKindName(v1::OrgUnit::Kind kind);
std::optional<v1::OrgUnit::Kind> ParseOrgUnitKind(absl::string_view text);

// dialogue.state: "DRAFT", "FINAL" (also the API's Dialogue.state text).
absl::string_view DialogueStateName(DialogueState state);
std::optional<DialogueState> ParseDialogueState(absl::string_view text);

}  // namespace forecast

#endif  // SERVICES_COMMON_CODES_H_
