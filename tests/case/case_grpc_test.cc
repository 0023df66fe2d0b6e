// End-to-end over gRPC: the real server on port 0, a real channel, the real database.
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/sync_stream.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/common/limits.h"
#include "tests/case/case_test_env.h"

namespace forecast::testing {
namespace {

class CaseGrpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = CaseEnv::Create(/*serve=*/true).release(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  // Creates a case as `as` and returns it (failing the test on error).
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

  static v1::RecordExpectationRequest Expectation(const std::string& ref, int64_t base) {
    v1::RecordExpectationRequest request;
    request.set_case_ref(ref);
    request.set_base_version(base);
    request.set_expected_outcome("EDUCATION");
    request.set_expected_month("2027-06");
    request.set_risk("HIGH");
    return request;
  }

  static CaseEnv* env_;
};

CaseEnv* CaseGrpcTest::env_ = nullptr;

TEST_F(CaseGrpcTest, TwoConcurrentWritesOnOneVersionExactlyOneWins) {
  for (int round = 0; round < 5; ++round) {
    const std::string ref = "RACE-" + std::to_string(round);
    Create(ref);
    std::atomic<int> ready{0};
    grpc::Status results[2];
    std::thread writers[2];
    for (int w = 0; w < 2; ++w) {
      writers[w] = std::thread([&, w] {
        v1::RecordExpectationRequest request = Expectation(ref, 1);
        request.set_note(w == 0 ? "first writer" : "second writer");
        auto context = CaseEnv::Context(w == 0 ? "cw1" : "tl1");
        v1::Case response;
        ++ready;
        while (ready.load() < 2) std::this_thread::yield();
        results[w] = env_->stub().RecordExpectation(context.get(), request, &response);
      });
    }
    for (auto& writer : writers) writer.join();
    const int wins = results[0].ok() + results[1].ok();
    ASSERT_EQ(wins, 1) << results[0].error_message() << " / " << results[1].error_message();
    const grpc::Status& loser = results[0].ok() ? results[1] : results[0];
    EXPECT_EQ(loser.error_code(), grpc::StatusCode::ABORTED);
    EXPECT_EQ(loser.error_message(), "case " + ref + " is at version 2, the write was based on 1");
    EXPECT_EQ(
        env_->Scalar(
            "SELECT count(*) FROM expectation e JOIN cases c ON c.id = e.case_id WHERE c.case_ref = '" +
            ref + "'"),
        "1");
  }
}

// A long history comes in pages, newest first; joined, the pages are the whole history once.
TEST_F(CaseGrpcTest, HistoryPagesRunNewestFirstAndJoinToTheWhole) {
  int64_t version = Create("HIST-1").version();
  const char* months[] = {"2027-01", "2027-02", "2027-03", "2027-04",
                          "2027-05", "2027-06", "2027-07"};
  for (const char* month : months) {
    v1::RecordExpectationRequest request = Expectation("HIST-1", version);
    request.set_expected_month(month);
    v1::Case answer;
    ASSERT_TRUE(
        env_->stub().RecordExpectation(CaseEnv::Context("cw1").get(), request, &answer).ok());
    version = answer.version();
  }
  for (int i = 0; i < 5; ++i) {
    v1::AddActionRequest request;
    request.set_case_ref("HIST-1");
    request.set_base_version(version);
    request.set_description(absl::StrCat("step ", i));
    request.set_due_on("2027-01-15");
    v1::Case answer;
    ASSERT_TRUE(env_->stub().AddAction(CaseEnv::Context("cw1").get(), request, &answer).ok());
    version = answer.version();
  }
  // 1 opening + 7 expectations + 5 actions = 13 events.
  std::vector<v1::CaseHistory> pages;
  v1::GetCaseHistoryRequest request;
  request.set_case_ref("HIST-1");
  request.set_page_size(3);
  do {
    v1::CaseHistory page;
    grpc::Status status =
        env_->stub().GetCaseHistory(CaseEnv::Context("cw1").get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(page.event_count(), 13);
    EXPECT_EQ(page.expectation_count(), 7);
    EXPECT_EQ(page.action_count(), 5);
    EXPECT_EQ(page.current().version(), version);
    EXPECT_LE(page.events_size(), 3);
    pages.push_back(page);
    request.set_page_token(page.next_page_token());
    ASSERT_LT(pages.size(), 10u) << "the pages do not end";
  } while (!request.page_token().empty());
  ASSERT_EQ(pages.size(), 5u);  // 13 events at 3 a page
  // The first page holds the newest rows, oldest first within it.
  ASSERT_EQ(pages[0].events_size(), 3);
  EXPECT_EQ(pages[0].events(2).case_version(), version);
  EXPECT_EQ(pages[0].events(0).case_version(), version - 2);
  ASSERT_EQ(pages[0].expectations_size(), 3);
  EXPECT_EQ(pages[0].expectations(2).expected_month(), "2027-07");
  ASSERT_EQ(pages[0].actions_size(), 3);
  EXPECT_EQ(pages[0].actions(2).description(), "step 4");
  // Joined from the last page to the first: every row once, in order.
  std::vector<int64_t> versions;
  std::vector<std::string> expected_months;
  std::vector<std::string> actions;
  for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
    for (const v1::CaseEvent& e : page->events()) versions.push_back(e.case_version());
    for (const v1::Expectation& e : page->expectations())
      expected_months.push_back(e.expected_month());
    for (const v1::Action& a : page->actions()) actions.push_back(a.description());
  }
  std::vector<int64_t> all_versions;
  for (int64_t v = 1; v <= version; ++v) all_versions.push_back(v);
  EXPECT_EQ(versions, all_versions);
  EXPECT_EQ(expected_months, std::vector<std::string>(std::begin(months), std::end(months)));
  EXPECT_EQ(actions, (std::vector<std::string>{"step 0", "step 1", "step 2", "step 3", "step 4"}));

  // The default page holds a short history whole, with no token.
  v1::GetCaseHistoryRequest whole;
  whole.set_case_ref("HIST-1");
  v1::CaseHistory all;
  ASSERT_TRUE(env_->stub().GetCaseHistory(CaseEnv::Context("cw1").get(), whole, &all).ok());
  EXPECT_EQ(all.events_size(), 13);
  EXPECT_TRUE(all.next_page_token().empty());

  // A token is bound to its case, and a page size is bounded.
  Create("HIST-2");
  v1::GetCaseHistoryRequest other;
  other.set_case_ref("HIST-2");
  other.set_page_size(3);
  other.set_page_token(pages[0].next_page_token());
  v1::CaseHistory refused;
  grpc::Status status = env_->stub().GetCaseHistory(CaseEnv::Context("cw1").get(), other, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "page_token: belongs to another case");
  other.set_page_token("bm90LWEtdG9rZW4");
  status = env_->stub().GetCaseHistory(CaseEnv::Context("cw1").get(), other, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  other.clear_page_token();
  other.set_page_size(1001);
  status = env_->stub().GetCaseHistory(CaseEnv::Context("cw1").get(), other, &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("page_size:", 0), 0u);
}

TEST_F(CaseGrpcTest, RetriedIdempotentWriteAppliesOnce) {
  Create("IDEM-1");
  v1::RecordExpectationRequest request = Expectation("IDEM-1", 1);
  request.set_idempotency_key("key-idem-1");
  v1::Case first, second;
  ASSERT_TRUE(env_->stub().RecordExpectation(CaseEnv::Context("cw1").get(), request, &first).ok());
  grpc::Status retry =
      env_->stub().RecordExpectation(CaseEnv::Context("cw1").get(), request, &second);
  ASSERT_TRUE(retry.ok()) << retry.error_message();  // not ABORTED, though version moved on
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  EXPECT_EQ(second.version(), 2);
  v1::GetCaseHistoryRequest history_request;
  history_request.set_case_ref("IDEM-1");
  v1::CaseHistory history;
  ASSERT_TRUE(
      env_->stub().GetCaseHistory(CaseEnv::Context("cw1").get(), history_request, &history).ok());
  EXPECT_EQ(history.expectations_size(), 1);
  EXPECT_EQ(history.events_size(), 2);

  // The same key with another request is refused and changes nothing.
  const std::string before = env_->Dump();
  request.set_risk("LOW");
  v1::Case ignored;
  grpc::Status reuse =
      env_->stub().RecordExpectation(CaseEnv::Context("cw1").get(), request, &ignored);
  EXPECT_EQ(reuse.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(reuse.error_message().rfind("idempotency_key:", 0), 0u);
  EXPECT_EQ(env_->Dump(), before);

  // Concurrent retries of a create: one case, the same answer for both.
  v1::CreateCaseRequest create;
  create.set_case_ref("IDEM-2");
  create.set_case_type("SDP");
  create.set_opened_on("2026-02-01");
  create.set_idempotency_key("key-idem-2");
  v1::Case answers[3];
  grpc::Status statuses[3];
  std::thread retries[3];
  for (int i = 0; i < 3; ++i) {
    retries[i] = std::thread([&, i] {
      statuses[i] = env_->stub().CreateCase(CaseEnv::Context("cw1").get(), create, &answers[i]);
    });
  }
  for (auto& t : retries) t.join();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(answers[i].SerializeAsString(), answers[0].SerializeAsString());
  }
  EXPECT_EQ(
      env_->Scalar(
          "SELECT count(*) FROM case_event e JOIN cases c ON c.id = e.case_id WHERE c.case_ref = 'IDEM-2'"),
      "1");

  // Concurrent retries of a write: applied once, every retry answered with the first answer.
  Create("IDEM-3");
  v1::RecordExpectationRequest write = Expectation("IDEM-3", 1);
  write.set_idempotency_key("key-idem-3");
  for (int i = 0; i < 3; ++i) {
    retries[i] = std::thread([&, i] {
      statuses[i] =
          env_->stub().RecordExpectation(CaseEnv::Context("cw1").get(), write, &answers[i]);
    });
  }
  for (auto& t : retries) t.join();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(answers[i].SerializeAsString(), answers[0].SerializeAsString());
  }
  EXPECT_EQ(
      env_->Scalar(
          "SELECT count(*) FROM expectation e JOIN cases c ON c.id = e.case_id WHERE c.case_ref = 'IDEM-3'"),
      "1");
}

TEST_F(CaseGrpcTest, BadInputIsRefusedNamingTheFieldAndChangesNothing) {
  v1::Case base = Create("BAD-1");
  ASSERT_EQ(base.version(), 1);
  struct Row {
    const char* field;
    std::function<grpc::Status(v1::CaseService::Stub&, grpc::ClientContext*)> call;
    const char* as = "cw1";  // re-assigning needs the team leader
  };
  auto expectation = [](std::function<void(v1::RecordExpectationRequest&)> edit) {
    return [edit](v1::CaseService::Stub& stub, grpc::ClientContext* context) {
      v1::RecordExpectationRequest request = Expectation("BAD-1", 1);
      edit(request);
      v1::Case response;
      return stub.RecordExpectation(context, request, &response);
    };
  };
  auto create = [](std::function<void(v1::CreateCaseRequest&)> edit) {
    return [edit](v1::CaseService::Stub& stub, grpc::ClientContext* context) {
      v1::CreateCaseRequest request;
      request.set_case_ref("NEW-1");
      request.set_case_type("SDP");
      request.set_opened_on("2026-01-05");
      edit(request);
      v1::Case response;
      return stub.CreateCase(context, request, &response);
    };
  };
  auto action = [](std::function<void(v1::AddActionRequest&)> edit) {
    return [edit](v1::CaseService::Stub& stub, grpc::ClientContext* context) {
      v1::AddActionRequest request;
      request.set_case_ref("BAD-1");
      request.set_base_version(1);
      request.set_description("Call the employer");
      request.set_due_on("2026-12-01");
      edit(request);
      v1::Case response;
      return stub.AddAction(context, request, &response);
    };
  };
  auto generic = [](auto method, auto fill) {
    return [method, fill](v1::CaseService::Stub& stub, grpc::ClientContext* context) {
      auto request = fill();
      v1::Case response;
      return (stub.*method)(context, request, &response);
    };
  };
  auto close = [&](const char* on, const char* outcome) {
    return generic(&v1::CaseService::Stub::CloseCase, [on, outcome] {
      v1::CloseCaseRequest r;
      r.set_case_ref("BAD-1");
      r.set_base_version(1);
      r.set_closed_on(on);
      r.set_outcome(outcome);
      return r;
    });
  };
  auto reassign = [&](const char* to, const char* on) {
    return generic(&v1::CaseService::Stub::ReassignCase, [to, on] {
      v1::ReassignCaseRequest r;
      r.set_case_ref("BAD-1");
      r.set_base_version(1);
      r.set_to_caseworker(to);
      r.set_on(on);
      return r;
    });
  };
  auto fields = [&](std::function<void(v1::SetCaseFieldsRequest&)> edit) {
    return generic(&v1::CaseService::Stub::SetCaseFields, [edit] {
      v1::SetCaseFieldsRequest r;
      r.set_case_ref("BAD-1");
      r.set_base_version(1);
      edit(r);
      return r;
    });
  };
  auto follow_up = [&](v1::FollowUpResult result) {
    return generic(&v1::CaseService::Stub::FollowUpAction, [result] {
      v1::FollowUpActionRequest r;
      r.set_case_ref("BAD-1");
      r.set_base_version(1);
      r.set_action_id(1);
      r.set_result(result);
      return r;
    });
  };
  const std::string long_note(kMaxNoteChars + 1, 'x');
  const Row rows[] = {
      {"expected_month",
       expectation([](auto& r) { r.set_expected_month("2025-12"); })},  // before opening
      {"expected_month",
       expectation([](auto& r) { r.set_expected_month("2031-12"); })},  // > 60 months
      {"expected_month", expectation([](auto& r) { r.set_expected_month("2027-13"); })},
      {"expected_month", expectation([](auto& r) { r.set_expected_month(""); })},
      {"expected_outcome", expectation([](auto& r) { r.set_expected_outcome("LOTTERY"); })},
      {"expected_outcome",
       expectation([](auto& r) { r.set_expected_outcome("SDP"); })},  // a case type
      {"risk", expectation([](auto& r) { r.set_risk("EXTREME"); })},
      {"note", expectation([&](auto& r) { r.set_note(long_note); })},
      {"note", expectation([](auto& r) { r.set_note("citizen 010190-1234 called"); })},
      {"note", expectation([](auto& r) { r.set_note("cpr 0101901234"); })},
      {"base_version", expectation([](auto& r) { r.set_base_version(0); })},
      {"case_ref", expectation([](auto& r) { r.set_case_ref("bad ref"); })},
      {"case_ref", create([](auto& r) { r.set_case_ref("010190-1234"); })},
      {"case_ref", create([](auto& r) { r.set_case_ref("0101901234"); })},
      {"case_ref", create([](auto& r) { r.set_case_ref(std::string(41, 'A')); })},
      {"case_type", create([](auto& r) { r.set_case_type("XYZ"); })},
      {"opened_on", create([](auto& r) { r.set_opened_on("2026-02-30"); })},
      {"opened_on", create([](auto& r) { r.set_opened_on("2027-01-01"); })},  // in the future
      {"caseworker", create([](auto& r) { r.set_caseworker("nobody"); })},
      {"caseworker", create([](auto& r) { r.set_caseworker("gone"); })},  // inactive
      {"fields[unknown]",
       create([](auto& r) { (*r.mutable_fields())["unknown"].set_bool_value(true); })},
      {"description", action([](auto& r) { r.set_description(""); })},
      {"description", action([](auto& r) { r.set_description(std::string(501, 'd')); })},
      {"description", action([](auto& r) { r.set_description("ring 311299-0001 tomorrow"); })},
      {"due_on", action([](auto& r) { r.set_due_on("2025-12-31"); })},  // before opening
      {"owner", action([](auto& r) { r.set_owner("cwx"); })},  // another job centre's staff
      {"idempotency_key", action([](auto& r) { r.set_idempotency_key(std::string(200, 'k')); })},
      {"outcome", close("2026-02-01", "WON_LOTTERY")},
      {"closed_on", close("2025-12-01", "OTHER")},  // before the case opened
      {"closed_on", close("2026-11-17", "OTHER")},  // tomorrow
      {"to_caseworker", reassign("nobody", "2026-02-01"), "tl1"},
      {"on", reassign("cw2", "2026-13-01"), "tl1"},
      {"fields[nope]", fields([](auto& r) { (*r.mutable_fields())["nope"].set_bool_value(true); })},
      {"fields", fields([](auto&) {})},
      {"clear_fields[nope]", fields([](auto& r) { r.add_clear_fields("nope"); })},
      {"result", follow_up(v1::FOLLOW_UP_RESULT_UNSPECIFIED)},
      {"postponed_to", follow_up(v1::FOLLOW_UP_POSTPONED)},
  };
  const std::string before = env_->Dump();
  for (const Row& row : rows) {
    auto context = CaseEnv::Context(row.as);
    grpc::Status status = row.call(env_->stub(), context.get());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << row.field << ": " << status.error_message();
    EXPECT_EQ(status.error_message().rfind(std::string(row.field) + ":", 0), 0u)
        << "expected the message to start with " << row.field
        << ", got: " << status.error_message();
  }
  EXPECT_EQ(env_->Dump(), before);
}

TEST_F(CaseGrpcTest, OtherJobCentresNeverSeeACase) {
  Create("PRIVATE-1");
  v1::GetCaseRequest get;
  get.set_case_ref("PRIVATE-1");
  v1::Case response;
  grpc::Status other = env_->stub().GetCase(CaseEnv::Context("cwx", "JC2").get(), get, &response);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::NOT_FOUND);
  get.set_case_ref("NEVER-EXISTED");
  grpc::Status missing = env_->stub().GetCase(CaseEnv::Context("cwx", "JC2").get(), get, &response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  // Indistinguishable from a missing case, apart from the reference itself.
  EXPECT_EQ(other.error_message(), "case_ref: case \"PRIVATE-1\" not found");
  // Writes are refused the same way and change nothing.
  const std::string before = env_->Dump();
  v1::RecordExpectationRequest write = Expectation("PRIVATE-1", 1);
  EXPECT_EQ(env_->stub()
                .RecordExpectation(CaseEnv::Context("admin2", "JC2").get(), write, &response)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(env_->Dump(), before);
  // The same staff code in another job centre is another person: a JC2 token cannot name JC1's
  // staff.
  grpc::Status impostor =
      env_->stub().GetCase(CaseEnv::Context("cw1", "JC2").get(), get, &response);
  EXPECT_EQ(impostor.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(CaseGrpcTest, CallerIdentityIsRequired) {
  v1::StaffMember me;
  grpc::ClientContext bare;
  EXPECT_EQ(env_->stub().WhoAmI(&bare, v1::WhoAmIRequest(), &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Bare metadata naming a caller is no credential.
  grpc::ClientContext forged;
  forged.AddMetadata("x-job-centre", "JC1");
  forged.AddMetadata("x-staff", "tl1");
  grpc::Status status = env_->stub().WhoAmI(&forged, v1::WhoAmIRequest(), &me);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("authorization"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(
      env_->stub().WhoAmI(CaseEnv::Context("gone").get(), v1::WhoAmIRequest(), &me).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(env_->stub().WhoAmI(CaseEnv::Context("tl1").get(), v1::WhoAmIRequest(), &me).ok());
  EXPECT_EQ(me.role(), v1::TEAM_LEADER);
  EXPECT_EQ(me.team(), "T1");
  EXPECT_EQ(me.job_centre(), "JC1");
  v1::Organisation organisation;
  ASSERT_TRUE(env_->stub()
                  .GetOrganisation(CaseEnv::Context("cw1").get(), v1::GetOrganisationRequest(),
                                   &organisation)
                  .ok());
  EXPECT_EQ(organisation.units_size(), 3);
  EXPECT_EQ(organisation.staff_size(), 8);
}

TEST_F(CaseGrpcTest, RoleRules) {
  Create("ROLE-1", "cw1");
  v1::Case response;
  // A teammate reads but may not write.
  v1::GetCaseRequest get;
  get.set_case_ref("ROLE-1");
  EXPECT_TRUE(env_->stub().GetCase(CaseEnv::Context("cw2").get(), get, &response).ok());
  EXPECT_EQ(
      env_->stub()
          .RecordExpectation(CaseEnv::Context("cw2").get(), Expectation("ROLE-1", 1), &response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Another team neither reads nor writes.
  EXPECT_EQ(env_->stub().GetCase(CaseEnv::Context("cw3").get(), get, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_->stub().GetCase(CaseEnv::Context("tl2").get(), get, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // The team leader and the manager write; the admin does not.
  ASSERT_TRUE(
      env_->stub()
          .RecordExpectation(CaseEnv::Context("tl1").get(), Expectation("ROLE-1", 1), &response)
          .ok());
  ASSERT_TRUE(
      env_->stub()
          .RecordExpectation(CaseEnv::Context("mgr").get(), Expectation("ROLE-1", 2), &response)
          .ok());
  EXPECT_EQ(
      env_->stub()
          .RecordExpectation(CaseEnv::Context("admin").get(), Expectation("ROLE-1", 3), &response)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // A caseworker may not create cases for a colleague.
  v1::CreateCaseRequest create;
  create.set_case_ref("ROLE-2");
  create.set_case_type("SDP");
  create.set_opened_on("2026-01-05");
  create.set_caseworker("cw2");
  EXPECT_EQ(env_->stub().CreateCase(CaseEnv::Context("cw1").get(), create, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Catalogue edits: admin only.
  v1::UpsertCatalogueEntryRequest entry;
  entry.mutable_entry()->set_kind(v1::CatalogueEntry::CASE_TYPE);
  entry.mutable_entry()->set_code("LHY");
  entry.mutable_entry()->set_label_da("Ledighedsydelse");
  entry.mutable_entry()->set_label_en("Benefit while waiting for a flex job");
  entry.mutable_entry()->set_sort_order(9);
  entry.mutable_entry()->set_active(true);
  v1::Catalogue catalogue;
  EXPECT_EQ(env_->stub()
                .UpsertCatalogueEntry(CaseEnv::Context("mgr").get(), entry, &catalogue)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      env_->stub().UpsertCatalogueEntry(CaseEnv::Context("admin").get(), entry, &catalogue).ok());
  EXPECT_EQ(catalogue.case_types_size(), 9);
  EXPECT_EQ(catalogue.case_types(8).code(), "LHY");
  // JC2's catalogue is its own.
  ASSERT_TRUE(
      env_->stub()
          .GetCatalogue(CaseEnv::Context("cwx", "JC2").get(), v1::GetCatalogueRequest(), &catalogue)
          .ok());
  EXPECT_EQ(catalogue.case_types_size(), 8);
}

// Health and reflection are checked with raw wire bytes: Debian ships neither the generated
// health stubs nor grpc's reflection client, and a generic client is what tools use anyway.
std::string ToBytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices)
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return bytes;
}

grpc::ByteBuffer FromBytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

TEST_F(CaseGrpcTest, HealthAndReflectionAnswer) {
  {
    grpc::ClientContext context;
    grpc::ByteBuffer response;
    grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        env_->channel().get(),
        grpc::internal::RpcMethod("/grpc.health.v1.Health/Check",
                                  grpc::internal::RpcMethod::NORMAL_RPC),
        &context, FromBytes(""), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(ToBytes(response), std::string("\x08\x01", 2));  // status: SERVING
  }
  grpc::ClientContext context;
  auto stream = std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          env_->channel().get(),
          grpc::internal::RpcMethod(
              "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
              grpc::internal::RpcMethod::BIDI_STREAMING),
          &context));
  // list_services (field 7) = "*"
  ASSERT_TRUE(stream->Write(FromBytes(std::string("\x3a\x01*", 3))));
  grpc::ByteBuffer reply;
  ASSERT_TRUE(stream->Read(&reply));
  google::protobuf::UnknownFieldSet fields;
  ASSERT_TRUE(fields.ParseFromString(ToBytes(reply)));
  std::vector<std::string> services;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() != 6) continue;  // list_services_response
    google::protobuf::UnknownFieldSet list;
    ASSERT_TRUE(list.ParseFromString(fields.field(i).length_delimited()));
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      ASSERT_TRUE(service.ParseFromString(list.field(j).length_delimited()));
      services.push_back(service.field(0).length_delimited());
    }
  }
  EXPECT_NE(std::find(services.begin(), services.end(), "forecast.v1.CaseService"), services.end());
  // file_containing_symbol (field 4): the descriptor that defines the service.
  const std::string symbol = "forecast.v1.CaseService";
  ASSERT_TRUE(
      stream->Write(FromBytes(std::string("\x22") + static_cast<char>(symbol.size()) + symbol)));
  ASSERT_TRUE(stream->Read(&reply));
  fields.Clear();
  ASSERT_TRUE(fields.ParseFromString(ToBytes(reply)));
  bool found = false;
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() != 4) continue;  // file_descriptor_response
    google::protobuf::UnknownFieldSet files;
    ASSERT_TRUE(files.ParseFromString(fields.field(i).length_delimited()));
    for (int j = 0; j < files.field_count(); ++j) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(files.field(j).length_delimited()));
      for (const auto& service : file.service()) {
        if (service.name() == "CaseService") {
          found = true;
          EXPECT_GE(service.method_size(), 17);
        }
      }
    }
  }
  EXPECT_TRUE(found);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// Issue 14: a case with thousands of open actions does not grow every answer. Every answer
// carrying the case lists the 50 soonest due (overdue ones first) and the count; ListCaseActions
// pages through all of them from the case's token.
TEST_F(CaseGrpcTest, ThousandsOfOpenActionsArePagedNotAnsweredWhole) {
  const v1::Case created = Create("MANY-1");
  constexpr int kOpen = 3000, kDone = 20;
  // Due dates spread over 600 days from 2026-01-10, so some are overdue (today is 2026-11-16).
  EXPECT_EQ(env_->Scalar(absl::StrCat(
                "WITH c AS (SELECT id, job_centre_id, caseworker_id FROM cases WHERE case_ref = "
                "'MANY-1'), ins AS (INSERT INTO action (job_centre_id, case_id, description, "
                "owner_id, due_on, status, created_by) SELECT c.job_centre_id, c.id, 'step ' || i, "
                "c.caseworker_id, date '2026-01-10' + (i * 7919) % 600, CASE WHEN i <= ",
                kDone, " THEN 'DONE' ELSE 'OPEN' END, c.caseworker_id FROM c, generate_series(1, ",
                kOpen + kDone, ") AS i RETURNING 1) SELECT count(*) FROM ins")),
            std::to_string(kOpen + kDone));

  auto check_page = [](const v1::Case& c, int open) {
    EXPECT_EQ(c.open_actions_size(), 50);
    EXPECT_EQ(c.open_action_count(), open);
    EXPECT_FALSE(c.open_actions_page_token().empty());
    EXPECT_TRUE(c.open_actions(0).overdue());
    for (int i = 1; i < c.open_actions_size(); ++i) {
      const v1::Action& a = c.open_actions(i - 1);
      const v1::Action& b = c.open_actions(i);
      EXPECT_TRUE(a.due_on() < b.due_on() || (a.due_on() == b.due_on() && a.id() < b.id()));
    }
    EXPECT_LT(c.ByteSizeLong(), 16u * 1024);
  };
  v1::GetCaseRequest get;
  get.set_case_ref("MANY-1");
  v1::Case c;
  ASSERT_TRUE(env_->stub().GetCase(CaseEnv::Context("cw1").get(), get, &c).ok());
  check_page(c, kOpen);

  // The write answers are bounded too: AddAction (the general path) and RecordExpectation (the
  // one-statement path, migration 0055).
  v1::AddActionRequest add;
  add.set_case_ref("MANY-1");
  add.set_base_version(c.version());
  add.set_description("one more");
  add.set_due_on("2026-12-01");
  ASSERT_TRUE(env_->stub().AddAction(CaseEnv::Context("cw1").get(), add, &c).ok());
  check_page(c, kOpen + 1);
  ASSERT_TRUE(
      env_->stub()
          .RecordExpectation(CaseEnv::Context("cw1").get(), Expectation("MANY-1", c.version()), &c)
          .ok());
  check_page(c, kOpen + 1);
  v1::ListCasesRequest list;
  list.set_caseworker("cw1");
  v1::ListCasesResponse listed;
  ASSERT_TRUE(env_->stub().ListCases(CaseEnv::Context("cw1").get(), list, &listed).ok());
  for (const v1::Case& each : listed.cases()) {
    if (each.case_ref() == "MANY-1") check_page(each, kOpen + 1);
  }

  // Paging from the case's token reads every other open action once, in order.
  std::set<int64_t> ids;
  for (const v1::Action& a : c.open_actions()) ids.insert(a.id());
  v1::ListCaseActionsRequest page_request;
  page_request.set_case_ref("MANY-1");
  page_request.set_page_size(500);
  page_request.set_page_token(c.open_actions_page_token());
  std::string last_due = c.open_actions(49).due_on();
  int pages = 0;
  int64_t unlisted = 0;
  for (;;) {
    v1::ListCaseActionsResponse page;
    grpc::Status status =
        env_->stub().ListCaseActions(CaseEnv::Context("cw1").get(), page_request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++pages;
    EXPECT_EQ(page.case_ref(), "MANY-1");
    EXPECT_EQ(page.total(), kOpen + 1);
    EXPECT_LE(page.actions_size(), 500);
    for (const v1::Action& a : page.actions()) {
      EXPECT_EQ(a.status(), v1::ACTION_OPEN);
      EXPECT_GE(a.due_on(), last_due);
      last_due = a.due_on();
      EXPECT_TRUE(ids.insert(a.id()).second) << a.id();
      unlisted = a.id();
    }
    if (page.next_page_token().empty()) break;
    page_request.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kOpen + 1));
  EXPECT_EQ(pages, 6);  // 2,951 after the first 50, 500 a page

  // Every action, closed ones too.
  v1::ListCaseActionsRequest all;
  all.set_case_ref("MANY-1");
  all.set_include_closed(true);
  v1::ListCaseActionsResponse first_page;
  ASSERT_TRUE(env_->stub().ListCaseActions(CaseEnv::Context("cw1").get(), all, &first_page).ok());
  EXPECT_EQ(first_page.total(), kOpen + kDone + 1);
  EXPECT_EQ(first_page.actions_size(), 50);

  // An open action the case does not list can still be followed up.
  v1::FollowUpActionRequest done;
  done.set_case_ref("MANY-1");
  done.set_base_version(c.version());
  done.set_action_id(unlisted);
  done.set_result(v1::FOLLOW_UP_DONE);
  grpc::Status followed = env_->stub().FollowUpAction(CaseEnv::Context("cw1").get(), done, &c);
  ASSERT_TRUE(followed.ok()) << followed.error_message();
  EXPECT_EQ(c.open_action_count(), kOpen);

  // Bad paging input names the field.
  v1::ListCaseActionsRequest bad;
  bad.set_case_ref("MANY-1");
  bad.set_page_token("not-a-token");
  v1::ListCaseActionsResponse ignored;
  grpc::Status status = env_->stub().ListCaseActions(CaseEnv::Context("cw1").get(), bad, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_token"), std::string::npos);
  bad.clear_page_token();
  bad.set_page_size(501);
  status = env_->stub().ListCaseActions(CaseEnv::Context("cw1").get(), bad, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_size"), std::string::npos);

  // A case with few actions lists them all, without a token.
  const v1::Case few = Create("FEW-1");
  EXPECT_EQ(few.open_action_count(), 0);
  EXPECT_TRUE(few.open_actions_page_token().empty());
  (void)created;
}

}  // namespace
}  // namespace forecast::testing
