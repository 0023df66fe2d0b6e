// Shared set-up for the case service's database and gRPC tests: a fresh database with two job
// centres, the real store and logic on a fixed clock, and (optionally) the real gRPC server on
// port 0 (TLS, access tokens verified with the test key; with reflection, as --reflection starts
// it) with a channel to it. The store and the server connect as the case service's role
// (forecast_case_service), as deployed.
#ifndef TESTS_CASE_CASE_TEST_ENV_H_
#define TESTS_CASE_CASE_TEST_ENV_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "forecast/v1/case_service.grpc.pb.h"
#include "services/case/case_keeper.h"
#include "services/case/case_service_impl.h"
#include "services/case/org_admin.h"
#include "services/case/pg_case_store.h"
#include "services/common/calendar.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::testing {

// Today, for every test: the clock never moves unless a test moves it.
inline const absl::CivilDay kToday(2026, 11, 16);

// Job centre JC1: department D1 with teams T1 and T2; staff cw1, cw2 (T1), cw3 (T2),
// tl1 (team leader, T1), tl2 (team leader, T2), mgr (manager), admin (admin), gone (inactive, T1).
// Job centre JC2: team X1; staff admin2, cwx (X1).
class CaseEnv {
 public:
  // Creates the database and organisation; with `serve`, also the gRPC server. Fails the
  // current test (ASSERT-style, check ok()) when anything is missing.
  static std::unique_ptr<CaseEnv> Create(bool serve);
  ~CaseEnv();

  // As the cluster's owner: set-up and checks. The store, keeper and server use service_pool().
  PgPool& pool() { return *pool_; }
  // As the case service's database role.
  PgPool& service_pool() { return *service_pool_; }
  CaseKeeper& keeper() { return *keeper_; }
  // The set-up logic (organisation, staff, metrics, audit trail), as the case service's role.
  OrgAdmin& org() { return *org_; }
  PgCaseStore& store() { return *store_; }
  FixedClock& clock() { return clock_; }
  const std::string& conninfo() const { return db_->conninfo(); }
  int port() const { return port_; }
  v1::CaseService::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // The resolved caller for a staff code of a job centre (aborts the test when unknown).
  Caller As(const std::string& staff, const std::string& centre = "JC1");
  // A client context carrying an access token for the staff member (tests/support).
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& staff,
                                                      const std::string& centre = "JC1");
  // Every row of every case table, as text, for before/after comparisons.
  std::string Dump();
  // One SQL scalar as text.
  std::string Scalar(const std::string& sql);

 private:
  CaseEnv() : clock_(kToday) {}
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgPool> service_pool_;
  FixedClock clock_;
  std::unique_ptr<PgCaseStore> store_;
  std::unique_ptr<PgStaffDirectory> directory_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<CaseKeeper> keeper_;
  std::unique_ptr<audit::PgCaseReadLog> reads_;
  std::unique_ptr<OrgAdmin> org_;
  std::unique_ptr<CaseServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CaseService::Stub> stub_;
};

}  // namespace forecast::testing

#endif  // TESTS_CASE_CASE_TEST_ENV_H_
