// Issue 8, the authorisation gaps, over gRPC against the real server and database:
// team leaders re-assign within their own team only (managers across teams); an action's owner
// comes from the case's team; authorisation runs before any idempotency-key lookup (a key used
// by someone else reveals nothing); a dialogue_id must exist and be held with the case's
// caseworker.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <string>

#include "absl/strings/str_cat.h"
#include "tests/case/case_test_env.h"

namespace forecast::testing {
namespace {

class CaseGapsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = CaseEnv::Create(/*serve=*/true).release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  static v1::Case Create(const std::string& ref, const std::string& as = "cw1") {
    v1::CreateCaseRequest request;
    request.set_case_ref(ref);
    request.set_case_type("JAF");
    request.set_opened_on("2026-01-05");
    v1::Case c;
    grpc::Status status = env_->stub().CreateCase(CaseEnv::Context(as).get(), request, &c);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return c;
  }

  static grpc::Status Reassign(const std::string& as, const v1::Case& c, const std::string& to,
                               v1::Case* out) {
    v1::ReassignCaseRequest request;
    request.set_case_ref(c.case_ref());
    request.set_base_version(c.version());
    request.set_to_caseworker(to);
    request.set_on("2026-11-16");
    return env_->stub().ReassignCase(CaseEnv::Context(as).get(), request, out);
  }

  static grpc::Status AddAction(const std::string& as, const v1::Case& c, const std::string& owner,
                                v1::Case* out, const std::string& key = "") {
    v1::AddActionRequest request;
    request.set_case_ref(c.case_ref());
    request.set_base_version(c.version());
    request.set_description("Ring borgeren op");
    request.set_owner(owner);
    request.set_due_on("2026-12-01");
    request.set_idempotency_key(key);
    return env_->stub().AddAction(CaseEnv::Context(as).get(), request, out);
  }

