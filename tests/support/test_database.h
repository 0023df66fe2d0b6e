// A throw-away PostgreSQL database with every migration applied, on the private test cluster
// that deploy/test.sh starts (FORECAST_TEST_PG names it). Never a mock of the database.
#ifndef TESTS_SUPPORT_TEST_DATABASE_H_
#define TESTS_SUPPORT_TEST_DATABASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace forecast::testing {

// The services' database roles (migration 0005; passwords in the cluster's pgpass, pg.sh).
inline constexpr char kCaseServiceRole[] = "forecast_case_service";
inline constexpr char kForecastServiceRole[] = "forecast_forecast_service";

class TestDatabase {
 public:
  // Creates a uniquely named database and applies deploy/migrations to it.
  // Fails when FORECAST_TEST_PG is unset or the server is unreachable. Thread-safe.
  static absl::StatusOr<std::unique_ptr<TestDatabase>> Create();

  // Drops the database (terminating any connection left open to it).
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // Connection string for the new database, as the cluster's owner (set-up, checks).
  const std::string& conninfo() const { return conninfo_; }

  // Connection string for the new database as `role` (kCaseServiceRole, kForecastServiceRole):
  // what a service uses, so tests run with the services' grants. Thread-safe.
  std::string conninfo_as(const std::string& role) const { return conninfo_ + " user=" + role; }

 private:
  TestDatabase(std::string admin_conninfo, std::string name, std::string conninfo)
      : admin_conninfo_(std::move(admin_conninfo)),
        name_(std::move(name)),
        conninfo_(std::move(conninfo)) {}

  std::string admin_conninfo_;
  std::string name_;
  std::string conninfo_;
};

}  // namespace forecast::testing

#endif  // TESTS_SUPPORT_TEST_DATABASE_H_
