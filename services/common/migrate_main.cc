// forecast-migrate: applies deploy/migrations to a database.
//   forecast-migrate "host=... port=... dbname=..." deploy/migrations
#include <iostream>

#include "services/common/migrations.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: forecast-migrate CONNINFO MIGRATIONS_DIR\n";
    return 2;
  }
  absl::StatusOr<int> applied = forecast::ApplyMigrations(argv[1], argv[2]);
  if (!applied.ok()) {
    std::cerr << "forecast-migrate: " << applied.status() << "\n";
    return 1;
  }
  std::cout << "applied " << *applied << " migration(s)\n";
  return 0;
}
