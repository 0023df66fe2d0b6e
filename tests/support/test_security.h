// TLS and access tokens for tests: every test talks to its servers the way production does.
// The keys and certificates are deploy/scripts/pki.sh's, in $FORECAST_PKI_DIR (deploy/test.sh sets
// it) or else made once into the build tree. Tokens are minted with the test signing key, which
// the servers under test verify with the matching public key.
#ifndef TESTS_SUPPORT_TEST_SECURITY_H_
#define TESTS_SUPPORT_TEST_SECURITY_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "services/common/access_token.h"
#include "services/common/caller.h"
#include "services/common/tls.h"

namespace forecast::testing {

// Paths of the test PKI's files.
struct TestPki {
  std::string dir, ca, server_cert, server_key, gateway_cert, gateway_key, token_signing_key,
      token_public_key;
};

// The PKI, made on first use (aborts the test binary when it cannot be made). Thread-safe.
const TestPki& Pki();

// TLS server credentials with the test server certificate; client certificates from the test CA
// are requested, not required. Thread-safe.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials();

// A TLS channel to 127.0.0.1:port trusting the test CA; `as_gateway` presents the gateway's
// client certificate. Thread-safe.
std::shared_ptr<grpc::Channel> TlsChannel(int port, bool as_gateway = false);
// The files for OpenTlsChannel / ChannelTlsCredentials. Thread-safe.
ChannelTlsFiles ClientTlsFiles(bool as_gateway = false);

// The signer and verifier of the test key pair. Thread-safe.
const AccessTokenSigner& Signer();
const AccessTokenVerifier& Verifier();
const Ed25519Seed& SigningKey();

// An access token for staff `staff` of job centre `centre`, valid for `lifetime` from now
// (negative: already expired). Thread-safe.
std::string MintToken(const std::string& centre, const std::string& staff,
                      absl::Duration lifetime = absl::Minutes(30));

// A client context with "authorization: Bearer <minted token>" and a deadline. Thread-safe.
std::unique_ptr<grpc::ClientContext> ContextAs(const std::string& centre, const std::string& staff,
                                               absl::Duration timeout = absl::Seconds(60));
// Adds "authorization: Bearer <token>". Thread-safe.
void AddBearer(grpc::ClientContext* context, const std::string& token);

// The flags a service binary needs to serve TLS and verify the test tokens (with
// `signing_key`, also --token-signing-key for the case service). Thread-safe.
std::vector<std::string> ServiceSecurityFlags(bool signing_key);

}  // namespace forecast::testing

#endif  // TESTS_SUPPORT_TEST_SECURITY_H_
