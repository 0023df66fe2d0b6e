// The private PostgreSQL cluster is reachable and the migrations apply to a fresh database.
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "tests/support/test_database.h"

TEST(TestDatabase, MigrationsApplyAndRecord) {
  auto db = forecast::testing::TestDatabase::Create();
  ASSERT_TRUE(db.ok()) << db.status();
  pqxx::connection conn((*db)->conninfo());
  pqxx::work tx(conn);
  EXPECT_GE(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>(), 1);
  tx.exec0("INSERT INTO job_centre (code, name) VALUES ('T1', 'Test')");
  tx.exec("SELECT seed_default_catalogue((SELECT id FROM job_centre WHERE code = 'T1'))");
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM catalogue_entry WHERE kind = 'CASE_TYPE'")[0].as<int>(),
            8);
}
