// The Summarize RPC over real gRPC on loopback (TLS, sampler tokens), via
// the client library: a summary of the published 4x4 hypergrid model, one of
// given objects, and the refusals with their status codes.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/core/sampler_client.h"
#include "gtest/gtest.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/sampler_access.h"
#include "server/testing/sampler_server.h"

namespace epgfn {
namespace {

class SummarizeRpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs = test_support::GenerateCertificates({"client-0"});
    ASSERT_TRUE(certs.ok()) << certs.status();
    const std::string tokens = test_support::WriteTestFile(
        "tokens.txt", absl::StrCat("alice:", test_support::TestToken(1), "\n"));
    SamplerAccessFlags flags;  // token mode
    flags.tokens_file = tokens;
    auto access = SamplerAccessOptions::Create(flags);
    ASSERT_TRUE(access.ok()) << access.status();
    auto server = test_support::StartSamplerServer(*certs, false, *access);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }
  static void TearDownTestSuite() { delete server_; }

  static SamplerClient Client(const std::string& token) {
    SamplerClientOptions options;
    options.token = token;
    options.retry.max_attempts = 1;
    return SamplerClient(server_->Channel(""), options);
  }

  static test_support::SamplerServer* server_;
};

test_support::SamplerServer* SummarizeRpcTest::server_ = nullptr;

TEST_F(SummarizeRpcTest, SummarizesDrawnObjects) {
  v1::SummarizeRequest request;
  request.set_num_samples(800);
  request.set_use_seed(true);
  request.set_seed(5);
  request.set_top_objects(3);
  request.add_variable_names("height");
  request.add_variable_names("width");
  auto summary = Client(test_support::TestToken(1)).Summarize(request);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->model_version(), 1);
  EXPECT_EQ(summary->num_objects(), 800);
  EXPECT_GT(summary->num_distinct(), 3);
  EXPECT_LE(summary->num_distinct(), 16);
  ASSERT_EQ(summary->top_objects_size(), 3);
  int64_t previous = summary->num_objects();
  for (const v1::TopObject& object : summary->top_objects()) {
    ASSERT_EQ(object.state_size(), 2);
    EXPECT_EQ(object.description(),
              absl::StrCat("(", object.state(0), ",", object.state(1), ")"));
    EXPECT_LE(object.count(), previous);
    previous = object.count();
    EXPECT_DOUBLE_EQ(object.frequency(), object.count() / 800.0);
    EXPECT_GT(object.frequency_standard_error(), 0.0);
    // An untrained policy spreads its mass over 16 points: the IS estimate
    // of p_T agrees with the frequency to within sampling error.
    EXPECT_NEAR(object.probability(), object.frequency(),
                5 * object.frequency_standard_error() + 0.02);
  }
  ASSERT_EQ(summary->tables_size(), 1);
  const v1::MarginalTable& table = summary->tables(0);
  EXPECT_EQ(table.row_labels(0), "height");
  EXPECT_EQ(table.row_labels(1), "width");
  ASSERT_EQ(table.column_labels_size(), 4);
  ASSERT_EQ(table.probabilities_size(), 8);
  ASSERT_EQ(table.standard_errors_size(), 8);
  for (int r = 0; r < 2; ++r) {
    double total = 0.0;
    for (int c = 0; c < 4; ++c) total += table.probabilities(r * 4 + c);
    EXPECT_NEAR(total, 1.0, 1e-9);
  }
}

TEST_F(SummarizeRpcTest, SummarizesGivenObjects) {
  v1::SummarizeRequest request;
  for (int i = 0; i < 3; ++i) {
    v1::ObjectState* object = request.add_objects();
    object->add_state(i == 2 ? 0 : 3);
    object->add_state(1);
  }
  auto summary = Client(test_support::TestToken(1)).Summarize(request);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->num_objects(), 3);
  EXPECT_EQ(summary->num_distinct(), 2);
  EXPECT_EQ(summary->top_objects(0).description(), "(3,1)");
  EXPECT_EQ(summary->top_objects(0).count(), 2);
  EXPECT_TRUE(std::isfinite(summary->top_objects(0).log_probability()));
  // P(x0 = 3) = 2/3, P(x1 = 1) = 1.
  EXPECT_NEAR(summary->tables(0).probabilities(3), 2.0 / 3, 1e-12);
  EXPECT_NEAR(summary->tables(0).probabilities(4 + 1), 1.0, 1e-12);
}

TEST_F(SummarizeRpcTest, BadInputsGetClearStatusCodes) {
  SamplerClient client = Client(test_support::TestToken(1));
  v1::SummarizeRequest request;
  request.set_num_samples(1001);  // the test server's cap is 1000
  auto refused = client.Summarize(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("num_samples"), std::string::npos)
      << refused.status();

  request.set_num_samples(10);
  request.set_model_version(9);
  refused = client.Summarize(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(refused.status().message().find("version 9"), std::string::npos)
      << refused.status();

  request.set_model_version(0);
  request.set_num_samples(0);
  request.add_objects()->add_state(1);  // one integer; grid objects have 2
  refused = client.Summarize(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("objects[0]"), std::string::npos)
      << refused.status();

  request.Clear();
  request.set_num_samples(10);
  EXPECT_EQ(Client("").Summarize(request).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      Client(test_support::TestToken(2)).Summarize(request).status().code(),
      absl::StatusCode::kUnauthenticated);
}

TEST_F(SummarizeRpcTest, AnExpiredDeadlineEndsTheCall) {
  auto stub = v1::Sampler::NewStub(server_->Channel(""));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + test_support::TestToken(1));
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(1));
  v1::SummarizeRequest request;
  request.set_num_samples(1000);
  v1::Summary summary;
  const grpc::Status status = stub->Summarize(&context, request, &summary);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << status.error_message();
}

}  // namespace
}  // namespace epgfn
