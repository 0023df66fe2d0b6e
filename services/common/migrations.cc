#include "services/common/migrations.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"

namespace forecast {
namespace {

constexpr long kMigrationLock = 7311001;  // advisory lock id shared by every runner

absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read migration ", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<int> ApplyMigrations(const std::string& conninfo, const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path());
  }
  if (ec) return absl::NotFoundError(absl::StrCat("migrations folder ", dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());

  int applied = 0;
  try {
    pqxx::connection conn(conninfo);
    {
      pqxx::nontransaction setup(conn);
      setup.exec(absl::StrCat("SELECT pg_advisory_lock(", kMigrationLock, ")"));
      setup.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    }
    for (const auto& file : files) {
      const std::string version = file.filename().string();
      pqxx::work tx(conn);
      if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", version).empty()) {
        continue;
      }
      absl::StatusOr<std::string> sql = ReadFile(file);
      if (!sql.ok()) return sql.status();
      tx.exec(*sql);
      tx.exec_params("INSERT INTO schema_migrations (version) VALUES ($1)", version);
      tx.commit();
      ++applied;
    }
    pqxx::nontransaction done(conn);
    done.exec(absl::StrCat("SELECT pg_advisory_unlock(", kMigrationLock, ")"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("migration failed: ", e.what()));
  }
  return applied;
}

}  // namespace forecast
