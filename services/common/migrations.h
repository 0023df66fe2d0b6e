// Applies the SQL migrations in deploy/migrations to a database, in file-name order, once each.
#ifndef SERVICES_COMMON_MIGRATIONS_H_
#define SERVICES_COMMON_MIGRATIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forecast {

// Applies every `*.sql` file in `dir` not yet recorded in schema_migrations, each in its own
// transaction, and records it. Safe to re-run; concurrent runners serialise on an advisory lock.
// Returns the number applied. Thread-safe (uses its own connection).
absl::StatusOr<int> ApplyMigrations(const std::string& conninfo, const std::string& dir);

}  // namespace forecast

#endif  // SERVICES_COMMON_MIGRATIONS_H_
