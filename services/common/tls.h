// TLS for every gRPC port and every client of one: credentials from PEM files (a CA, a
// certificate, its key). deploy/scripts/pki.sh makes a local CA and the certificates; real
// deployments pass their own files (see the README's security section).
#ifndef SERVICES_COMMON_TLS_H_
#define SERVICES_COMMON_TLS_H_

#include <memory>
#include <string>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include "absl/status/statusor.h"

namespace forecast {

// What a server presents and whom it believes.
struct ServerTlsFiles {
  std::string cert_file;       // PEM certificate chain of the server
  std::string key_file;        // PEM private key of the server
  std::string client_ca_file;  // PEM CA for client certificates; empty: none are asked for
};

// Server credentials: TLS 1.2+ with the certificate; when client_ca_file is set, a client
// certificate is requested and, when presented, must verify against that CA (it is not
// required: staff clients authenticate with tokens). NOT_FOUND / INVALID_ARGUMENT when a file is
// missing or empty. Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerTlsCredentials(
    const ServerTlsFiles& files);

// What a client believes and (optionally) presents.
struct ChannelTlsFiles {
  std::string ca_file;    // PEM CA that signed the servers' certificates (required)
  std::string cert_file;  // PEM client certificate (optional: the gateway's)
  std::string key_file;   // its private key
};

// Channel credentials for the files. NOT_FOUND / INVALID_ARGUMENT as above. Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelTlsCredentials(
    const ChannelTlsFiles& files);

// A TLS channel to host:port (the name checked against the server certificate is the host).
// Thread-safe.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenTlsChannel(const std::string& address,
                                                              const ChannelTlsFiles& files,
                                                              int max_message_bytes = 64 << 20);

// The common name of the client certificate the peer presented (verified against the client
// CA), or "" when it presented none. Thread-safe.
std::string PeerCertificateName(const grpc::ServerContextBase& context);

// The peer's IP address without port or scheme ("127.0.0.1", "::1"), from gRPC's peer string.
// Thread-safe.
std::string PeerAddress(const grpc::ServerContextBase& context);

}  // namespace forecast

#endif  // SERVICES_COMMON_TLS_H_
