// Error details survive the trip domain -> gRPC -> client: field, reason and parameters.
#include "services/common/status.h"

#include <gtest/gtest.h>

#include "services/common/calendar.h"
#include "services/common/text_checks.h"

namespace forecast {
namespace {

TEST(StatusTest, FieldErrorCarriesFieldReasonAndParamsThroughGrpc) {
  const absl::Status original =
      FieldError("note", "TOO_LONG", "is 2001 characters long, at most 2000 are allowed",
                 {{"length", "2001"}, {"max", "2000"}});
  EXPECT_EQ(original.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(original.message(), "note: is 2001 characters long, at most 2000 are allowed");

  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(wire.error_message(), original.message());
  EXPECT_FALSE(wire.error_details().empty());

  const absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  const ErrorDetail detail = DetailOf(back);
  EXPECT_EQ(detail.field, "note");
  EXPECT_EQ(detail.reason, "TOO_LONG");
  EXPECT_EQ(detail.params.at("length"), "2001");
  EXPECT_EQ(detail.params.at("max"), "2000");
}

TEST(StatusTest, RefusalsWithoutFieldKeepTheirReason) {
  const ErrorDetail detail = DetailOf(FromGrpcStatus(ToGrpcStatus(StaleVersion("S-1", 4, 3))));
  EXPECT_EQ(detail.reason, "STALE_VERSION");
  EXPECT_EQ(detail.field, "");
  EXPECT_EQ(detail.params.at("version"), "4");
  EXPECT_EQ(detail.params.at("base_version"), "3");
  const ErrorDetail missing = DetailOf(FromGrpcStatus(ToGrpcStatus(CaseNotFound("S-9"))));
  EXPECT_EQ(missing.reason, "CASE_NOT_FOUND");
  EXPECT_EQ(missing.field, "case_ref");
  EXPECT_EQ(missing.params.at("case_ref"), "S-9");
}

TEST(StatusTest, PlainValidationMessagesStillNameTheirField) {
  const absl::Status plain = absl::InvalidArgumentError("page_size: must be between 1 and 1000");
  const grpc::Status wire = ToGrpcStatus(plain);
  EXPECT_FALSE(wire.error_details().empty());
  const ErrorDetail detail = DetailOf(FromGrpcStatus(wire));
  EXPECT_EQ(detail.field, "page_size");
  EXPECT_EQ(detail.reason, "");
  // Not every message has that shape; then no field is invented.
  EXPECT_EQ(DetailOf(absl::InvalidArgumentError("Content-Type must be application/json")).field,
            "");
  EXPECT_TRUE(ToGrpcStatus(absl::InternalError("boom")).error_details().empty());
}

TEST(StatusTest, CommonChecksSayWhy) {
  EXPECT_EQ(DetailOf(CheckText("", "description", 1, 10)).reason, "REQUIRED");
  const ErrorDetail cpr = DetailOf(CheckText("borger 010190-1234", "note", 0, 100));
  EXPECT_EQ(cpr.reason, "CPR_NUMBER");
  EXPECT_EQ(cpr.field, "note");
  const ErrorDetail month = DetailOf(ParseMonth("2026-13", "expected_month").status());
  EXPECT_EQ(month.reason, "NOT_A_MONTH");
  EXPECT_EQ(month.params.at("value"), "2026-13");
}

}  // namespace
}  // namespace forecast
