// One server-streaming gRPC call, read from the caller's thread at its own pace: the gateway
// turns each message into a server-sent event. Works at the level of serialized messages, so
// it serves every streaming method alike.
#ifndef SERVICES_GATEWAY_SERVER_STREAM_H_
#define SERVICES_GATEWAY_SERVER_STREAM_H_

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace forecast::gateway {

using Metadata = std::vector<std::pair<std::string, std::string>>;

class ServerStream final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  enum class Event { kMessage, kIdle, kFinished };

  // Starts the call `path` ("/forecast.v1.ForecastService/WatchTeamDashboard") on `stub` with
  // one serialized request and the given metadata. The stub must outlive this object.
  ServerStream(grpc::GenericStub& stub, const std::string& path, const std::string& request,
               const Metadata& metadata);

  // Cancels the call if it is still running and waits until gRPC has let go of it.
  ~ServerStream() override;
  ServerStream(const ServerStream&) = delete;
  ServerStream& operator=(const ServerStream&) = delete;

  // Waits up to `wait` for the next message. kMessage fills *message (serialized bytes);
  // kIdle means nothing arrived in time; kFinished means the call ended and no message is left
  // (see status()). Only one thread may call Next at a time.
  Event Next(absl::Duration wait, std::string* message);

  // The call's final status; meaningful once Next returned kFinished. Thread-safe.
  absl::Status status();

  // Asks the backend to stop; Next then reports kFinished (CANCELLED). Idempotent, thread-safe.
  void Cancel();

  // gRPC callbacks (called on gRPC's threads).
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Server-streaming methods here push snapshots (a dashboard after every change), so when a
  // browser reads slower than the backend pushes, only the newest messages matter.
  static constexpr size_t kMaxQueued = 16;

  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer incoming_;

  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

// Serialized bytes <-> gRPC byte buffers. Thread-safe (pure).
grpc::ByteBuffer ToByteBuffer(const std::string& bytes);
std::string FromByteBuffer(const grpc::ByteBuffer& buffer);

}  // namespace forecast::gateway

#endif  // SERVICES_GATEWAY_SERVER_STREAM_H_
