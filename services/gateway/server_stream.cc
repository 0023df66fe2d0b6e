#include "services/gateway/server_stream.h"

namespace forecast::gateway {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

ServerStream::ServerStream(grpc::GenericStub& stub, const std::string& path,
                           const std::string& request, const Metadata& metadata)
    : request_(ToByteBuffer(request)) {
  for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
  // A server-streaming method on the wire is a bidi call whose client sends one message and
  // half-closes, so the generic bidi reactor serves it.
  stub.PrepareBidiStreamingCall(&context_, path, grpc::StubOptions(), this);
  StartWriteLast(&request_, grpc::WriteOptions());
  StartRead(&incoming_);
  StartCall();
}

ServerStream::~ServerStream() {
  Cancel();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&done_));
}

void ServerStream::Cancel() { context_.TryCancel(); }

void ServerStream::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended; OnDone follows with the status
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(FromByteBuffer(incoming_));
    if (queue_.size() > kMaxQueued) queue_.pop_front();
  }
  StartRead(&incoming_);
}

void ServerStream::OnDone(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  status_ = absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                         status.error_message());
  done_ = true;
}

ServerStream::Event ServerStream::Next(absl::Duration wait, std::string* message) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return done_ || !queue_.empty(); };
  mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
  if (!queue_.empty()) {
    *message = std::move(queue_.front());
    queue_.pop_front();
    return Event::kMessage;
  }
  return done_ ? Event::kFinished : Event::kIdle;
}

absl::Status ServerStream::status() {
  absl::MutexLock lock(&mu_);
  return status_;
}

}  // namespace forecast::gateway
