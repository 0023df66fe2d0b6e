// CaseKeeper's rules without a database: an in-memory CaseStore records what the logic asks it
// to write, so each test can show that refused requests never reach storage.
#include "absl/strings/match.h"
#include "services/case/case_keeper.h"

#include <gtest/gtest.h>

#include <map>

namespace forecast {
namespace {

constexpr int64_t kCentre = 1, kTeam1 = 10, kTeam2 = 11;

// Holds one job centre in memory. Only what CaseKeeper uses is implemented; ListCases and the
// import are covered against PostgreSQL.
class MemoryCaseStore final : public CaseStore {
 public:
  MemoryCaseStore() {
    auto add_entry = [this](v1::CatalogueEntry::Kind kind, const char* code) {
      v1::CatalogueEntry* entry = kind == v1::CatalogueEntry::CASE_TYPE ? catalogue.add_case_types()
                                  : kind == v1::CatalogueEntry::OUTCOME ? catalogue.add_outcomes()
                                                                        : catalogue.add_risks();
      entry->set_kind(kind);
      entry->set_code(code);
      entry->set_active(true);
    };
    add_entry(v1::CatalogueEntry::CASE_TYPE, "SDP");
    add_entry(v1::CatalogueEntry::OUTCOME, "FLEX_JOB");
    add_entry(v1::CatalogueEntry::RISK, "LOW");
    staff["cw1"] = StaffRecord{100, "cw1", "", Role::kCaseworker, kTeam1, "T1", true};
    staff["cw3"] = StaffRecord{102, "cw3", "", Role::kCaseworker, kTeam2, "T2", true};
    staff["tl1"] = StaffRecord{150, "tl1", "", Role::kTeamLeader, kTeam1, "T1", true};
    staff["mgr"] = StaffRecord{300, "mgr", "", Role::kManager, 0, "", true};
    StoredCase c;
    c.id = 7;
    c.owner = CaseOwnership{kCentre, kTeam1, 100};
    c.view.set_case_ref("C-1");
    c.view.set_case_type("SDP");
    c.view.set_opened_on("2026-05-04");
    c.view.set_caseworker("cw1");
    c.view.set_team("T1");
    c.view.set_status(v1::OPEN);
    c.view.set_version(3);
    v1::Action* action = c.view.add_open_actions();
    action->set_id(41);
    action->set_status(v1::ACTION_OPEN);
    action->set_due_on("2026-11-15");
    cases["C-1"] = c;
  }

  absl::StatusOr<v1::Catalogue> LoadCatalogue(int64_t) override { return catalogue; }
  absl::StatusOr<v1::Organisation> LoadOrganisation(int64_t) override { return v1::Organisation(); }
  absl::StatusOr<std::optional<DialogueRef>> FindDialogue(int64_t, int64_t dialogue_id) override {
    auto it = dialogues.find(dialogue_id);
    if (it == dialogues.end()) return std::optional<DialogueRef>();
    return std::optional<DialogueRef>(DialogueRef{it->second, false});
  }
  absl::StatusOr<std::optional<StaffRecord>> FindStaff(int64_t, const std::string& code) override {
    auto it = staff.find(code);
    return it == staff.end() ? std::optional<StaffRecord>()
                             : std::optional<StaffRecord>(it->second);
  }
  absl::StatusOr<std::optional<UnitRecord>> FindUnit(int64_t, const std::string&) override {
    return std::optional<UnitRecord>();
  }
  absl::StatusOr<std::vector<std::string>> ExistingCaseRefs(
      int64_t, const std::vector<std::string>&) override {
    return std::vector<std::string>();
  }
  absl::StatusOr<StoredCase> LoadCase(int64_t centre, const std::string& ref) override {
    auto it = cases.find(ref);
    if (it == cases.end() || centre != kCentre) return absl::NotFoundError("case_ref: not found");
    return it->second;
  }
  absl::StatusOr<std::vector<v1::Case>> ListCases(const CaseQuery&) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<HistoryPage> LoadHistory(int64_t, const HistoryPosition&, int) override {
    return HistoryPage();
  }
  absl::StatusOr<ActionPage> ListActions(int64_t, bool, const std::optional<ActionPosition>&,
                                         int) override {
    return absl::UnimplementedError("not used");
  }
  absl::StatusOr<std::optional<v1::Action>> FindOpenAction(int64_t, int64_t) override {
    return std::optional<v1::Action>();  // every open action is listed on the case here
  }
  absl::StatusOr<std::optional<StoredAnswer>> FindAnswer(int64_t, const std::string& key) override {
    auto it = answers.find(key);
    return it == answers.end() ? std::optional<StoredAnswer>()
                               : std::optional<StoredAnswer>(it->second);
  }
  absl::StatusOr<v1::Case> ApplyChange(const CaseChange& change) override {
    changes.push_back(change);
    StoredCase& c = cases[change.case_ref];
    c.view.set_version(c.view.version() + 1);
    if (!change.idempotency.key.empty()) {
      answers[change.idempotency.key] = StoredAnswer{
          change.idempotency.method, change.idempotency.request_hash, c.view.SerializeAsString()};
    }
    return c.view;
  }
  absl::StatusOr<v1::Case> CreateCase(const NewCase& new_case) override {
    created.push_back(new_case);
    v1::Case view;
    view.set_case_ref(new_case.case_ref);
    view.set_version(1);
    return view;
  }
  absl::Status UpsertCatalogueEntry(int64_t, int64_t, const v1::CatalogueEntry&) override {
    return absl::OkStatus();
  }
  absl::Status UpsertCaseField(int64_t, int64_t, const v1::CaseField&) override {
    return absl::OkStatus();
  }
  absl::Status RunImport(int64_t,
                         const std::function<absl::StatusOr<bool>(ImportSession&)>&) override {
    return absl::UnimplementedError("not used");
  }

