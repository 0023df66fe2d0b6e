// forecast-migrate: applies deploy/migrations to a database.
//   forecast-migrate "host=... port=... dbname=..." deploy/migrations
#include <iostream>
#include <optional>
#include <string>

#include "services/common/command_line.h"
#include "services/common/migrations.h"

int main(int argc, char** argv) {
  std::string db, directory;
  CLI::App app{"Applies the migrations in a directory to a database, each once, in order.",
               "forecast-migrate"};
  app.add_option("CONNINFO", db, "PostgreSQL connection string")->required();
  app.add_option("MIGRATIONS_DIR", directory, "directory of numbered .sql files")
      ->required()
      ->check(CLI::ExistingDirectory);
  if (std::optional<int> exit_code = forecast::ParseCommandLine(app, argc, argv)) return *exit_code;
  absl::StatusOr<int> applied = forecast::ApplyMigrations(db, directory);
  if (!applied.ok()) {
    std::cerr << "forecast-migrate: " << applied.status() << "\n";
    return 1;
  }
  std::cout << "applied " << *applied << " migration(s)\n";
  return 0;
}