  static CaseEnv* env_;
};

CaseEnv* CaseGapsTest::env_ = nullptr;

TEST_F(CaseGapsTest, TeamLeadersReassignWithinTheirOwnTeamOnly) {
  v1::Case c = Create("GAP-R1");
  const std::string before = env_->Dump();
  v1::Case out;
  grpc::Status into_other_team = Reassign("tl1", c, "cw3", &out);  // cw3 is in T2
  EXPECT_EQ(into_other_team.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << into_other_team.error_message();
  EXPECT_EQ(env_->Dump(), before);
  ASSERT_TRUE(Reassign("tl1", c, "cw2", &out).ok());  // within T1
  EXPECT_EQ(out.caseworker(), "cw2");
  grpc::Status by_manager = Reassign("mgr", out, "cw3", &out);  // managers move cases across teams
  ASSERT_TRUE(by_manager.ok()) << by_manager.error_message();
  EXPECT_EQ(out.team(), "T2");
}

TEST_F(CaseGapsTest, ActionOwnersComeFromTheCasesTeam) {
  v1::Case c = Create("GAP-A1");
  const std::string before = env_->Dump();
  v1::Case out;
  grpc::Status foreign = AddAction("cw1", c, "cw3", &out);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(foreign.error_message().rfind("owner: ", 0), 0u) << foreign.error_message();
  foreign = AddAction("cw1", c, "mgr", &out);  // a manager is in no team
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(env_->Dump(), before);
  ASSERT_TRUE(AddAction("cw1", c, "cw2", &out).ok());
  // A manager adding an action without naming an owner gives it to the case's caseworker.
  grpc::Status by_manager = AddAction("mgr", out, "", &out);
  ASSERT_TRUE(by_manager.ok()) << by_manager.error_message();
  ASSERT_EQ(out.open_actions_size(), 2);
  for (const v1::Action& action : out.open_actions()) EXPECT_NE(action.owner(), "mgr");
}

TEST_F(CaseGapsTest, AuthorisationRunsBeforeTheIdempotencyLookup) {
  v1::Case c = Create("GAP-I1");
  v1::Case first;
  ASSERT_TRUE(AddAction("cw1", c, "", &first, "shared-key-1").ok());
  // Someone who may not write the case learns nothing about the key: the refusal is the same
  // as with a fresh key.
  v1::Case out;
  grpc::Status outsider = AddAction("cw3", c, "", &out, "shared-key-1");
  grpc::Status outsider_fresh = AddAction("cw3", c, "", &out, "never-used-key");
  EXPECT_EQ(outsider.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(outsider.error_message(), outsider_fresh.error_message());
  // A colleague who may write it, reusing the key with another request, is not told that the
  // key exists either: keys are per caller, so it is a fresh write.
  grpc::Status colleague = AddAction("tl1", first, "cw2", &out, "shared-key-1");
  ASSERT_TRUE(colleague.ok()) << colleague.error_message();
  EXPECT_EQ(out.open_actions_size(), 2);
  // And the first caller's retry still gets the first answer.
  v1::Case retry;
  ASSERT_TRUE(AddAction("cw1", c, "", &retry, "shared-key-1").ok());
  EXPECT_EQ(retry.SerializeAsString(), first.SerializeAsString());
  // Creating: the same order (a caseworker may not create for another team, key or no key).
  v1::CreateCaseRequest create;
  create.set_case_ref("GAP-I2");
  create.set_case_type("JAF");
  create.set_opened_on("2026-01-05");
  create.set_caseworker("cw3");
  create.set_idempotency_key("shared-key-1");
  grpc::Status create_outsider =
      env_->stub().CreateCase(CaseEnv::Context("cw1").get(), create, &out);
  EXPECT_EQ(create_outsider.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CaseGapsTest, ADialogueMustExistAndBeHeldWithTheCasesCaseworker) {
  v1::Case c = Create("GAP-D1");
  // Open dialogues (drafts): agreements are recorded only while a dialogue is open.
  const auto dialogue_with = [](const std::string& caseworker) {
    return std::stoll(env_->Scalar(
        "INSERT INTO dialogue (job_centre_id, team_id, team_leader_id, caseworker_id, held_on, "
        "state) "
        "SELECT s.job_centre_id, s.team_id, l.id, s.id, date '2026-11-10', 'DRAFT' FROM staff s "
        "JOIN staff l ON l.job_centre_id = s.job_centre_id AND l.code = 'tl1' "
        "JOIN job_centre j ON j.id = s.job_centre_id AND j.code = 'JC1' "
        "WHERE s.code = '" +
        caseworker + "' RETURNING id"));
  };
  const int64_t with_cw1 = dialogue_with("cw1");
  const int64_t with_cw2 = dialogue_with("cw2");
  const auto record = [&](int64_t dialogue_id, v1::Case* out) {
    v1::RecordExpectationRequest request;
    request.set_case_ref(c.case_ref());
    request.set_base_version(c.version());
    request.set_expected_outcome("EDUCATION");
    request.set_expected_month("2027-06");
    request.set_risk("HIGH");
    request.set_agreed_in_dialogue(true);
    request.set_dialogue_id(dialogue_id);
    return env_->stub().RecordExpectation(CaseEnv::Context("tl1").get(), request, out);
  };
  const std::string before = env_->Dump();
  v1::Case out;
  for (int64_t bad : {with_cw2, with_cw1 + with_cw2 + 1000}) {
    grpc::Status status = record(bad, &out);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_EQ(status.error_message().rfind("dialogue_id: ", 0), 0u) << status.error_message();
  }
  EXPECT_EQ(env_->Dump(), before);
  grpc::Status good = record(with_cw1, &out);
  ASSERT_TRUE(good.ok()) << good.error_message();
  // Once finalised, the dialogue takes no more agreements: FAILED_PRECONDITION naming
  // dialogue_id, reason DIALOGUE_FINAL, nothing written (on both write paths: the one-statement
  // function falls back, the general path words it).
  env_->Scalar("UPDATE dialogue SET state = 'FINAL', finalised_at = now() WHERE id = " +
               std::to_string(with_cw1) + " RETURNING id");
  c = out;
  const std::string before_final = env_->Dump();
  grpc::Status refused = record(with_cw1, &out);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_EQ(refused.error_message().rfind("dialogue_id: ", 0), 0u) << refused.error_message();
  EXPECT_NE(refused.error_details().find("DIALOGUE_FINAL"), std::string::npos);
  EXPECT_EQ(env_->Dump(), before_final);
}

// The one-statement write path holds the same rules (migration 0035): case_record_expectation()
// called directly, as the case service's role, refuses ('fallback: ...', nothing written) what
// the general path would refuse, and keeps idempotency keys per caller.
TEST_F(CaseGapsTest, SqlFunctionHoldsTheRules) {
  v1::Case c = Create("GAP-S1");
  const auto id_of = [](const std::string& code) {
    return std::stoll(env_->Scalar(
        "SELECT s.id FROM staff s JOIN job_centre j ON j.id = s.job_centre_id AND j.code = 'JC1' "
        "WHERE s.code = '" +
        code + "'"));
  };
  const int64_t centre = std::stoll(env_->Scalar("SELECT id FROM job_centre WHERE code = 'JC1'"));
  const int64_t cw1 = id_of("cw1"), cw3 = id_of("cw3"), tl1 = id_of("tl1");
  const int64_t team1 = std::stoll(env_->Scalar(
      "SELECT id FROM org_unit WHERE code = 'T1' AND job_centre_id = " + std::to_string(centre)));
  const int64_t with_cw2 = std::stoll(env_->Scalar(
      "INSERT INTO dialogue (job_centre_id, team_id, team_leader_id, caseworker_id, held_on, "
      "finalised_at) "
      "SELECT job_centre_id, team_id, " +
      std::to_string(tl1) +
      ", id, date '2026-11-10', now() "
      "FROM staff WHERE id = " +
      std::to_string(id_of("cw2")) + " RETURNING id"));
  struct Call {
    int64_t actor;
    int64_t filter_team;   // the caller's write filter: one team, or
    int64_t filter_staff;  // one caseworker's own cases
    int64_t base_version;
    bool agreed;
    int64_t dialogue;
    std::string key;
  };
  // The function's answer: "" when it wrote, else the text of its refusal.
  const auto call = [&](const Call& k) -> std::string {
    absl::StatusOr<PgPool::Lease> lease = env_->service_pool().Acquire();
    if (!lease.ok()) return std::string(lease.status().message());
    try {
      pqxx::nontransaction tx(**lease);
      tx.exec_params(
          "SELECT case_record_expectation($1, $2, $3, $4, false, $5, $6, $7, 'RecordExpectation', "
          "'hash', 'EDUCATION', date '2027-06-01', 'HIGH', $8, $9, '', date '2026-11-16')",
          centre, c.case_ref(), k.base_version, k.actor, k.filter_team, k.filter_staff, k.key,
          k.agreed, k.dialogue);
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  };
  // A finalised dialogue with the case's caseworker.
  const int64_t final_with_cw1 = std::stoll(env_->Scalar(
      "INSERT INTO dialogue (job_centre_id, team_id, team_leader_id, caseworker_id, held_on, "
      "finalised_at) SELECT job_centre_id, team_id, " +
      std::to_string(tl1) + ", id, date '2026-11-10', now() FROM staff WHERE id = " +
      std::to_string(cw1) + " RETURNING id"));
  const std::string before = env_->Dump();
  // 1. Authorisation first: cw3 (team T2) may not write cw1's case, key or no key; its key is
  //    never looked at or stored.
  EXPECT_NE(
      call({cw3, 0, cw3, c.version(), false, 0, "k1"}).find("fallback: not a case this caller"),
      std::string::npos);
  // 2. A dialogue held with another caseworker.
  EXPECT_NE(
      call({tl1, team1, tl1, c.version(), true, with_cw2, ""}).find("fallback: no such dialogue"),
      std::string::npos);
  // 2b. A finalised dialogue with the case's caseworker (0070): no agreement in it.
  EXPECT_NE(call({tl1, team1, tl1, c.version(), true, final_with_cw1, ""})
                .find("fallback: no such dialogue open"),
            std::string::npos);
  // 3. "Agreed in dialogue" without a dialogue, from a caseworker.
  EXPECT_NE(call({cw1, 0, cw1, c.version(), true, 0, ""}).find("fallback: only a team leader"),
            std::string::npos);
  EXPECT_EQ(env_->Dump(), before);
  // Allowed: the caseworker without the mark, then the team leader with it, each with the same
  // client key, which is kept per caller.
  EXPECT_EQ(call({cw1, 0, cw1, c.version(), false, 0, "k1"}), "");
  EXPECT_EQ(call({tl1, team1, tl1, c.version() + 1, true, 0, "k1"}), "");
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM idempotency_key WHERE key IN ('" +
                         std::to_string(cw1) + ":k1', '" + std::to_string(tl1) + ":k1')"),
            "2");
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM idempotency_key WHERE key = 'k1'"), "0");
  // The caseworker's retry with the key is refused by the key's primary key (migration 0110; the
  // general path replays it), and writes nothing.
  const std::string after_writes = env_->Dump();
  EXPECT_NE(call({cw1, 0, cw1, c.version() + 2, false, 0, "k1"}).find("idempotency_key_pkey"),
            std::string::npos);
  EXPECT_EQ(env_->Dump(), after_writes);
}

// Migration 0120: writes sent together succeed or are refused each on its own. The middle one
// names a stale version; the others commit, and it writes nothing.
TEST_F(CaseGapsTest, WritesSentTogetherAreRefusedOneByOne) {
  const v1::Case a = Create("GAP-B1");
  const v1::Case b = Create("GAP-B2");
  const v1::Case c = Create("GAP-B3");
  const std::string cw1 = env_->Scalar(
      "SELECT s.id FROM staff s JOIN job_centre j ON j.id = s.job_centre_id AND j.code = 'JC1' "
      "WHERE s.code = 'cw1'");
  const std::string centre = env_->Scalar("SELECT id FROM job_centre WHERE code = 'JC1'");
  const auto write = [&](int i, const v1::Case& on, int64_t version) {
    return absl::StrCat(
        R"({"i": )", i, R"(, "centre": )", centre, R"(, "case_ref": ")", on.case_ref(),
        R"(", "base_version": )", version, R"(, "actor": )", cw1,
        R"(, "all_cases": false, "team": 0, "staff": )", cw1, R"(, "key": "b)", i,
        R"(", "method": "RecordExpectation", "hash": "h", )",
        R"("outcome": "EDUCATION", "month": "2027-06-01", "risk": "LOW", )",
        R"("agreed": false, "dialogue": 0, "note": "", "effective_on": "2026-11-16"})");
  };
  const std::string writes =
      absl::StrCat("[", write(0, a, a.version()), ",", write(1, b, b.version() + 5), ",",
                   write(2, c, c.version()), "]");
  absl::StatusOr<PgPool::Lease> lease = env_->service_pool().Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  pqxx::nontransaction tx(**lease);
  const pqxx::result rows = tx.exec_params(
      "SELECT i, answer IS NOT NULL, coalesce(refusal, '') FROM case_record_expectations($1) "
      "ORDER BY i",
      writes);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0][1].as<bool>());
  EXPECT_FALSE(rows[1][1].as<bool>());
  EXPECT_NE(rows[1][2].as<std::string>().find("fallback: the case does not take this write"),
            std::string::npos)
      << rows[1][2].as<std::string>();
  EXPECT_TRUE(rows[2][1].as<bool>());
  EXPECT_EQ(env_->Scalar("SELECT string_agg(case_ref || '=' || version, ' ' ORDER BY case_ref) "
                         "FROM cases WHERE case_ref LIKE 'GAP-B%'"),
            absl::StrCat("GAP-B1=", a.version() + 1, " GAP-B2=", b.version(),
                         " GAP-B3=", c.version() + 1));
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM idempotency_key WHERE key LIKE '%:b_'"), "2");
}

}  // namespace
}  // namespace forecast::testing
