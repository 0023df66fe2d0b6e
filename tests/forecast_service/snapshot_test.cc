// Pure unit tests, no database: the as-of rule of snapshots (a row counts from the later of its
// effective day and the day it was recorded) and the access rules on scopes.
#include <memory>

#include <gtest/gtest.h>

#include "services/common/caller.h"
#include "services/common/authorization.h"
#include "services/forecast/scopes.h"
#include "services/forecast/snapshot.h"

namespace forecast::fsvc {
namespace {

// A centre with one team (T, id 10) of two caseworkers (1, 2), a leader (3) and a manager (4),
// another team (U, id 11) and one case opened 2099-01-10 by caseworker 1.
std::shared_ptr<CentreHistory> Centre() {
  auto h = std::make_shared<CentreHistory>();
  h->centre_id = 7;
  h->catalogue.case_types = {"SDP"};
  h->catalogue.outcomes = {"ORDINARY_JOB", "FLEX_JOB"};
  h->catalogue.outcome_groups = {"JOB", "FLEX_JOB"};
  h->catalogue.risks = {"LOW", "HIGH"};
  h->catalogue.risk_probability = {0.85, 0.35};
  h->units = {{9, "D", "Dept", false, 0}, {10, "T", "Team", true, 9}, {11, "U", "Other", true, 9}};
  h->staff = {{1, "cw1", "", "CASEWORKER", 10, true},
              {2, "cw2", "", "CASEWORKER", 10, true},
              {3, "lead", "", "TEAM_LEADER", 10, true},
              {4, "boss", "", "MANAGER", 0, true},
              {5, "cw3", "", "CASEWORKER", 11, true}};
  auto c = std::make_shared<CaseTimeline>();
  c->id = 100;
  c->ref = "C1";
  c->case_type = 0;
  c->opened_on = Day(2099, 1, 10);
  c->known_on = Day(2099, 1, 10);
  c->assignments = {{Day(2099, 1, 10), Day(2099, 1, 10), 1, 10},
                    {Day(2099, 2, 1), Day(2099, 2, 1), 2, 10}};
  ExpectationEvent e;
  e.recorded_on = e.known_on = Day(2099, 1, 12);
  e.outcome = 0;
  e.expected_month = Month(2099, 4);
  e.risk = 0;
  c->expectations = {e};
  // Closed on 03-01 but only recorded on 03-20 (back-dated).
  c->statuses = {{Day(2099, 3, 1), Day(2099, 3, 20), true, 1}};
  h->cases = {c};
  h->ReindexSmall();
  h->ReindexCases();
  return h;
}

TEST(SnapshotTest, ABackDatedRowCountsFromTheDayItWasRecorded) {
  auto h = Centre();
  const CaseTimeline& c = *h->cases[0];
  // As of 03-10 the closure was not yet known: the case was open then.
  EXPECT_TRUE(OpenOn(c, Day(2099, 3, 10), ViewDays{Day(2099, 3, 10), Day(2099, 3, 10)}));
  // Today (no cut-off) it is known, effective from 03-01.
  EXPECT_FALSE(OpenOn(c, Day(2099, 3, 10), ViewDays{Day(2099, 3, 25)}));
  EXPECT_TRUE(OpenOn(c, Day(2099, 2, 28), ViewDays{Day(2099, 3, 25)}));
  CaseState s = StateOf(c, 0, ViewDays{Day(2099, 3, 25)});
  EXPECT_FALSE(s.open);
  EXPECT_EQ(s.closed_on, Day(2099, 3, 1));
  EXPECT_EQ(s.closure_outcome, 1);
  // Not opened yet: not part of the view.
  EXPECT_EQ(StateOf(c, 0, ViewDays{Day(2099, 1, 9), Day(2099, 1, 9)}).record, nullptr);
}

TEST(SnapshotTest, HolderAndExpectationOnADay) {
  auto h = Centre();
  const CaseTimeline& c = *h->cases[0];
  const ViewDays now{Day(2099, 3, 25)};
  EXPECT_EQ(HolderOn(c, Day(2099, 1, 31), now)->caseworker_id, 1);
  EXPECT_EQ(HolderOn(c, Day(2099, 2, 1), now)->caseworker_id, 2);
  EXPECT_EQ(ExpectationOn(c, Day(2099, 1, 11), now), nullptr);
  EXPECT_EQ(ExpectationOn(c, Day(2099, 1, 12), now)->expected_month, Month(2099, 4));
  auto snapshot = CentreSnapshot::Build(h, ViewDays{Day(2099, 2, 15), Day(2099, 2, 15)});
  ASSERT_EQ(snapshot->cases().size(), 1u);
  EXPECT_TRUE(snapshot->Case(100)->open);
  EXPECT_EQ(snapshot->Case(100)->caseworker_id, 2);
  // An update recomputes the changed case only.
  auto updated = CentreSnapshot::Update(*snapshot, h, {100});
  EXPECT_EQ(updated->Case(100)->caseworker_id, 2);
}

TEST(SnapshotTest, ScopesCoverWhatTheirHoldersHold) {
  auto h = Centre();
  EXPECT_TRUE((ScopeFilter{ScopeFilter::Kind::kTeam, 10}).Covers(*h, 2, 10));
  EXPECT_FALSE((ScopeFilter{ScopeFilter::Kind::kTeam, 11}).Covers(*h, 2, 10));
  EXPECT_TRUE((ScopeFilter{ScopeFilter::Kind::kDepartment, 9}).Covers(*h, 2, 10));
  EXPECT_TRUE((ScopeFilter{ScopeFilter::Kind::kCaseworker, 2}).Covers(*h, 2, 10));
  EXPECT_TRUE((ScopeFilter{ScopeFilter::Kind::kJobCentre, 0}).Covers(*h, 5, 11));
}

// A dialogue or target applied as stored takes its place as the full read orders them (dialogues
// by held_on, then id; targets by recording order), replacing an earlier copy of itself.
TEST(CentreHistoryTest, StoredRowsTakeTheirPlace) {
  CentreHistory h;
  auto dialogue = [](int64_t id, Day held_on, int version) {
    DialogueRecord d;
    d.id = id;
    d.held_on = held_on;
    d.version = version;
    return d;
  };
  h.PutDialogue(dialogue(5, Day(2099, 3, 1), 1));
  h.PutDialogue(dialogue(2, Day(2099, 3, 9), 1));
  h.PutDialogue(dialogue(7, Day(2099, 3, 1), 1));
  h.PutDialogue(dialogue(5, Day(2099, 3, 1), 2));  // a new version of dialogue 5
  ASSERT_EQ(h.dialogues.size(), 3u);
  EXPECT_EQ(h.dialogues[0].id, 5);
  EXPECT_EQ(h.dialogues[0].version, 2);
  EXPECT_EQ(h.dialogues[1].id, 7);
  EXPECT_EQ(h.dialogues[2].id, 2);

  MilestoneTargetRecord t;
  for (int64_t order : {3, 1, 3, 2}) {
    t.order = order;
    h.PutTarget(t);
  }
  ASSERT_EQ(h.targets.size(), 3u);
  EXPECT_EQ(h.targets[0].order, 1);
  EXPECT_EQ(h.targets[2].order, 3);
}

Caller As(int64_t staff, Role role, int64_t team) {
  Caller c;
  c.job_centre_id = 7;
  c.staff_id = staff;
  c.role = role;
  c.team_id = team;
  return c;
}

TEST(AccessTest, CaseworkerViewsArePersonalAndTeamsAreReadByMembers) {
  auto h = Centre();
  Caller named = As(1, Role::kCaseworker, 10);
  named.staff_code = "cw1";
  EXPECT_TRUE(ReadableCaseworker(*h, named, "", "caseworker").ok());
  EXPECT_EQ(ReadableCaseworker(*h, named, "cw2", "caseworker").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(ReadableTeam(*h, named, "", "team").ok());
  EXPECT_EQ(ReadableTeam(*h, named, "U", "team").status().code(),
            absl::StatusCode::kPermissionDenied);
  v1::Scope centre;
  centre.set_kind(v1::Scope::JOB_CENTRE);
  EXPECT_EQ(ReadableScope(*h, named, centre, "scope").status().code(),
            absl::StatusCode::kPermissionDenied);

  const Caller lead = As(3, Role::kTeamLeader, 10);
  EXPECT_TRUE(ReadableCaseworker(*h, lead, "cw2", "caseworker").ok());
  EXPECT_EQ(ReadableCaseworker(*h, lead, "cw3", "caseworker").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(AuthorizeTargetWrite(lead, 10).ok());
  EXPECT_FALSE(AuthorizeTargetWrite(lead, 11).ok());
  EXPECT_FALSE(AuthorizeTargetWrite(named, 10).ok());

  const Caller boss = As(4, Role::kManager, 0);
  EXPECT_TRUE(ReadableScope(*h, boss, centre, "scope").ok());
  EXPECT_TRUE(ReadableTeam(*h, boss, "U", "team").ok());
  EXPECT_TRUE(AuthorizeDialogueWrite(boss, 11).ok());
  EXPECT_EQ(ReadableTeam(*h, boss, "", "team").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadableTeam(*h, boss, "NOPE", "team").status().code(), absl::StatusCode::kNotFound);

  // A caller of another job centre reaches nothing here.
  Caller stranger = As(1, Role::kManager, 0);
  stranger.job_centre_id = 8;
  EXPECT_EQ(ReadableTeam(*h, stranger, "T", "team").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace forecast::fsvc
