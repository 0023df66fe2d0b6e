#include "services/gateway/rpc_transcoder.h"

#include <future>
#include <utility>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format_lite.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.pb.h"
#include "forecast/v1/forecast_service.pb.h"
#include "forecast/v1/identity_service.pb.h"
#include "services/common/status.h"

namespace forecast::gateway {
namespace {

constexpr char kPackage[] = "forecast.v1";
using google::protobuf::internal::WireFormatLite;

// The generated descriptors register themselves when their object files are linked in; naming
// one type of each file makes sure the linker keeps them.
void LinkDescriptors() {
  (void)forecast::v1::StaffMember::descriptor();
  (void)forecast::v1::Projection::descriptor();
  (void)forecast::v1::LoginRequest::descriptor();
}

// Reads the length-delimited field `number` of a serialized message, or nullopt.
std::vector<std::string> LengthDelimited(absl::string_view bytes, int number) {
  std::vector<std::string> found;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (WireFormatLite::GetTagFieldNumber(tag) == number &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string value;
      if (!WireFormatLite::ReadBytes(&in, &value)) break;
      found.push_back(std::move(value));
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  return found;
}

}  // namespace

long RetryDelaySeconds(absl::string_view status_details) {
  // google.rpc.Status { repeated Any details = 3 }, Any { type_url = 1, value = 2 },
  // RetryInfo { Duration retry_delay = 1 }, Duration { int64 seconds = 1; int32 nanos = 2 }.
  for (const std::string& any : LengthDelimited(status_details, 3)) {
    const std::vector<std::string> type = LengthDelimited(any, 1);
    if (type.empty() || !absl::EndsWith(type[0], "google.rpc.RetryInfo")) continue;
    for (const std::string& info : LengthDelimited(any, 2)) {
      for (const std::string& duration : LengthDelimited(info, 1)) {
        google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(duration.data()),
                                                  static_cast<int>(duration.size()));
        uint64_t seconds = 0;
        uint64_t nanos = 0;
        while (true) {
          const uint32_t tag = in.ReadTag();
          if (tag == 0) break;
          const int field = WireFormatLite::GetTagFieldNumber(tag);
          if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT &&
              (field == 1 || field == 2)) {
            uint64_t value = 0;
            if (!in.ReadVarint64(&value)) break;
            (field == 1 ? seconds : nanos) = value;
          } else if (!WireFormatLite::SkipField(&in, tag)) {
            break;
          }
        }
        if (seconds > 86400 * 365) seconds = 86400 * 365;
        return static_cast<long>(seconds) + (nanos > 0 ? 1 : 0);
      }
    }
  }
  return -1;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  // The services' error details (field, reason, parameters) come along as payloads.
  absl::Status out = forecast::FromGrpcStatus(status);
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
    const long seconds = RetryDelaySeconds(status.error_details());
    if (seconds >= 0) out.SetPayload(kRetryAfterPayload, absl::Cord(std::to_string(seconds)));
  }
  return out;
}

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

RpcTranscoder::RpcTranscoder(const std::map<std::string, std::shared_ptr<grpc::Channel>>& backends,
                             absl::Duration deadline)
    : deadline_(deadline) {
  LinkDescriptors();
  for (const auto& [service, channel] : backends) {
    stubs_[absl::StrCat(kPackage, ".", service)] = std::make_unique<grpc::GenericStub>(channel);
  }
}

RpcTranscoder::~RpcTranscoder() { WaitIdle(absl::Seconds(30)); }

void RpcTranscoder::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return in_flight_ == 0; };
  mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

absl::StatusOr<MethodRoute> RpcTranscoder::Resolve(absl::string_view service,
                                                   absl::string_view method) const {
  const std::string full_service = absl::StrCat(kPackage, ".", service);
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(full_service);
  if (descriptor == nullptr) {
    return absl::NotFoundError(absl::StrCat("no service ", service));
  }
  const google::protobuf::MethodDescriptor* found =
      descriptor->FindMethodByName(std::string(method));
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no method ", method, " in ", service));
  }
  auto stub = stubs_.find(full_service);
  if (stub == stubs_.end()) {
    return absl::NotFoundError(absl::StrCat("no backend configured for ", service));
  }
  return MethodRoute{found, stub->second.get(),
                     absl::StrCat("/", full_service, "/", found->name())};
}

std::unique_ptr<google::protobuf::Message> RpcTranscoder::NewMessage(
    const google::protobuf::Descriptor* type) const {
  return std::unique_ptr<google::protobuf::Message>(factory_.GetPrototype(type)->New());
}

