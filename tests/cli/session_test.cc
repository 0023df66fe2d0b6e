// The stored identity of `forecastctl login`, and the progress bar's output.
#include "clients/cli/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "clients/cli/progress_bar.h"

namespace forecast::cli {
namespace {

TEST(Session, SaveThenLoadGivesTheSameIdentityPrivately) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("forecastctl-session-" + std::to_string(getpid())) / "nested" / "config.json";
  const Identity saved{"127.0.0.1:50051",
                       "127.0.0.1:50052",
                       "DEMO",
                       "TL01",
                       "/etc/ca.pem",
                       "session-secret",
                       "2026-11-23T10:00:00Z",
                       "access-secret",
                       "2026-11-22T10:05:00Z"};
  ASSERT_TRUE(SaveIdentity(path, saved).ok());
  auto loaded = LoadIdentity(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->server, saved.server);
  EXPECT_EQ(loaded->forecast, saved.forecast);
  EXPECT_EQ(loaded->job_centre, saved.job_centre);
  EXPECT_EQ(loaded->staff, saved.staff);
  EXPECT_EQ(loaded->ca_file, saved.ca_file);
  EXPECT_EQ(loaded->session_token, saved.session_token);
  EXPECT_EQ(loaded->session_expires_at, saved.session_expires_at);
  EXPECT_EQ(loaded->access_token, saved.access_token);
  EXPECT_EQ(loaded->access_expires_at, saved.access_expires_at);
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  std::filesystem::remove_all(path.parent_path().parent_path());
}

TEST(Session, AnAccessTokenIsRenewedShortlyBeforeItExpires) {
  Identity identity;
  const absl::Time expires = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_TRUE(AccessTokenStale(identity, expires - absl::Hours(1)));  // none yet
  identity.access_token = "token";
  identity.access_expires_at = absl::FormatTime(absl::RFC3339_full, expires, absl::UTCTimeZone());
  EXPECT_FALSE(AccessTokenStale(identity, expires - absl::Minutes(1)));
  EXPECT_TRUE(AccessTokenStale(identity, expires - absl::Seconds(30)));
  EXPECT_TRUE(AccessTokenStale(identity, expires + absl::Seconds(1)));
  identity.access_expires_at = "garbage";
  EXPECT_TRUE(AccessTokenStale(identity, expires - absl::Hours(1)));
}

TEST(Session, MissingAndBrokenFiles) {
  EXPECT_EQ(LoadIdentity("/nonexistent/forecastctl.json").status().code(),
            absl::StatusCode::kNotFound);
  const auto path = std::filesystem::temp_directory_path() /
                    ("forecastctl-broken-" + std::to_string(getpid()) + ".json");
  { std::ofstream(path) << "{not json"; }
  EXPECT_EQ(LoadIdentity(path).status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove(path);
}

TEST(Session, ConfigPathFollowsTheEnvironment) {
  setenv("FORECASTCTL_CONFIG", "/tmp/somewhere.json", 1);
  EXPECT_EQ(ConfigPath(), std::filesystem::path("/tmp/somewhere.json"));
  unsetenv("FORECASTCTL_CONFIG");
  setenv("HOME", "/home/kim", 1);
  EXPECT_EQ(ConfigPath(), std::filesystem::path("/home/kim/.config/forecastctl.json"));
}

TEST(ProgressBar, DrawsOnlyWhenEnabledAndEndsTheLine) {
  std::ostringstream off, on;
  ProgressBar hidden(&off, false);
  hidden.Update(5, 10);
  hidden.Finish();
  EXPECT_EQ(off.str(), "");
  ProgressBar bar(&on, true);
  bar.Update(5, 10);
  bar.Update(10, 10);  // the end is always drawn
  bar.Finish();
  EXPECT_NE(on.str().find("5/10 rows 50%"), std::string::npos) << on.str();
  EXPECT_NE(on.str().find("[" + std::string(30, '#') + "] 10/10 rows 100%\n"), std::string::npos)
      << on.str();
}

}  // namespace
}  // namespace forecast::cli