  v1::Catalogue catalogue;
  std::map<std::string, StaffRecord> staff;
  std::map<std::string, StoredCase> cases;
  std::map<std::string, StoredAnswer> answers;
  std::map<int64_t, int64_t> dialogues;  // dialogue id -> caseworker id
  std::vector<CaseChange> changes;
  std::vector<NewCase> created;
};

Caller As(const MemoryCaseStore& store, const std::string& code) {
  const StaffRecord& staff = store.staff.at(code);
  Caller caller;
  caller.job_centre_id = kCentre;
  caller.job_centre_code = "JC1";
  caller.staff_id = staff.id;
  caller.staff_code = code;
  caller.role = staff.role;
  caller.team_id = staff.team_id;
  caller.team_code = staff.team_code;
  return caller;
}

class CaseKeeperTest : public ::testing::Test {
 protected:
  CaseKeeperTest() : clock_(absl::CivilDay(2026, 11, 16)), keeper_(store_, clock_) {}

  v1::RecordExpectationRequest Expectation() const {
    v1::RecordExpectationRequest request;
    request.set_case_ref("C-1");
    request.set_base_version(3);
    request.set_expected_outcome("FLEX_JOB");
    request.set_expected_month("2027-03");
    request.set_risk("LOW");
    return request;
  }

