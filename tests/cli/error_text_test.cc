// forecastctl phrases a refusal from its details: in Danish for a Danish user, else as sent.
#include "clients/cli/error_text.h"

#include <gtest/gtest.h>

#include "services/common/status.h"

namespace forecast::cli {
namespace {

TEST(ErrorTextTest, DanishFromTheDetailsEnglishAsSent) {
  const absl::Status far =
      FieldError("expected_month", "MONTH_TOO_FAR",
                 "2099-01 is more than 60 months ahead (the latest allowed is 2031-12)",
                 {{"month", "2099-01"}, {"months", "60"}, {"latest", "2031-12"}});
  EXPECT_EQ(PhraseError(far, true),
            "expected_month: 2099-01 ligger mere end 60 måneder frem (senest 2031-12)");
  EXPECT_EQ(
      PhraseError(far, false),
      "INVALID_ARGUMENT: expected_month: 2099-01 is more than 60 months ahead (the latest allowed is 2031-12)");
  // Through the wire and back, as forecastctl receives it.
  EXPECT_EQ(PhraseError(FromGrpcStatus(ToGrpcStatus(StaleVersion("S-1", 5, 4))), true),
            "Sag S-1 er ændret af en anden (version 5); se den igen, og gentag ændringen.");
  // An error without a known reason stays as the service wrote it.
  EXPECT_EQ(PhraseError(absl::InternalError("boom"), true), "INTERNAL: boom");
}

}  // namespace
}  // namespace forecast::cli
