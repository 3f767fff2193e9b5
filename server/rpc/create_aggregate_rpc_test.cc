// CreateAggregate over loopback gRPC: operators only (the admin token, as
// GetStatus), INVALID_ARGUMENT for bad input with nothing changed, and an
// added aggregate is trained from the uploads already accepted and sampled
// by name.
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

v1::CreateAggregateRequest Request(const std::string& name,
                                   const std::map<std::string, double>& w) {
  v1::CreateAggregateRequest request;
  request.mutable_aggregate()->set_name(name);
  for (const auto& [client_id, weight] : w) {
    (*request.mutable_aggregate()->mutable_weights())[client_id] = weight;
  }
  return request;
}

TEST(CreateAggregateRpcTest, OperatorsOnlyValidatedAndServedByName) {
  auto config = test_support::SmallHypergridConfig(2, 20);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("create_aggregate"), torch::kCPU, 1000);
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  RpcServerOptions rpc_options = test_support::InsecureLoopbackOptions();
  auto server = RpcServer::Start(core->get(), rpc_options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = v1::Federation::NewStub(channel);
  auto sampler = v1::Sampler::NewStub(channel);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(test_support::Upload(
                    *stub, absl::StrCat("client-", i), config->spec_digest, 1,
                    test_support::LocalModelPayload(*config, i, 2, 0))
                    .status.ok());
  }
  ASSERT_NE((*core)->models().WaitForNewer(0, absl::Seconds(60)), nullptr);

  auto create = [&](const v1::CreateAggregateRequest& request, bool admin,
                    v1::CreateAggregateResponse* response) {
    grpc::ClientContext context;
    if (admin) test_support::AddAdminToken(context);
    return stub->CreateAggregate(&context, request, response);
  };
  v1::CreateAggregateResponse response;
  // Not an operator: refused, nothing added.
  grpc::Status refused =
      create(Request("half", {{"client-1", 0.5}}), false, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << refused.error_message();
  // Bad input: INVALID_ARGUMENT naming the problem, nothing added.
  const std::vector<std::pair<v1::CreateAggregateRequest, std::string>> bad = {
      {Request("half", {{"client-1", -0.5}}), "must be finite and >= 0"},
      {Request("half", {{"client-1", 0.0}}), "every weight is 0"},
      {Request("half", {{"client-7", 1.0}}), "unknown client"},
      {Request("default", {{"client-1", 1.0}}), "default aggregate's name"},
      {Request("a b", {{"client-1", 1.0}}), "not a valid aggregate name"},
  };
  for (const auto& [request, message] : bad) {
    grpc::Status status = create(request, true, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << message;
    EXPECT_NE(status.error_message().find(message), std::string::npos)
        << status.error_message();
  }
  EXPECT_TRUE((*core)->Status().aggregates.empty());

  // An operator's valid request: added and trained from the uploads in.
  grpc::Status created =
      create(Request("half", {{"client-1", 0.5}}), true, &response);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(response.aggregate().name(), "half");
  EXPECT_EQ(response.aggregate().weights().at("client-1"), 0.5);
  grpc::Status again =
      create(Request("half", {{"client-0", 1.0}}), true, &response);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(again.error_message().find("'half' is used twice"),
            std::string::npos)
      << again.error_message();
  absl::StatusOr<const ModelStore*> store = (*core)->FindModels("half");
  ASSERT_TRUE(store.ok()) << store.status();
  GlobalVersionPtr half = (*store)->WaitForNewer(0, absl::Seconds(60));
  ASSERT_NE(half, nullptr);
  EXPECT_EQ(half->ClientIds(), std::vector<std::string>{"client-1"});
  ASSERT_EQ((*core)->Status().aggregates.size(), 1u);

  grpc::ClientContext context;
  v1::SampleRequest request;
  request.set_num_samples(3);
  request.set_aggregate("half");
  auto reader = sampler->Sample(&context, request);
  v1::SampleBatch batch;
  int objects = 0;
  while (reader->Read(&batch)) {
    EXPECT_EQ(batch.model_version(), 1);
    objects += batch.objects_size();
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(objects, 3);
}

}  // namespace
}  // namespace epgfn