absl::StatusOr<std::string> RpcTranscoder::RequestFromJson(const MethodRoute& route,
                                                           absl::string_view json) const {
  std::unique_ptr<google::protobuf::Message> request = NewMessage(route.method->input_type());
  if (!json.empty()) {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;  // a misspelt field is an error, not silently lost
    auto parsed = google::protobuf::util::JsonStringToMessage(
        google::protobuf::StringPiece(json.data(), json.size()), request.get(), options);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("request body is not a valid ",
                                                     route.method->input_type()->name(), ": ",
                                                     std::string(parsed.message())));
    }
  }
  std::string bytes;
  if (!request->SerializeToString(&bytes)) {
    return absl::InvalidArgumentError("request could not be serialized");
  }
  return bytes;
}

absl::StatusOr<std::string> RpcTranscoder::ReplyToJson(const MethodRoute& route,
                                                       const std::string& bytes) const {
  std::unique_ptr<google::protobuf::Message> reply = NewMessage(route.method->output_type());
  if (!reply->ParseFromString(bytes)) {
    return absl::InternalError(
        absl::StrCat("backend reply is not a valid ", route.method->output_type()->name()));
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto printed = google::protobuf::util::MessageToJsonString(*reply, &json, options);
  if (!printed.ok()) return absl::InternalError(std::string(printed.message()));
  return json;
}

void RpcTranscoder::CallBytesAsync(const MethodRoute& route, std::string request,
                                   const Metadata& metadata, BytesCallback done) const {
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer reply;
  };
  auto call = std::make_shared<Call>();
  for (const auto& [key, value] : metadata) call->context.AddMetadata(key, value);
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  call->request = ToByteBuffer(request);
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  route.stub->UnaryCall(&call->context, route.path, grpc::StubOptions(), &call->request,
                        &call->reply,
                        [this, call, done = std::move(done)](grpc::Status status) mutable {
                          absl::StatusOr<std::string> reply =
                              status.ok() ? absl::StatusOr<std::string>(FromByteBuffer(call->reply))
                                          : absl::StatusOr<std::string>(FromGrpcStatus(status));
                          // The context goes before the call counts as finished, so that nothing of
                          // the call outlives the transcoder (and its channels) that WaitIdle lets
                          // go.
                          call.reset();
                          done(std::move(reply));
                          absl::MutexLock lock(&mu_);
                          --in_flight_;
                        });
}

void RpcTranscoder::CallUnaryAsync(const MethodRoute& route, absl::string_view json,
                                   const Metadata& metadata, BytesCallback done) const {
  if (route.method->client_streaming() || route.method->server_streaming()) {
    done(absl::FailedPreconditionError(
        absl::StrCat(route.method->name(),
                     " is a streaming method: use GET .../stream for server streaming;"
                     " client streaming is not offered over HTTP")));
    return;
  }
  absl::StatusOr<std::string> request = RequestFromJson(route, json);
  if (!request.ok()) {
    done(request.status());
    return;
  }
  CallBytesAsync(route, std::move(*request), metadata,
                 [this, route, done = std::move(done)](absl::StatusOr<std::string> reply) {
                   if (!reply.ok()) {
                     done(reply.status());
                   } else {
                     done(ReplyToJson(route, *reply));
                   }
                 });
}

absl::StatusOr<std::string> RpcTranscoder::CallUnary(const MethodRoute& route,
                                                     absl::string_view json,
                                                     const Metadata& metadata) const {
  std::promise<absl::StatusOr<std::string>> answer;
  CallUnaryAsync(route, json, metadata, [&answer](absl::StatusOr<std::string> reply) {
    answer.set_value(std::move(reply));
  });
  return answer.get_future().get();
}

std::shared_ptr<UpstreamCall> UpstreamCall::Start(grpc::GenericStub& stub, const std::string& path,
                                                  const std::string& request,
                                                  const Metadata& metadata,
                                                  MessageCallback on_message,
                                                  DoneCallback on_done) {
  std::shared_ptr<UpstreamCall> call(new UpstreamCall(std::move(on_message), std::move(on_done)));
  call->self_ = call;
  for (const auto& [key, value] : metadata) call->context_.AddMetadata(key, value);
  call->request_ = ToByteBuffer(request);
  // A server-streaming method on the wire is a bidi call whose client sends one message and
  // half-closes, so the generic bidi reactor serves it.
  stub.PrepareBidiStreamingCall(&call->context_, path, grpc::StubOptions(), call.get());
  call->StartWriteLast(&call->request_, grpc::WriteOptions());
  call->StartRead(&call->incoming_);
  call->StartCall();
  return call;
}

void UpstreamCall::OnReadDone(bool ok) {
  if (!ok) return;  // the stream ended; OnDone follows with the status
  on_message_(FromByteBuffer(incoming_));
  StartRead(&incoming_);
}

void UpstreamCall::OnDone(const grpc::Status& status) {
  on_done_(FromGrpcStatus(status));
  // The callbacks may hold the last other references; drop them before this may go away.
  on_message_ = nullptr;
  on_done_ = nullptr;
  std::shared_ptr<UpstreamCall> last = std::move(self_);
}

}  // namespace forecast::gateway
