#include "clients/cli/session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
  identity.ca_file = json.value("ca_file", "");
  identity.session_token = json.value("session_token", "");
  identity.session_expires_at = json.value("session_expires_at", "");
  identity.access_token = json.value("access_token", "");
  identity.access_expires_at = json.value("access_expires_at", "");
  return identity;
}

absl::Status SaveIdentity(const std::filesystem::path& path, const Identity& identity) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  nlohmann::json json = {{"server", identity.server},
                         {"forecast", identity.forecast},
                         {"job_centre", identity.job_centre},
                         {"staff", identity.staff},
                         {"ca_file", identity.ca_file},
                         {"session_token", identity.session_token},
                         {"session_expires_at", identity.session_expires_at},
                         {"access_token", identity.access_token},
                         {"access_expires_at", identity.access_expires_at}};
  const std::string temp = path.string() + ".tmp";
  // Created 0600, so that the tokens are never readable by others, not even for a moment.
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  fchmod(fd, 0600);
  const std::string text = json.dump(2) + "\n";
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) return absl::UnavailableError(absl::StrCat("cannot write ", temp));
  std::filesystem::rename(temp, path, ec);
  if (ec)
    return absl::UnavailableError(absl::StrCat("cannot write ", path.string(), ": ", ec.message()));
  return absl::OkStatus();
}

bool AccessTokenStale(const Identity& identity, absl::Time now, absl::Duration margin) {
  if (identity.access_token.empty()) return true;
  absl::Time expires;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, identity.access_expires_at, &expires, &error))
    return true;
  return expires - margin <= now;
}

void PrepareContext(grpc::ClientContext* context, const Identity& identity,
                    absl::Duration timeout) {
  if (!identity.access_token.empty())
    context->AddMetadata("authorization", "Bearer " + identity.access_token);
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address, const Identity& identity) {
  grpc::SslCredentialsOptions options;
  if (!identity.ca_file.empty()) {
    std::ifstream in(identity.ca_file, std::ios::binary);
    std::stringstream pem;
    pem << in.rdbuf();
    options.pem_root_certs = pem.str();
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(64 << 20);
  arguments.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options), arguments);
}

absl::Status FromGrpc(const grpc::Status& status) {
  return FromGrpcStatus(status);  // keeps the error details, for PhraseError
}

}  // namespace forecast::cli