  MemoryCaseStore store_;
  FixedClock clock_;
  CaseKeeper keeper_;
};

TEST_F(CaseKeeperTest, AValidWriteBecomesOneChangeDatedToday) {
  auto result = keeper_.RecordExpectation(As(store_, "cw1"), Expectation());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(store_.changes.size(), 1u);
  const CaseChange& change = store_.changes[0];
  EXPECT_EQ(change.kind, "EXPECTATION");
  EXPECT_EQ(change.base_version, 3);
  EXPECT_EQ(change.case_id, 7);
  EXPECT_EQ(change.actor_id, 100);
  EXPECT_EQ(change.effective_on, absl::CivilDay(2026, 11, 16));
  const auto& body = std::get<NewExpectation>(change.body);
  EXPECT_EQ(body.month, absl::CivilMonth(2027, 3));
  EXPECT_NE(change.summary_json.find("\"expected_month\":\"2027-03\""), std::string::npos);
  // The open action due yesterday shows as overdue.
  EXPECT_TRUE(result->open_actions(0).overdue());
}

TEST_F(CaseKeeperTest, StaleVersionIsAbortedBeforeAnyValidationOrWrite) {
  v1::RecordExpectationRequest request = Expectation();
  request.set_base_version(2);
  request.set_risk("NOT_A_RISK");
  absl::Status status = keeper_.RecordExpectation(As(store_, "cw1"), request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(status.message(), "case C-1 is at version 3, the write was based on 2");
  EXPECT_TRUE(store_.changes.empty());
}

TEST_F(CaseKeeperTest, PermissionIsCheckedBeforeInputSoRefusalsRevealNothing) {
  v1::RecordExpectationRequest request = Expectation();
  request.set_expected_month("garbage");
  EXPECT_EQ(keeper_.RecordExpectation(As(store_, "cw3"), request).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(keeper_.RecordExpectation(As(store_, "tl1"), request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.changes.empty());
}

TEST_F(CaseKeeperTest, IdempotentRetryReplaysAndForeignReplayIsRefused) {
  v1::RecordExpectationRequest request = Expectation();
  request.set_idempotency_key("k1");
  auto first = keeper_.RecordExpectation(As(store_, "cw1"), request);
  ASSERT_TRUE(first.ok());
  auto again = keeper_.RecordExpectation(As(store_, "cw1"), request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version(), first->version());
  EXPECT_EQ(store_.changes.size(), 1u);
  // The same key and request from another staff member is not their answer to have: keys are
  // kept per caller, so for them it is a fresh write (here on a stale version: ABORTED), and
  // nothing tells them the key was used.
  EXPECT_EQ(keeper_.RecordExpectation(As(store_, "tl1"), request).status().code(),
            absl::StatusCode::kAborted);
  request.set_note("changed");
  EXPECT_EQ(keeper_.RecordExpectation(As(store_, "cw1"), request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.changes.size(), 1u);
}

// An idempotency key is an opaque token from the client (often a UUID), not text a person
// writes: digit runs in it are no CPR number, but anything that is not a token is refused.
TEST_F(CaseKeeperTest, IdempotencyKeysAreTokensNotText) {
  v1::RecordExpectationRequest request = Expectation();
  // A UUID whose digits happen to read as "DDMMYY-XXXX" (01-01-90, 1234).
  request.set_idempotency_key("8c2f010190-1234-4abc-9def-0123456789ab");
  auto written = keeper_.RecordExpectation(As(store_, "cw1"), request);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(store_.changes.size(), 1u);
  for (const std::string& bad :
       std::vector<std::string>{"Jens Hansen", "key\nwith newline", std::string(129, 'k')}) {
    request.set_idempotency_key(bad);
    const absl::Status status = keeper_.RecordExpectation(As(store_, "cw1"), request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StartsWith(status.message(), "idempotency_key: ")) << status.message();
  }
  EXPECT_EQ(store_.changes.size(), 1u);
}

TEST_F(CaseKeeperTest, CaseStateRules) {
  v1::FollowUpActionRequest follow_up;
  follow_up.set_case_ref("C-1");
  follow_up.set_base_version(3);
  follow_up.set_action_id(99);
  follow_up.set_result(v1::FOLLOW_UP_DONE);
  EXPECT_EQ(keeper_.FollowUpAction(As(store_, "cw1"), follow_up).status().code(),
            absl::StatusCode::kNotFound);
  follow_up.set_action_id(41);
  follow_up.set_result(v1::FOLLOW_UP_POSTPONED);
  follow_up.set_postponed_to("2026-11-15");  // in the past
  EXPECT_EQ(keeper_.FollowUpAction(As(store_, "cw1"), follow_up)
                .status()
                .message()
                .rfind("postponed_to:", 0),
            0u);
  follow_up.set_result(v1::FOLLOW_UP_DONE);
  EXPECT_EQ(keeper_.FollowUpAction(As(store_, "cw1"), follow_up)
                .status()
                .message()
                .rfind("postponed_to:", 0),
            0u);
  follow_up.clear_postponed_to();
  ASSERT_TRUE(keeper_.FollowUpAction(As(store_, "cw1"), follow_up).ok());
  EXPECT_EQ(std::get<NewFollowUp>(store_.changes.back().body).previous_due_on,
            absl::CivilDay(2026, 11, 15));

  v1::ReopenCaseRequest reopen;
  reopen.set_case_ref("C-1");
  reopen.set_base_version(4);
  reopen.set_reopened_on("2026-11-16");
  EXPECT_EQ(keeper_.ReopenCase(As(store_, "cw1"), reopen).status().code(),
            absl::StatusCode::kFailedPrecondition);

  v1::ReassignCaseRequest reassign;
  reassign.set_case_ref("C-1");
  reassign.set_base_version(4);
  reassign.set_to_caseworker("cw1");
  reassign.set_on("2026-11-16");
  EXPECT_EQ(keeper_.ReassignCase(As(store_, "cw1"), reassign).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(keeper_.ReassignCase(As(store_, "tl1"), reassign).status().code(),
            absl::StatusCode::kFailedPrecondition);
  reassign.set_to_caseworker("cw3");
  // Into another team: not by a team leader (issue 8), by a manager.
  EXPECT_EQ(keeper_.ReassignCase(As(store_, "tl1"), reassign).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(keeper_.ReassignCase(As(store_, "mgr"), reassign).ok());
  const auto& assignment = std::get<NewAssignment>(store_.changes.back().body);
  EXPECT_EQ(assignment.caseworker_id, 102);
  EXPECT_EQ(assignment.team_id, kTeam2);
}

TEST_F(CaseKeeperTest, CreateCaseDefaultsToTheCallerAndTheirTeam) {
  v1::CreateCaseRequest request;
  request.set_case_ref("NEW-1");
  request.set_case_type("SDP");
  request.set_opened_on("2026-11-16");
  ASSERT_TRUE(keeper_.CreateCase(As(store_, "cw1"), request).ok());
  ASSERT_EQ(store_.created.size(), 1u);
  EXPECT_EQ(store_.created[0].caseworker_id, 100);
  EXPECT_EQ(store_.created[0].team_id, kTeam1);
  request.set_opened_on("2026-11-17");  // tomorrow
  EXPECT_EQ(
      keeper_.CreateCase(As(store_, "cw1"), request).status().message().rfind("opened_on:", 0), 0u);
  EXPECT_EQ(store_.created.size(), 1u);
}

}  // namespace
}  // namespace forecast
