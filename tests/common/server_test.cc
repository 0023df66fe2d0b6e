// Issue 8: server reflection is off unless asked for (the services' --reflection flag).
#include "services/common/server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/sync_stream.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "forecast/v1/case_service.grpc.pb.h"
#include "tests/support/test_security.h"

namespace forecast {
namespace {

// The status of one ServerReflectionInfo exchange (list_services), with raw bytes.
grpc::Status AskReflection(int port) {
  auto channel = testing::TlsChannel(port);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel.get(),
          grpc::internal::RpcMethod(
              "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
              grpc::internal::RpcMethod::BIDI_STREAMING),
          &context));
  grpc::Slice slice(std::string("\x3a\x01*", 3));  // list_services = "*"
  stream->Write(grpc::ByteBuffer(&slice, 1));
  stream->WritesDone();
  grpc::ByteBuffer reply;
  while (stream->Read(&reply)) {
  }
  return stream->Finish();
}

TEST(GrpcServer, ReflectionOnlyWhenAskedFor) {
  for (const bool reflection : {false, true, false}) {
    v1::CaseService::Service unimplemented;  // any service: a server needs one to start
    auto server = StartGrpcServer({&unimplemented}, "127.0.0.1", 0, testing::ServerCredentials(),
                                  1 << 20, reflection);
    ASSERT_TRUE(server.ok()) << server.status();
    const grpc::Status status = AskReflection(server->port);
    if (reflection) {
      EXPECT_TRUE(status.ok()) << status.error_message();
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
    }
    ShutdownGracefully(*server->server, absl::Seconds(1));
  }
}

}  // namespace
}  // namespace forecast
