#include "services/common/authorization.h"

#include <gtest/gtest.h>

#include "services/common/status.h"

namespace forecast {
namespace {

constexpr int64_t kCentre = 1, kOtherCentre = 2, kTeamA = 10, kTeamB = 11;

Caller Make(Role role, int64_t staff_id, int64_t team_id, int64_t centre = kCentre) {
  Caller caller;
  caller.job_centre_id = centre;
  caller.job_centre_code = "JC";
  caller.staff_id = staff_id;
  caller.staff_code = "s" + std::to_string(staff_id);
  caller.role = role;
  caller.team_id = team_id;
  return caller;
}

struct Row {
  const char* who;
  Caller caller;
  CaseOwnership owner;
  CaseAccess access;
  absl::StatusCode want;
};

TEST(Authorization, CaseRules) {
  const CaseOwnership own{kCentre, kTeamA, 100};       // caseworker 100's case in team A
  const CaseOwnership teammate{kCentre, kTeamA, 101};  // a colleague's case in team A
  const CaseOwnership other_team{kCentre, kTeamB, 200};
  const CaseOwnership other_centre{kOtherCentre, kTeamA, 100};
  const Caller caseworker = Make(Role::kCaseworker, 100, kTeamA);
  const Caller leader = Make(Role::kTeamLeader, 150, kTeamA);
  const Caller manager = Make(Role::kManager, 300, 0);
  const Caller admin = Make(Role::kAdmin, 400, 0);
  using C = absl::StatusCode;
  const Row rows[] = {
      {"caseworker reads own", caseworker, own, CaseAccess::kRead, C::kOk},
      {"caseworker writes own", caseworker, own, CaseAccess::kWrite, C::kOk},
      {"caseworker reads team", caseworker, teammate, CaseAccess::kRead, C::kOk},
      {"caseworker writes team", caseworker, teammate, CaseAccess::kWrite, C::kPermissionDenied},
      {"caseworker reads other team", caseworker, other_team, CaseAccess::kRead,
       C::kPermissionDenied},
      {"caseworker re-assigns own", caseworker, own, CaseAccess::kReassign, C::kPermissionDenied},
      {"caseworker other centre", caseworker, other_centre, CaseAccess::kRead, C::kNotFound},
      {"leader writes team", leader, teammate, CaseAccess::kWrite, C::kOk},
      {"leader re-assigns team", leader, teammate, CaseAccess::kReassign, C::kOk},
      {"leader reads other team", leader, other_team, CaseAccess::kRead, C::kPermissionDenied},
      {"leader writes other team", leader, other_team, CaseAccess::kWrite, C::kPermissionDenied},
      {"leader other centre", leader, other_centre, CaseAccess::kWrite, C::kNotFound},
      {"manager reads any", manager, other_team, CaseAccess::kRead, C::kOk},
      {"manager writes any", manager, other_team, CaseAccess::kWrite, C::kOk},
      {"manager re-assigns any", manager, other_team, CaseAccess::kReassign, C::kOk},
      {"manager other centre", manager, other_centre, CaseAccess::kRead, C::kNotFound},
      {"admin reads no case (admins configure)", admin, other_team, CaseAccess::kRead,
       C::kPermissionDenied},
      {"admin writes none", admin, other_team, CaseAccess::kWrite, C::kPermissionDenied},
      {"admin other centre", admin, other_centre, CaseAccess::kRead, C::kNotFound},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(AuthorizeCase(row.caller, row.owner, row.access, "REF-1").code(), row.want)
        << row.who;
  }
  // The other centre's answer is indistinguishable from a missing case.
  EXPECT_EQ(AuthorizeCase(manager, other_centre, CaseAccess::kRead, "REF-1").message(),
            "case_ref: case \"REF-1\" not found");
}

TEST(Authorization, CaseFiltersAreWhatTheRulesAllow) {
  // The filter a query applies (a write in one statement, a list) is the rule itself.
  const CaseFilter cw = CasesAccessible(Make(Role::kCaseworker, 100, kTeamA), CaseAccess::kWrite);
  EXPECT_FALSE(cw.whole_job_centre);
  EXPECT_EQ(cw.team_id, 0);
  EXPECT_EQ(cw.caseworker_id, 100);
  const CaseFilter cw_read =
      CasesAccessible(Make(Role::kCaseworker, 100, kTeamA), CaseAccess::kRead);
  EXPECT_EQ(cw_read.team_id, kTeamA);
  EXPECT_EQ(cw_read.caseworker_id, 100);
  const CaseFilter lead =
      CasesAccessible(Make(Role::kTeamLeader, 150, kTeamA), CaseAccess::kReassign);
  EXPECT_EQ(lead.team_id, kTeamA);
  EXPECT_EQ(lead.caseworker_id, 0);
  EXPECT_TRUE(CasesAccessible(Make(Role::kManager, 300, 0), CaseAccess::kWrite).whole_job_centre);
  const CaseFilter admin = CasesAccessible(Make(Role::kAdmin, 400, 0), CaseAccess::kWrite);
  EXPECT_FALSE(admin.whole_job_centre);
  EXPECT_FALSE(admin.Covers(CaseOwnership{kCentre, kTeamA, 400}));
  // A caseworker without a team never matches team 0.
  const CaseFilter teamless = CasesAccessible(Make(Role::kCaseworker, 100, 0), CaseAccess::kRead);
  EXPECT_FALSE(teamless.Covers(CaseOwnership{kCentre, 0, 101}));
  EXPECT_TRUE(teamless.Covers(CaseOwnership{kCentre, 0, 100}));
}

TEST(Authorization, CreateScopeCatalogueImport) {
  const Caller caseworker = Make(Role::kCaseworker, 100, kTeamA);
  const Caller leader = Make(Role::kTeamLeader, 150, kTeamA);
  const Caller manager = Make(Role::kManager, 300, 0);
  const Caller admin = Make(Role::kAdmin, 400, 0);
  EXPECT_TRUE(AuthorizeCreateCase(caseworker, kTeamA, 100).ok());
  EXPECT_FALSE(AuthorizeCreateCase(caseworker, kTeamA, 101).ok());
  EXPECT_TRUE(AuthorizeCreateCase(leader, kTeamA, 101).ok());
  EXPECT_FALSE(AuthorizeCreateCase(leader, kTeamB, 200).ok());
  EXPECT_TRUE(AuthorizeCreateCase(manager, kTeamB, 200).ok());
  EXPECT_FALSE(AuthorizeCreateCase(admin, kTeamB, 200).ok());

  EXPECT_TRUE(
      AuthorizeScopeRead(caseworker, {ScopeKind::kCaseworker, kCentre, 100, kTeamA, 0}).ok());
  EXPECT_TRUE(AuthorizeScopeRead(caseworker, {ScopeKind::kTeam, kCentre, 0, kTeamA, 0}).ok());
  EXPECT_FALSE(AuthorizeScopeRead(caseworker, {ScopeKind::kTeam, kCentre, 0, kTeamB, 0}).ok());
  EXPECT_FALSE(AuthorizeScopeRead(caseworker, {ScopeKind::kJobCentre, kCentre, 0, 0, 0}).ok());
  EXPECT_TRUE(AuthorizeScopeRead(leader, {ScopeKind::kCaseworker, kCentre, 101, kTeamA, 0}).ok());
  EXPECT_FALSE(AuthorizeScopeRead(leader, {ScopeKind::kDepartment, kCentre, 0, 0, 5}).ok());
  EXPECT_TRUE(AuthorizeScopeRead(manager, {ScopeKind::kJobCentre, kCentre, 0, 0, 0}).ok());
  EXPECT_EQ(AuthorizeScopeRead(manager, {ScopeKind::kJobCentre, kOtherCentre, 0, 0, 0}).code(),
            absl::StatusCode::kNotFound);

  // Caseworker views are personal; dialogues and targets are the team leader's (or a manager's).
  EXPECT_TRUE(
      AuthorizeCaseworkerViews(caseworker, {ScopeKind::kCaseworker, kCentre, 100, kTeamA, 0}).ok());
  EXPECT_EQ(AuthorizeCaseworkerViews(caseworker, {ScopeKind::kCaseworker, kCentre, 101, kTeamA, 0})
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      AuthorizeCaseworkerViews(leader, {ScopeKind::kCaseworker, kCentre, 101, kTeamA, 0}).ok());
  EXPECT_FALSE(
      AuthorizeCaseworkerViews(leader, {ScopeKind::kCaseworker, kCentre, 200, kTeamB, 0}).ok());
  EXPECT_EQ(AuthorizeCaseworkerViews(manager, {ScopeKind::kCaseworker, kOtherCentre, 1, kTeamA, 0})
                .code(),
            absl::StatusCode::kNotFound);
  // The cases behind a share: as caseworker views, and never an admin's.
  EXPECT_TRUE(
      AuthorizeVariationCases(caseworker, {ScopeKind::kCaseworker, kCentre, 100, kTeamA, 0}).ok());
  EXPECT_EQ(
      AuthorizeVariationCases(caseworker, {ScopeKind::kCaseworker, kCentre, 101, kTeamA, 0}).code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      AuthorizeVariationCases(leader, {ScopeKind::kCaseworker, kCentre, 101, kTeamA, 0}).ok());
  EXPECT_FALSE(
      AuthorizeVariationCases(leader, {ScopeKind::kCaseworker, kCentre, 200, kTeamB, 0}).ok());
  EXPECT_TRUE(
      AuthorizeVariationCases(manager, {ScopeKind::kCaseworker, kCentre, 200, kTeamB, 0}).ok());
  EXPECT_EQ(
      AuthorizeVariationCases(admin, {ScopeKind::kCaseworker, kCentre, 200, kTeamB, 0}).code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizeDialogueList(caseworker, ScopeKind::kCaseworker).ok());
  EXPECT_EQ(AuthorizeDialogueList(caseworker, ScopeKind::kTeam).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizeDialogueList(leader, ScopeKind::kTeam).ok());
  for (auto rule : {AuthorizeTargetWrite, AuthorizeDialogueWrite, AuthorizeAdjustmentWrite}) {
    EXPECT_TRUE(rule(leader, kTeamA).ok());
    EXPECT_FALSE(rule(leader, kTeamB).ok());
    EXPECT_TRUE(rule(manager, kTeamB).ok());
    EXPECT_FALSE(rule(caseworker, kTeamA).ok());
    const absl::Status refused = rule(admin, kTeamA);
    EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(DetailOf(refused).reason, "NOT_ALLOWED");  // worded as every refusal
  }

  EXPECT_TRUE(AuthorizeCatalogueEdit(admin).ok());
  EXPECT_EQ(AuthorizeCaseRows(admin).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizeCaseRows(Make(Role::kManager, 300, 0)).ok());
  EXPECT_EQ(AuthorizeCatalogueEdit(manager).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizeImport(manager, false).ok());
  EXPECT_FALSE(AuthorizeImport(manager, true).ok());
  EXPECT_TRUE(AuthorizeImport(admin, true).ok());
  EXPECT_FALSE(AuthorizeImport(leader, false).ok());
}

}  // namespace
}  // namespace forecast
