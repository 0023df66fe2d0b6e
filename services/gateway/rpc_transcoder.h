// HTTP+JSON <-> gRPC, generically: a method is found by name in the compiled-in descriptors of
// package forecast.v1, the JSON request is parsed with Protobuf's JSON mapping into a dynamic
// message, sent as bytes through a generic stub, and the reply printed back as JSON. No
// per-method code: a method added to the .proto files is reachable once the gateway is rebuilt.
//
// JSON conventions (Protobuf's canonical mapping): field names as in the .proto (snake_case),
// every primitive field printed even when it has its default value, enums by name, int64
// printed as strings (JSON numbers cannot hold every int64); on input, int64 may be a number or
// a string, enums a name or a number, and unknown fields are an error.
#ifndef SERVICES_GATEWAY_RPC_TRANSCODER_H_
#define SERVICES_GATEWAY_RPC_TRANSCODER_H_

#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/server_stream.h"

namespace forecast::gateway {

// A method of a backend service, resolved.
struct MethodRoute {
  const google::protobuf::MethodDescriptor* method = nullptr;
  grpc::GenericStub* stub = nullptr;  // owned by the transcoder
  std::string path;                   // "/forecast.v1.CaseService/ListCases"
};

class RpcTranscoder {
 public:
  // backends: short service name ("CaseService") -> channel to the service. `deadline` bounds
  // each unary call.
  RpcTranscoder(const std::map<std::string, std::shared_ptr<grpc::Channel>>& backends,
                absl::Duration deadline);

  // Finds forecast.v1.<service>.<method> among the compiled-in descriptors. NOT_FOUND when the
  // service or method does not exist or no backend serves the service. Thread-safe.
  absl::StatusOr<MethodRoute> Resolve(absl::string_view service, absl::string_view method) const;

  // Parses `json` (empty means {}) as the method's request and serializes it. INVALID_ARGUMENT
  // names the problem when the JSON does not fit the request message. Thread-safe.
  absl::StatusOr<std::string> RequestFromJson(const MethodRoute& route,
                                              absl::string_view json) const;

  // Prints serialized reply bytes of the method as JSON. INTERNAL when they do not parse.
  // Thread-safe.
  absl::StatusOr<std::string> ReplyToJson(const MethodRoute& route,
                                          const std::string& bytes) const;

  // Calls a unary method with a JSON request and the caller's metadata; the reply as JSON, or
  // the backend's status (INVALID_ARGUMENT for a request that does not parse; FAILED_PRECONDITION
  // when the method is streaming). Blocks until the answer. Thread-safe.
  absl::StatusOr<std::string> CallUnary(const MethodRoute& route, absl::string_view json,
                                        const Metadata& metadata) const;

  // Starts a server-streaming method; read it with ServerStream::Next and ReplyToJson.
  // FAILED_PRECONDITION when the method is not server-streaming. Thread-safe.
  absl::StatusOr<std::unique_ptr<ServerStream>> OpenStream(const MethodRoute& route,
                                                           absl::string_view json,
                                                           const Metadata& metadata) const;

 private:
  std::unique_ptr<google::protobuf::Message> NewMessage(
      const google::protobuf::Descriptor* type) const;

  const absl::Duration deadline_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;  // by full service name
  // DynamicMessageFactory::GetPrototype is thread-safe; prototypes live as long as the factory.
  mutable google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_RPC_TRANSCODER_H_
