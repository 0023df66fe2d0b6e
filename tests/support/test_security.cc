#include "tests/support/test_security.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace forecast::testing {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "test security set-up failed: " << what << std::endl;
  std::abort();
}

}  // namespace

const TestPki& Pki() {
  static const TestPki* pki = [] {
    const char* env = std::getenv("FORECAST_PKI_DIR");
    std::string dir =
        env != nullptr && *env != '\0' ? env : std::string(FORECAST_BINARY_DIR) + "/test-pki";
    if (std::getenv("FORECAST_PKI_DIR") == nullptr || !std::ifstream(dir + "/token-public.pem")) {
      const std::string command = absl::StrCat("bash '", FORECAST_SOURCE_DIR,
                                               "/deploy/scripts/pki.sh' '", dir, "' >/dev/null");
      if (std::system(command.c_str()) != 0) Die(absl::StrCat("cannot run ", command));
    }
    auto* made = new TestPki{dir,
                             dir + "/ca.pem",
                             dir + "/server.pem",
                             dir + "/server.key",
                             dir + "/gateway.pem",
                             dir + "/gateway.key",
                             dir + "/token-signing.pem",
                             dir + "/token-public.pem"};
    return made;
  }();
  return *pki;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials() {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerTlsCredentials({Pki().server_cert, Pki().server_key, Pki().ca});
  if (!credentials.ok()) Die(std::string(credentials.status().message()));
  return *credentials;
}

ChannelTlsFiles ClientTlsFiles(bool as_gateway) {
  ChannelTlsFiles files;
  files.ca_file = Pki().ca;
  if (as_gateway) {
    files.cert_file = Pki().gateway_cert;
    files.key_file = Pki().gateway_key;
  }
  return files;
}

std::shared_ptr<grpc::Channel> TlsChannel(int port, bool as_gateway) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      OpenTlsChannel(absl::StrCat("127.0.0.1:", port), ClientTlsFiles(as_gateway));
  if (!channel.ok()) Die(std::string(channel.status().message()));
  return *channel;
}

const Ed25519Seed& SigningKey() {
  static const Ed25519Seed* seed = [] {
    absl::StatusOr<Ed25519Seed> read = ReadSigningKeyFile(Pki().token_signing_key);
    if (!read.ok()) Die(std::string(read.status().message()));
    return new Ed25519Seed(*read);
  }();
  return *seed;
}

const AccessTokenSigner& Signer() {
  static const AccessTokenSigner* signer = new AccessTokenSigner(SigningKey());
  return *signer;
}

const AccessTokenVerifier& Verifier() {
  static const AccessTokenVerifier* verifier = new AccessTokenVerifier(PublicKeyOf(SigningKey()));
  return *verifier;
}

std::string MintToken(const std::string& centre, const std::string& staff,
                      absl::Duration lifetime) {
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  AccessClaims claims{kTokenIssuer, kTokenAudience, staff,         centre, 0,
                      now,          now + lifetime, RandomToken(9)};
  return Signer().Sign(claims);
}

void AddBearer(grpc::ClientContext* context, const std::string& token) {
  context->AddMetadata(kAuthorizationHeader, "Bearer " + token);
}

std::unique_ptr<grpc::ClientContext> ContextAs(const std::string& centre, const std::string& staff,
                                               absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  AddBearer(context.get(), MintToken(centre, staff));
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

std::vector<std::string> ServiceSecurityFlags(bool signing_key) {
  std::vector<std::string> flags = {"--tls-cert",         Pki().server_cert,     "--tls-key",
                                    Pki().server_key,     "--tls-client-ca",     Pki().ca,
                                    "--token-public-key", Pki().token_public_key};
  if (signing_key) {
    flags.push_back("--token-signing-key");
    flags.push_back(Pki().token_signing_key);
  }
  return flags;
}

}  // namespace forecast::testing
