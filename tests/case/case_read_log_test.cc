// Issue 8, the access log: every read of a case over gRPC is recorded (who, when, which case,
// which call) before the answer leaves; refused reads are not; admins read no cases but answer
// "who looked at S-001" and "what did cw1 look at"; the services' roles cannot read or change
// the log; old rows are purged; concurrent reads share INSERTs (group commit).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include <pqxx/pqxx>

#include "forecast/v1/forecast_service.pb.h"
#include "services/common/audit/case_read_log.h"
#include "tests/case/case_test_env.h"

namespace forecast::testing {
namespace {

class CaseReadLogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_ = CaseEnv::Create(/*serve=*/true).release();
    for (const char* ref : {"R-1", "R-2", "R-3"}) Create(ref, "cw1");
    Create("R-9", "cw3");  // team T2
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }

  static void Create(const std::string& ref, const std::string& as) {
    v1::CreateCaseRequest request;
    request.set_case_ref(ref);
    request.set_case_type("JAF");
    request.set_opened_on("2026-01-05");
    v1::Case c;
    grpc::Status status = env_->stub().CreateCase(CaseEnv::Context(as).get(), request, &c);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // The log as the admin of JC1 sees it through the admin query.
  static v1::ListCaseReadsResponse Reads(const std::string& case_ref, const std::string& staff) {
    audit::CaseReadQuery query(env_->service_pool());
    v1::ListCaseReadsRequest request;
    request.set_case_ref(case_ref);
    request.set_staff(staff);
    request.set_page_size(1000);
    absl::StatusOr<v1::ListCaseReadsResponse> reads = query.List(env_->As("admin"), request);
    EXPECT_TRUE(reads.ok()) << reads.status();
    return reads.ok() ? *reads : v1::ListCaseReadsResponse();
  }

  static CaseEnv* env_;
};

CaseEnv* CaseReadLogTest::env_ = nullptr;

TEST_F(CaseReadLogTest, EveryReadRpcIsRecordedBeforeItAnswers) {
  const size_t before = Reads("R-1", "tl1").reads_size();
  {
    v1::GetCaseRequest request;
    request.set_case_ref("R-1");
    v1::Case c;
    ASSERT_TRUE(env_->stub().GetCase(CaseEnv::Context("tl1").get(), request, &c).ok());
  }
  {
    v1::GetCaseHistoryRequest request;
    request.set_case_ref("R-1");
    v1::CaseHistory history;
    ASSERT_TRUE(env_->stub().GetCaseHistory(CaseEnv::Context("tl1").get(), request, &history).ok());
  }
  // The answer has come back, so the rows are already there (no waiting, no flush).
  v1::ListCaseReadsResponse reads = Reads("R-1", "tl1");
  ASSERT_EQ(reads.reads_size(), static_cast<int>(before) + 2);
  EXPECT_EQ(reads.reads(0).call(), "/forecast.v1.CaseService/GetCaseHistory");  // newest first
  EXPECT_EQ(reads.reads(1).call(), "/forecast.v1.CaseService/GetCase");
  EXPECT_EQ(reads.reads(0).staff(), "tl1");
  EXPECT_EQ(reads.reads(0).case_ref(), "R-1");
  EXPECT_EQ(reads.reads(0).at().size(), 27u) << reads.reads(0).at();  // 2026-12-01T09:00:00.000000Z
}

TEST_F(CaseReadLogTest, ListCasesRecordsEachListedCase) {
  v1::ListCasesRequest request;
  request.set_team("T1");
  v1::ListCasesResponse response;
  ASSERT_TRUE(env_->stub().ListCases(CaseEnv::Context("cw2").get(), request, &response).ok());
  ASSERT_EQ(response.cases_size(), 3);
  const v1::ListCaseReadsResponse reads = Reads("", "cw2");
  std::set<std::string> refs;
  for (const v1::CaseRead& read : reads.reads()) {
    if (read.call() == "/forecast.v1.CaseService/ListCases") refs.insert(read.case_ref());
  }
  EXPECT_EQ(refs, (std::set<std::string>{"R-1", "R-2", "R-3"}));
}

TEST_F(CaseReadLogTest, RefusedReadsAreNotRecordedAndAdminsReadNoCases) {
  v1::GetCaseRequest request;
  request.set_case_ref("R-9");  // team T2's case
  v1::Case c;
  EXPECT_EQ(env_->stub().GetCase(CaseEnv::Context("cw1").get(), request, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(env_->stub().GetCase(CaseEnv::Context("admin").get(), request, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListCasesResponse list;
  EXPECT_EQ(env_->stub()
                .ListCases(CaseEnv::Context("admin").get(), v1::ListCasesRequest(), &list)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Reads("R-9", "cw1").reads_size(), 0);
  EXPECT_EQ(Reads("", "admin").reads_size(), 0);
}

TEST_F(CaseReadLogTest, OnlyAdminsQueryTheLogAndOnlyTheirOwnCentre) {
  audit::CaseReadQuery query(env_->service_pool());
  for (const char* who : {"cw1", "tl1", "mgr"}) {
    EXPECT_EQ(query.List(env_->As(who), v1::ListCaseReadsRequest()).status().code(),
              absl::StatusCode::kPermissionDenied)
        << who;
  }
  absl::StatusOr<v1::ListCaseReadsResponse> other =
      query.List(env_->As("admin2", "JC2"), v1::ListCaseReadsRequest());
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->reads_size(), 0);
  v1::ListCaseReadsRequest bad;
  bad.set_since("yesterday");
  EXPECT_EQ(query.List(env_->As("admin"), bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CaseReadLogTest, PagesNewestFirstAndFiltersByTime) {
  for (int i = 0; i < 5; ++i) {
    v1::GetCaseRequest request;
    request.set_case_ref("R-2");
    v1::Case c;
    ASSERT_TRUE(env_->stub().GetCase(CaseEnv::Context("tl1").get(), request, &c).ok());
  }
  audit::CaseReadQuery query(env_->service_pool());
  v1::ListCaseReadsRequest request;
  request.set_case_ref("R-2");
  request.set_staff("tl1");
  request.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<v1::ListCaseReadsResponse> reads = query.List(env_->As("admin"), request);
    ASSERT_TRUE(reads.ok()) << reads.status();
    for (const auto& read : reads->reads()) seen.push_back(read.at());
    if (reads->next_page_token().empty()) break;
    request.set_page_token(reads->next_page_token());
  }
  ASSERT_GE(seen.size(), 5u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  request.clear_page_token();
  request.set_since("2999-01-01T00:00:00Z");
  EXPECT_EQ(query.List(env_->As("admin"), request)->reads_size(), 0);
}

TEST_F(CaseReadLogTest, ServiceRolesCannotReadChangeOrDeleteTheLog) {
  for (const std::string role : {kCaseServiceRole, kForecastServiceRole}) {
    for (const char* sql : {"SELECT count(*) FROM case_read", "UPDATE case_read SET call = 'x'",
                            "DELETE FROM case_read", "TRUNCATE case_read"}) {
      pqxx::connection conn(env_->conninfo() + " user=" + role);
      pqxx::work tx(conn);
      try {
        tx.exec(sql);
        ADD_FAILURE() << role << " may: " << sql;
      } catch (const pqxx::insufficient_privilege&) {
        // SQLSTATE 42501, as wanted
      } catch (const pqxx::sql_error& e) {
        ADD_FAILURE() << role << ": " << sql << ": " << e.what();
      }
    }
  }
}

TEST_F(CaseReadLogTest, RetentionPurgesOldRowsOnly) {
  // One row from 400 days ago, written as the owner (the services cannot back-date).
  env_->Scalar(
      "INSERT INTO case_read (job_centre_id, staff_id, case_id, call, read_at) "
      "SELECT c.job_centre_id, c.caseworker_id, c.id, '/old', now() - interval '400 days' "
      "FROM cases c WHERE c.case_ref = 'R-3' RETURNING id");
  const std::string total = env_->Scalar("SELECT count(*) FROM case_read");
  audit::PgCaseReadLog log(env_->service_pool());
  absl::StatusOr<int64_t> purged = log.Purge(absl::Hours(24 * 365));
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(std::stoll(env_->Scalar("SELECT count(*) FROM case_read")), std::stoll(total) - 1);
  EXPECT_FALSE(log.Purge(absl::Hours(1)).ok());  // under a day: refused by the database
  // The periodic purge runs at once on start.
  env_->Scalar(
      "INSERT INTO case_read (job_centre_id, staff_id, case_id, call, read_at) "
      "SELECT c.job_centre_id, c.caseworker_id, c.id, '/old', now() - interval '40 days' "
      "FROM cases c WHERE c.case_ref = 'R-3' RETURNING id");
  {
    audit::CaseReadRetention retention(log, absl::Hours(24 * 30), absl::Hours(1));
    for (int i = 0;
         i < 100 && env_->Scalar("SELECT count(*) FROM case_read WHERE call = '/old'") != "0";
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM case_read WHERE call = '/old'"), "0");
}

TEST_F(CaseReadLogTest, ConcurrentReadsShareInserts) {
  audit::PgCaseReadLog log(env_->service_pool());
  const Caller caller = env_->As("tl1");
  constexpr int kThreads = 16, kEach = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (!log.Record(caller, "/bench", {"R-1", "R-2"}).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(log.rows_written(), 2 * kThreads * kEach);
  EXPECT_EQ(env_->Scalar("SELECT count(*) FROM case_read WHERE call = '/bench'"),
            std::to_string(2 * kThreads * kEach));
  std::printf("case-read log: %d reads of 2 cases from %d threads in %lld INSERT statements\n",
              kThreads * kEach, kThreads, static_cast<long long>(log.statements_written()));
  EXPECT_LE(log.statements_written(), kThreads * kEach);
}

TEST(CaseReadGate, AnUnwritableLogFailsTheRead) {
  PgPool broken("host=127.0.0.1 port=1 dbname=none user=none connect_timeout=2", 1,
                absl::Seconds(2));
  audit::PgCaseReadLog log(broken);
  Caller caller;
  caller.role = Role::kCaseworker;
  v1::Case c;
  c.set_case_ref("R-1");
  const absl::Status status = audit::ReleaseCaseRows(log, caller, "/x", c);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  caller.role = Role::kAdmin;
  EXPECT_EQ(audit::ReleaseCaseRows(log, caller, "/x", c).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(audit::ReleaseCaseRows(log, Caller(), "/x", v1::Case()).ok());  // no case rows
}

TEST(CaseReadGate, FindsCaseRefsAtAnyDepth) {
  v1::CaseworkerDashboard dashboard;
  dashboard.add_attention()->set_case_ref("A");
  dashboard.add_attention()->set_case_ref("B");
  dashboard.add_attention()->set_case_ref("A");
  EXPECT_EQ(audit::CaseRefsIn(dashboard), (std::vector<std::string>{"A", "B"}));
  v1::ListDialoguesResponse dialogues;
  v1::Dialogue* d = dialogues.add_dialogues();
  d->add_case_refs("C");
  d->add_agreed_case_refs("D");
  EXPECT_EQ(audit::CaseRefsIn(dialogues), (std::vector<std::string>{"C", "D"}));
  v1::ListCasesResponse list;
  list.add_cases()->set_case_ref("E");
  EXPECT_EQ(audit::CaseRefsIn(list), (std::vector<std::string>{"E"}));
}

}  // namespace
}  // namespace forecast::testing
