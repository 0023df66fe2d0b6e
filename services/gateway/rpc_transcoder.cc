#include "services/gateway/rpc_transcoder.h"

#include <future>
#include <utility>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.pb.h"
#include "forecast/v1/forecast_service.pb.h"

namespace forecast::gateway {
namespace {

constexpr char kPackage[] = "forecast.v1";

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// The generated descriptors register themselves when their object files are linked in; naming
// one type of each file makes sure the linker keeps them.
void LinkDescriptors() {
  (void)forecast::v1::StaffMember::descriptor();
  (void)forecast::v1::Projection::descriptor();
}

}  // namespace

RpcTranscoder::RpcTranscoder(const std::map<std::string, std::shared_ptr<grpc::Channel>>& backends,
                             absl::Duration deadline)
    : deadline_(deadline) {
  LinkDescriptors();
  for (const auto& [service, channel] : backends) {
    stubs_[absl::StrCat(kPackage, ".", service)] = std::make_unique<grpc::GenericStub>(channel);
  }
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
      return absl::InvalidArgumentError(absl::StrCat(
          "request body is not a valid ", route.method->input_type()->name(), ": ",
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

absl::StatusOr<std::string> RpcTranscoder::CallUnary(const MethodRoute& route,
                                                     absl::string_view json,
                                                     const Metadata& metadata) const {
  if (route.method->client_streaming() || route.method->server_streaming()) {
    return absl::FailedPreconditionError(absl::StrCat(
        route.method->name(), " is a streaming method: use GET .../stream for server streaming;"
        " client streaming is not offered over HTTP"));
  }
  absl::StatusOr<std::string> request = RequestFromJson(route, json);
  if (!request.ok()) return request.status();

  grpc::ClientContext context;
  for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  const grpc::ByteBuffer request_buffer = ToByteBuffer(*request);
  grpc::ByteBuffer reply_buffer;
  std::promise<grpc::Status> finished;
  route.stub->UnaryCall(&context, route.path, grpc::StubOptions(), &request_buffer, &reply_buffer,
                        [&finished](grpc::Status status) { finished.set_value(std::move(status)); });
  const grpc::Status status = finished.get_future().get();
  if (!status.ok()) return FromGrpc(status);
  return ReplyToJson(route, FromByteBuffer(reply_buffer));
}

absl::StatusOr<std::unique_ptr<ServerStream>> RpcTranscoder::OpenStream(
    const MethodRoute& route, absl::string_view json, const Metadata& metadata) const {
  if (route.method->client_streaming() || !route.method->server_streaming()) {
    return absl::FailedPreconditionError(
        absl::StrCat(route.method->name(), " is not a server-streaming method"));
  }
  absl::StatusOr<std::string> request = RequestFromJson(route, json);
  if (!request.ok()) return request.status();
  return std::make_unique<ServerStream>(*route.stub, route.path, *request, metadata);
}

}  // namespace forecast::gateway
