#include "tests/support/test_database.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "services/common/migrations.h"

namespace forecast::testing {

absl::StatusOr<std::unique_ptr<TestDatabase>> TestDatabase::Create() {
  const char* admin = std::getenv("FORECAST_TEST_PG");
  if (admin == nullptr || *admin == '\0') {
    return absl::FailedPreconditionError(
        "FORECAST_TEST_PG is not set: run the tests through deploy/test.sh");
  }
  const char* env_dir = std::getenv("FORECAST_MIGRATIONS_DIR");
  const std::string migrations =
      env_dir != nullptr ? env_dir : std::string(FORECAST_SOURCE_DIR) + "/deploy/migrations";
  static std::atomic<int> counter{0};
  const std::string name = absl::StrCat("t_", getpid(), "_", counter++);
  try {
    pqxx::connection conn(admin);
    pqxx::nontransaction tx(conn);
    tx.exec0("CREATE DATABASE " + tx.quote_name(name));
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot create test database: ", e.what()));
  }
  std::string conninfo = absl::StrCat(admin, " dbname=", name);
  absl::StatusOr<int> applied = ApplyMigrations(conninfo, migrations);
  if (!applied.ok()) return applied.status();
  return std::unique_ptr<TestDatabase>(new TestDatabase(admin, name, conninfo));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection conn(admin_conninfo_);
    pqxx::nontransaction tx(conn);
    tx.exec0("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The private cluster is thrown away after the run; a leftover database harms nothing.
  }
}

}  // namespace forecast::testing
