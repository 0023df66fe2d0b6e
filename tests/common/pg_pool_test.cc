// The pool against a real PostgreSQL: transactions commit or roll back as the body says,
// serialization failures are retried, and broken connections (server restart, terminated
// backends) are replaced: reads are retried, writes answer UNAVAILABLE, never INTERNAL.
#include "services/common/pg_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "services/common/caller.h"
#include "tests/support/test_database.h"

namespace forecast {
namespace {

class PgPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    pool_ = std::make_unique<PgPool>(db_->conninfo(), 4);
    ASSERT_TRUE(RunTransaction(*pool_, Isolation::kReadCommitted, [](pqxx::transaction_base& tx) {
                  tx.exec0("CREATE TABLE counter (n int NOT NULL)");
                  tx.exec0("INSERT INTO counter VALUES (0)");
                  return absl::OkStatus();
                }).ok());
  }
  int Count() {
    auto n = RunTransaction<int>(*pool_, Isolation::kReadCommitted,
                                 [](pqxx::transaction_base& tx) -> absl::StatusOr<int> {
                                   return tx.exec1("SELECT n FROM counter")[0].as<int>();
                                 });
    EXPECT_TRUE(n.ok());
    return n.value_or(-1);
  }
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
};

TEST_F(PgPoolTest, ErrorStatusRollsBack) {
  absl::Status status =
      RunTransaction(*pool_, Isolation::kReadCommitted, [](pqxx::transaction_base& tx) {
        tx.exec0("UPDATE counter SET n = 5");
        return absl::InvalidArgumentError("no");
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(), 0);
}

TEST_F(PgPoolTest, SqlErrorsBecomeStatuses) {
  absl::Status status =
      RunTransaction(*pool_, Isolation::kReadCommitted, [](pqxx::transaction_base& tx) {
        tx.exec0("SELECT no_such_column FROM counter");
        return absl::OkStatus();
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(status.message().find("no_such_column"), absl::string_view::npos)
      << "the driver's text must not reach callers: " << status.message();
}

// What a server restart does to a warm pool: every idle connection's backend is gone.
TEST_F(PgPoolTest, StaleIdleConnectionsAfterARestartCostNoFailedRead) {
  {
    std::vector<PgPool::Lease> held;  // open all four connections
    for (int i = 0; i < 4; ++i) {
      auto lease = pool_->Acquire();
      ASSERT_TRUE(lease.ok()) << lease.status();
      held.push_back(std::move(*lease));
    }
  }
  ASSERT_EQ(pool_->stats().open, 4);
  pqxx::connection admin(db_->conninfo());
  pqxx::nontransaction(admin).exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  int failures = 0;
  for (int i = 0; i < 20; ++i) {
    auto n = RunReadTransaction<int>(*pool_, Isolation::kReadCommitted,
                                     [](pqxx::transaction_base& tx) -> absl::StatusOr<int> {
                                       return tx.exec1("SELECT n FROM counter")[0].as<int>();
                                     });
    if (!n.ok()) ++failures;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GE(pool_->stats().discarded, 1);
}

TEST_F(PgPoolTest, ReadWhoseConnectionBreaksMidwayIsRunOnceMore) {
  int runs = 0;
  auto n = RunReadTransaction<int>(*pool_, Isolation::kRepeatableRead,
                                   [&](pqxx::transaction_base& tx) -> absl::StatusOr<int> {
                                     if (++runs == 1)
                                       tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
                                     return tx.exec1("SELECT n FROM counter")[0].as<int>();
                                   });
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(runs, 2);
}

TEST_F(PgPoolTest, WriteWhoseConnectionBreaksAnswersUnavailableAndChangesNothing) {
  int runs = 0;
  absl::Status status =
      RunTransaction(*pool_, Isolation::kReadCommitted, [&](pqxx::transaction_base& tx) {
        ++runs;
        tx.exec0("UPDATE counter SET n = n + 1");
        tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
        return absl::OkStatus();
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(status.message().find("terminat"), absl::string_view::npos) << status.message();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(Count(), 0);
}

TEST_F(PgPoolTest, SerializableIncrementsAreRetriedAndNoneIsLost) {
  constexpr int kThreads = 4, kEach = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        absl::Status status = RunTransaction(
            *pool_, Isolation::kSerializable,
            [](pqxx::transaction_base& tx) {
              const int n = tx.exec1("SELECT n FROM counter")[0].as<int>();
              tx.exec_params("UPDATE counter SET n = $1", n + 1);
              return absl::OkStatus();
            },
            /*attempts=*/50);
        if (!status.ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(), kThreads * kEach);
}

TEST_F(PgPoolTest, StaffDirectoryResolvesAndSeesNewStaff) {
  PgStaffDirectory directory(*pool_);
  EXPECT_EQ(directory.Find("JC", "kim").status().code(), absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(RunTransaction(*pool_, Isolation::kReadCommitted, [](pqxx::transaction_base& tx) {
                tx.exec0("INSERT INTO job_centre (code, name) VALUES ('JC', 'Test')");
                tx.exec0(
                    "INSERT INTO org_unit (job_centre_id, code, name, kind) "
                    "SELECT id, 'T1', 'Team 1', 'TEAM' FROM job_centre");
                tx.exec0(
                    "INSERT INTO staff (job_centre_id, code, role, team_id) "
                    "SELECT j.id, 'kim', 'TEAM_LEADER', u.id FROM job_centre j, org_unit u");
                return absl::OkStatus();
              }).ok());
  auto caller = directory.Find("JC", "kim");
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->role, Role::kTeamLeader);
  EXPECT_EQ(caller->team_code, "T1");
  EXPECT_GT(caller->team_id, 0);
  EXPECT_EQ(directory.Find("OTHER", "kim").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ResolveCaller("", "kim", directory).status().message(), "missing job centre code");
}

}  // namespace
}  // namespace forecast
