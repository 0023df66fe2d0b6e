#include "services/common/codes.h"

namespace forecast {
namespace {

// One table per code: the enum value beside its stored text. Lookups scan (at most five rows).
template <typename E>
struct Code {
  E value;
  absl::string_view text;
};

constexpr Code<Role> kRoles[] = {{Role::kCaseworker, "CASEWORKER"},
                                 {Role::kTeamLeader, "TEAM_LEADER"},
                                 {Role::kManager, "MANAGER"},
                                 {Role::kAdmin, "ADMIN"}};
constexpr Code<v1::Role> kProtoRoles[] = {{v1::CASEWORKER, "CASEWORKER"},
                                          {v1::TEAM_LEADER, "TEAM_LEADER"},
                                          {v1::MANAGER, "MANAGER"},
                                          {v1::ADMIN, "ADMIN"}};
constexpr Code<v1::CaseStatus> kCaseStatuses[] = {{v1::OPEN, "OPEN"}, {v1::CLOSED, "CLOSED"}};
constexpr Code<StatusChange> kStatusChanges[] = {{StatusChange::kClosed, "CLOSED"},
                                                 {StatusChange::kReopened, "REOPENED"}};
constexpr Code<v1::ActionStatus> kActionStatuses[] = {
    {v1::ACTION_OPEN, "OPEN"}, {v1::ACTION_DONE, "DONE"}, {v1::ACTION_NOT_DONE, "NOT_DONE"}};
constexpr Code<v1::FollowUpResult> kFollowUpResults[] = {{v1::FOLLOW_UP_DONE, "DONE"},
                                                         {v1::FOLLOW_UP_NOT_DONE, "NOT_DONE"},
                                                         {v1::FOLLOW_UP_POSTPONED, "POSTPONED"}};
constexpr Code<v1::OrgUnit::Kind> kOrgUnitKinds[] = {{v1::OrgUnit::DEPARTMENT, "DEPARTMENT"},
                                                     {v1::OrgUnit::TEAM, "TEAM"}};
constexpr Code<DialogueState> kDialogueStates[] = {{DialogueState::kDraft, "DRAFT"},
                                                   {DialogueState::kFinal, "FINAL"}};

// "" for a value without text (the proto's UNSPECIFIED).
template <typename E, size_t N>
absl::string_view NameOf(const Code<E> (&codes)[N], E value) {
  for (const Code<E>& c : codes)
    if (c.value == value) return c.text;
  return "";
}

template <typename E, size_t N>
std::optional<E> Parse(const Code<E> (&codes)[N], absl::string_view text) {
  for (const Code<E>& c : codes)
    if (c.text == text) return c.value;
  return std::nullopt;
}

}  // namespace

absl::string_view RoleName(Role role) { return NameOf(kRoles, role); }
std::optional<Role> ParseRole(absl::string_view text) { return Parse(kRoles, text); }
v1::Role ToProto(Role role) {
  return Parse(kProtoRoles, RoleName(role)).value_or(v1::ROLE_UNSPECIFIED);
}
std::optional<Role> FromProto(v1::Role role) { return ParseRole(NameOf(kProtoRoles, role)); }

absl::string_view CaseStatusName(v1::CaseStatus status) { return NameOf(kCaseStatuses, status); }
std::optional<v1::CaseStatus> ParseCaseStatus(absl::string_view text) {
  return Parse(kCaseStatuses, text);
}

absl::string_view StatusChangeName(StatusChange change) { return NameOf(kStatusChanges, change); }
std::optional<StatusChange> ParseStatusChange(absl::string_view text) {
  return Parse(kStatusChanges, text);
}

absl::string_view ActionStatusName(v1::ActionStatus status) {
  return NameOf(kActionStatuses, status);
}
std::optional<v1::ActionStatus> ParseActionStatus(absl::string_view text) {
  return Parse(kActionStatuses, text);
}

absl::string_view FollowUpResultName(v1::FollowUpResult result) {
  return NameOf(kFollowUpResults, result);
}
std::optional<v1::FollowUpResult> ParseFollowUpResult(absl::string_view text) {
  return Parse(kFollowUpResults, text);
}
v1::ActionStatus ActionStatusAfter(v1::FollowUpResult result) {
  switch (result) {
    case v1::FOLLOW_UP_DONE: return v1::ACTION_DONE;
    case v1::FOLLOW_UP_NOT_DONE: return v1::ACTION_NOT_DONE;
    default: return v1::ACTION_OPEN;
  }
}

absl::string_view OrgUnitKindName(v1::OrgUnit::Kind kind) { return NameOf(kOrgUnitKinds, kind); }
std::optional<v1::OrgUnit::Kind> ParseOrgUnitKind(absl::string_view text) {
  return Parse(kOrgUnitKinds, text);
}

absl::string_view DialogueStateName(DialogueState state) { return NameOf(kDialogueStates, state); }
std::optional<DialogueState> ParseDialogueState(absl::string_view text) {
  return Parse(kDialogueStates, text);
}

}  // namespace forecast
