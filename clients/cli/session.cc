#include "clients/cli/session.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace forecast::cli {

std::filesystem::path ConfigPath() {
  if (const char* env = std::getenv("FORECASTCTL_CONFIG"); env != nullptr && *env != '\0') {
    return env;
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".config" / "forecastctl.json";
}

absl::StatusOr<Identity> LoadIdentity(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path.string(), " not found: run `forecastctl login` first"));
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not valid JSON"));
  }
  Identity identity;
  identity.server = json.value("server", "");
  identity.forecast = json.value("forecast", "");
  identity.job_centre = json.value("job_centre", "");
  identity.staff = json.value("staff", "");
  return identity;
}

absl::Status SaveIdentity(const std::filesystem::path& path, const Identity& identity) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  nlohmann::json json = {{"server", identity.server},
                         {"forecast", identity.forecast},
                         {"job_centre", identity.job_centre},
                         {"staff", identity.staff}};
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << json.dump(2) << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temp.string()));
  }
  chmod(temp.c_str(), 0600);
  std::filesystem::rename(temp, path, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

void PrepareContext(grpc::ClientContext* context, const Identity& identity,
                    absl::Duration timeout) {
  context->AddMetadata("x-job-centre", identity.job_centre);
  context->AddMetadata("x-staff", identity.staff);
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

absl::Status FromGrpc(const grpc::Status& status) {
  return FromGrpcStatus(status);  // keeps the error details, for PhraseError
}

}  // namespace forecast::cli
