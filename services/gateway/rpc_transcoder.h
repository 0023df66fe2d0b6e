// HTTP+JSON <-> gRPC, generically: a method is found by name in the compiled-in descriptors of
// package forecast.v1, the JSON request is parsed with Protobuf's JSON mapping into a dynamic
// message, sent as bytes through a generic stub, and the reply printed back as JSON. No
// per-method code: a method added to the .proto files is reachable once the gateway is rebuilt.
//
// JSON conventions (Protobuf's canonical mapping): field names as in the .proto (snake_case),
// every primitive field printed even when it has its default value, enums by name, int64
// printed as strings (JSON numbers cannot hold every int64); on input, int64 may be a number or
// a string, enums a name or a number, and unknown fields are an error.
//
// Calls are asynchronous (gRPC's callback API): nothing here blocks the caller's thread except
// CallUnary, which tests use.
#ifndef SERVICES_GATEWAY_RPC_TRANSCODER_H_
#define SERVICES_GATEWAY_RPC_TRANSCODER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace forecast::gateway {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// absl::Status payload key under which a RESOURCE_EXHAUSTED answer carries the seconds to wait
// (from the google.rpc.RetryInfo detail), as decimal text.
inline constexpr char kRetryAfterPayload[] = "forecast.gateway/retry-after-seconds";

// A method of a backend service, resolved.
struct MethodRoute {
  const google::protobuf::MethodDescriptor* method = nullptr;
  grpc::GenericStub* stub = nullptr;  // owned by the transcoder
  std::string path;                   // "/forecast.v1.CaseService/ListCases"
};

class RpcTranscoder {
 public:
  using BytesCallback = std::function<void(absl::StatusOr<std::string>)>;

  // backends: short service name ("CaseService") -> channel to the service. `deadline` bounds
  // each unary call.
  RpcTranscoder(const std::map<std::string, std::shared_ptr<grpc::Channel>>& backends,
                absl::Duration deadline);
  // Waits (up to 30 s) for calls still in flight, whose callbacks refer to this object.
  ~RpcTranscoder();

  // Finds forecast.v1.<service>.<method> among the compiled-in descriptors. NOT_FOUND when the
  // service or method does not exist or no backend serves the service. Thread-safe.
  absl::StatusOr<MethodRoute> Resolve(absl::string_view service, absl::string_view method) const;

  // Parses `json` (empty means {}) as the method's request and serializes it. INVALID_ARGUMENT
  // names the problem when the JSON does not fit the request message. Thread-safe.
  absl::StatusOr<std::string> RequestFromJson(const MethodRoute& route,
                                              absl::string_view json) const;

  // Prints serialized reply bytes of the method as JSON. INTERNAL when they do not parse.
  // Thread-safe.
  absl::StatusOr<std::string> ReplyToJson(const MethodRoute& route, const std::string& bytes) const;

  // Calls a unary method with serialized request bytes; `done` gets the serialized reply or the
  // backend's status, once, on one of gRPC's threads. Thread-safe.
  void CallBytesAsync(const MethodRoute& route, std::string request, const Metadata& metadata,
                      BytesCallback done) const;

  // Calls a unary method with a JSON request; `done` gets the reply as JSON or the status
  // (INVALID_ARGUMENT for a request that does not parse, FAILED_PRECONDITION for a streaming
  // method), once, possibly on the calling thread. Thread-safe.
  void CallUnaryAsync(const MethodRoute& route, absl::string_view json, const Metadata& metadata,
                      BytesCallback done) const;

  // CallUnaryAsync, waiting for the answer. Thread-safe; not for event-loop threads.
  absl::StatusOr<std::string> CallUnary(const MethodRoute& route, absl::string_view json,
                                        const Metadata& metadata) const;

  // Blocks until no call started here is in flight or `timeout` passed. Thread-safe.
  void WaitIdle(absl::Duration timeout) const;

 private:
  std::unique_ptr<google::protobuf::Message> NewMessage(
      const google::protobuf::Descriptor* type) const;

  const absl::Duration deadline_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;  // by full service name
  // DynamicMessageFactory::GetPrototype is thread-safe; prototypes live as long as the factory.
  mutable google::protobuf::DynamicMessageFactory factory_;
  mutable absl::Mutex mu_;
  mutable int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// A gRPC status as an absl::Status; RESOURCE_EXHAUSTED with a google.rpc.RetryInfo detail gets
// the kRetryAfterPayload payload. Thread-safe (pure).
absl::Status FromGrpcStatus(const grpc::Status& status);

// The seconds to wait from serialized google.rpc.Status details (its RetryInfo), rounded up;
// -1 when there is none. Thread-safe (pure).
long RetryDelaySeconds(absl::string_view status_details);

// Serialized bytes <-> gRPC byte buffers. Thread-safe (pure).
grpc::ByteBuffer ToByteBuffer(const std::string& bytes);
std::string FromByteBuffer(const grpc::ByteBuffer& buffer);

// One server-streaming gRPC call pushing serialized messages to callbacks (on gRPC's threads).
// Shared ownership: the call keeps itself alive until after `on_done`, and holders may Cancel
// at any time (also after it ended). Never call Cancel while holding a lock the callbacks take:
// gRPC may run them inline.
class UpstreamCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  using MessageCallback = std::function<void(std::string bytes)>;
  using DoneCallback = std::function<void(absl::Status)>;

  // Starts the call `path` on `stub` (which must outlive it) with one serialized request.
  static std::shared_ptr<UpstreamCall> Start(grpc::GenericStub& stub, const std::string& path,
                                             const std::string& request, const Metadata& metadata,
                                             MessageCallback on_message, DoneCallback on_done);

  // Asks the backend to stop; on_done follows with CANCELLED. Thread-safe.
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  UpstreamCall(MessageCallback on_message, DoneCallback on_done)
      : on_message_(std::move(on_message)), on_done_(std::move(on_done)) {}

  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer incoming_;
  std::shared_ptr<UpstreamCall> self_;  // until OnDone
  MessageCallback on_message_;
  DoneCallback on_done_;
};

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_RPC_TRANSCODER_H_
