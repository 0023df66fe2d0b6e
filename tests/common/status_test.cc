// Issue 8: nothing internal reaches a client. Storage failures become a short message with a
// request id; domain answers keep their message.
#include "services/common/status.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <string>

#include "services/common/pg_pool.h"

namespace forecast {
namespace {

TEST(StatusScrubbing, StorageFailuresBecomeARequestId) {
  const std::string detail =
      "could not connect to server: Connection refused. Is the server running on host "
      "\"db.internal\" (10.1.2.3) and accepting TCP/IP connections on port 5432?";
  const absl::Status statuses[] = {
      StatusFromPqxx(pqxx::broken_connection(detail)),
      StatusFromPqxx(pqxx::sql_error("ERROR: relation \"cases\" does not exist", "SELECT 1")),
      StatusFromPqxx(pqxx::unique_violation("duplicate key value violates unique constraint "
                                            "\"cases_pkey\"")),
      absl::InternalError(detail),
      absl::UnavailableError(detail),
      absl::FailedPreconditionError("database: " + detail),
  };
  for (const absl::Status& status : statuses) {
    ASSERT_TRUE(IsInternalFailure(status)) << status;
    const grpc::Status answer = ToGrpcStatus(status, "/test/Call");
    EXPECT_EQ(static_cast<int>(answer.error_code()), static_cast<int>(status.code()));
    const std::string& message = answer.error_message();
    EXPECT_NE(message.find("request id "), std::string::npos) << message;
    for (const char* secret : {"db.internal", "10.1.2.3", "5432", "port", "cases", "constraint",
                               "database", "ERROR", "connect"}) {
      EXPECT_EQ(message.find(secret), std::string::npos) << secret << " leaked in: " << message;
    }
  }
}

TEST(StatusScrubbing, RequestIdsDiffer) {
  const std::string a = ToGrpcStatus(absl::InternalError("x")).error_message();
  const std::string b = ToGrpcStatus(absl::InternalError("x")).error_message();
  EXPECT_NE(a, b);
  EXPECT_EQ(NewRequestId().size(), 16u);
}

TEST(StatusScrubbing, DomainAnswersKeepTheirMessage) {
  for (const absl::Status& status :
       {absl::InvalidArgumentError("note: looks like it contains a CPR number"),
        absl::NotFoundError("case_ref: case \"S-1\" not found"),
        absl::PermissionDeniedError("CASEWORKER cw1 may not change case S-1"),
        absl::AbortedError("case S-1 is at version 3, the write was based on 2"),
        absl::AlreadyExistsError("case_ref: case \"S-1\" already exists")}) {
    EXPECT_FALSE(IsInternalFailure(status)) << status;
    const grpc::Status answer = ToGrpcStatus(status);
    EXPECT_EQ(answer.error_message(), std::string(status.message()));
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace forecast
