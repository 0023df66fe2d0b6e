// The forecast service end to end for a test: a fresh database with the hand-built centres of
// seed_centre.h, the service as its own database role (its grants only), LISTEN/NOTIFY, and its
// gRPC server on port 0 over TLS. The clock is fixed at 2099-03-16. Not thread-safe: one per test.
#ifndef TESTS_FORECAST_SERVICE_SERVICE_FIXTURE_H_
#define TESTS_FORECAST_SERVICE_SERVICE_FIXTURE_H_

#include <chrono>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "forecast/v1/forecast_service.grpc.pb.h"
#include "services/common/audit/case_read_log.h"
#include "services/common/calendar.h"
#include "services/common/caller.h"
#include "services/common/pg_pool.h"
#include "services/common/server.h"
#include "services/forecast/change_listener.h"
#include "services/forecast/forecast_engine.h"
#include "services/forecast/forecast_service_impl.h"
#include "services/forecast/history_store.h"
#include "tests/forecast_service/seed_centre.h"
#include "tests/support/test_database.h"
#include "tests/support/test_security.h"

namespace forecast::fsvc {

inline const absl::CivilDay kToday(2099, 3, 16);

class ForecastServiceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = forecast::testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    seeded_ = forecast::testing::SeedCentres(db_->conninfo());
    pool_ = std::make_unique<PgPool>(db_->conninfo_as(forecast::testing::kForecastServiceRole), 8);
    store_ = std::make_unique<PgHistoryStore>(*pool_);
    engine_ = std::make_unique<ForecastEngine>(*store_, clock_);
    listener_ = std::make_unique<ChangeListener>(
        db_->conninfo_as(forecast::testing::kForecastServiceRole), *engine_);
    ASSERT_TRUE(listener_->Start().ok());
    directory_ = std::make_unique<PgStaffDirectory>(*pool_);
    reads_ = std::make_unique<audit::PgCaseReadLog>(*pool_);
    authenticator_ = std::make_unique<Authenticator>(forecast::testing::Verifier(), *directory_);
    service_ = std::make_unique<ForecastServiceImpl>(*engine_, *authenticator_, *store_, *reads_);
    auto server =
        StartGrpcServer({service_.get()}, "127.0.0.1", 0, forecast::testing::ServerCredentials());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server->server);
    stub_ = v1::ForecastService::NewStub(forecast::testing::TlsChannel(server->port));
  }
  void TearDown() override {
    if (server_) ShutdownGracefully(*server_, absl::Seconds(1));
    server_.reset();
    listener_.reset();
    engine_.reset();
  }

  // A call context carrying an access token for `staff` of `centre` (an empty code stands for a
  // token without that claim, refused like any invalid token), with a deadline.
  static std::unique_ptr<grpc::ClientContext> CallAs(const std::string& centre,
                                                     const std::string& staff,
                                                     std::chrono::seconds deadline) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    forecast::testing::AddBearer(ctx.get(), forecast::testing::MintToken(centre, staff));
    ctx->set_deadline(std::chrono::system_clock::now() + deadline);
    return ctx;
  }

  FixedClock clock_{kToday};
  std::unique_ptr<forecast::testing::TestDatabase> db_;
  forecast::testing::SeededCentres seeded_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgHistoryStore> store_;
  std::unique_ptr<ForecastEngine> engine_;
  std::unique_ptr<ChangeListener> listener_;
  std::unique_ptr<PgStaffDirectory> directory_;
  std::unique_ptr<audit::PgCaseReadLog> reads_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<ForecastServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ForecastService::Stub> stub_;
};

}  // namespace forecast::fsvc

#endif  // TESTS_FORECAST_SERVICE_SERVICE_FIXTURE_H_
