// Sampler access control over a real gRPC server on loopback with real TLS
// certificates from deploy/gen_certs.sh: bearer tokens, client certificates
// and open mode, each refusal UNAUTHENTICATED and counted in GetStatus.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/core/sampler_client.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/sampler_access.h"
#include "server/testing/rpc_client.h"
#include "server/testing/sampler_server.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

constexpr int kSamples = 20;

class SamplerAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs = test_support::GenerateCertificates({"client-0"});
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = new std::string(*certs);
  }

  void Start(bool mutual_tls, SamplerAccessOptions access) {
    auto server = test_support::StartSamplerServer(*certs_, mutual_tls, access);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
  }

  // Token mode with two callers; alice's token is TestToken(1).
  static SamplerAccessOptions TokenAccess() {
    const std::string path = test_support::WriteTestFile(
        "tokens.txt",
        absl::StrCat("# test callers\nalice:", test_support::TestToken(1),
                     "\nbob:", test_support::TestToken(2), "\n"));
    SamplerAccessFlags flags;  // token mode
    flags.tokens_file = path;
    auto options = SamplerAccessOptions::Create(flags);
    EXPECT_TRUE(options.ok()) << options.status();
    return *options;
  }

  // A Sample call with `authorization` metadata (none when empty); on
  // success checks that every object is a valid 4x4 hypergrid state.
  grpc::Status Sample(const std::string& client_id,
                      const std::string& authorization) {
    auto stub = v1::Sampler::NewStub(server_->Channel(client_id));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    if (!authorization.empty()) {
      context.AddMetadata("authorization", authorization);
    }
    v1::SampleRequest request;
    request.set_num_samples(kSamples);
    auto reader = stub->Sample(&context, request);
    v1::SampleBatch batch;
    int received = 0;
    while (reader->Read(&batch)) {
      EXPECT_EQ(batch.model_version(), 1);
      for (const v1::SampledObject& object : batch.objects()) {
        EXPECT_EQ(object.state_size(), 2);
        for (int64_t coordinate : object.state()) {
          EXPECT_GE(coordinate, 0);
          EXPECT_LT(coordinate, 4);
        }
      }
      received += batch.objects_size();
    }
    grpc::Status status = reader->Finish();
    EXPECT_EQ(received, status.ok() ? kSamples : 0);
    return status;
  }

  grpc::Status ListModels(const std::string& authorization) {
    auto stub = v1::Sampler::NewStub(server_->Channel(""));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    if (!authorization.empty()) {
      context.AddMetadata("authorization", authorization);
    }
    v1::ListModelsResponse response;
    return stub->ListModels(&context, {}, &response);
  }

  std::map<std::string, int64_t> RefusedOverRpc(const std::string& client_id) {
    auto stub = v1::Federation::NewStub(server_->Channel(client_id));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    test_support::AddAdminToken(context);
    v1::GetStatusResponse response;
    EXPECT_TRUE(stub->GetStatus(&context, {}, &response).ok());
    return {response.refused_sampler_calls().begin(),
            response.refused_sampler_calls().end()};
  }

  static std::string* certs_;
  std::unique_ptr<test_support::SamplerServer> server_;
};

std::string* SamplerAuthTest::certs_ = nullptr;

TEST_F(SamplerAuthTest, TokenModeAcceptsAListedToken) {
  Start(/*mutual_tls=*/false, TokenAccess());
  grpc::Status status = Sample("", "Bearer " + test_support::TestToken(1));
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = Sample("", "Bearer " + test_support::TestToken(2));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(ListModels("Bearer " + test_support::TestToken(1)).ok());
  EXPECT_TRUE(RefusedOverRpc("").empty());

  // The client library attaches the token it is given.
  SamplerClientOptions options;
  options.token = test_support::TestToken(1);
  SamplerClient client(server_->Channel(""), options);
  v1::SampleRequest request;
  request.set_num_samples(7);
  auto result = client.Sample(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->objects.size(), 7u);
  EXPECT_EQ(result->model_version, 1);
}

TEST_F(SamplerAuthTest, TokenModeRefusesWrongMissingAndSameLengthTokens) {
  Start(/*mutual_tls=*/false, TokenAccess());
  std::string same_length = test_support::TestToken(1);
  same_length[10] = same_length[10] == 'f' ? 'e' : 'f';
  ASSERT_EQ(same_length.size(), test_support::TestToken(1).size());
  EXPECT_EQ(Sample("", "Bearer " + test_support::TestToken(3)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);  // a well-formed stranger
  EXPECT_EQ(Sample("", "Bearer short-and-wrong").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Sample("", "Bearer " + same_length).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Sample("", "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Sample("", test_support::TestToken(1)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);  // no "Bearer "
  EXPECT_EQ(ListModels("").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  const auto refused = RefusedOverRpc("");
  EXPECT_EQ(refused.at(kSamplerRefusedWrongToken), 3);
  EXPECT_EQ(refused.at(kSamplerRefusedMissingToken), 2);
  EXPECT_EQ(refused.at(kSamplerRefusedMalformedAuthorization), 1);

  // The client library's refusal is not retried and keeps its code.
  SamplerClientOptions options;
  options.token = same_length;
  SamplerClient client(server_->Channel(""), options);
  v1::SampleRequest request;
  request.set_num_samples(3);
  EXPECT_EQ(client.Sample(request).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(RefusedOverRpc("").at(kSamplerRefusedWrongToken), 4);
}

TEST_F(SamplerAuthTest, MutualTlsModeNeedsAClientCertificate) {
  SamplerAccessFlags flags;
  flags.auth = "mtls";
  flags.mutual_tls = true;
  Start(/*mutual_tls=*/true, *SamplerAccessOptions::Create(flags));
  grpc::Status status = Sample("client-0", "");
  EXPECT_TRUE(status.ok()) << status.error_message();
  // Without a certificate the TLS handshake itself fails, token or not.
  status = Sample("", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_FALSE(Sample("", "Bearer " + test_support::TestToken(1)).ok());
  EXPECT_TRUE(RefusedOverRpc("client-0").empty());
}

TEST_F(SamplerAuthTest, TokenModeOverMutualTlsNeedsBoth) {
  SamplerAccessOptions access = TokenAccess();
  Start(/*mutual_tls=*/true, access);
  EXPECT_TRUE(Sample("client-0", "Bearer " + test_support::TestToken(2)).ok());
  EXPECT_EQ(Sample("client-0", "").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_FALSE(Sample("", "Bearer " + test_support::TestToken(2)).ok());
  EXPECT_EQ(RefusedOverRpc("client-0").at(kSamplerRefusedMissingToken), 1);
}

TEST_F(SamplerAuthTest, OpenModeLetsAnyoneSample) {
  Start(/*mutual_tls=*/false, SamplerAccessOptions::Open());
  EXPECT_TRUE(Sample("", "").ok());
  EXPECT_TRUE(Sample("", "Bearer whatever").ok());
  EXPECT_TRUE(ListModels("").ok());
}

TEST_F(SamplerAuthTest, UnconfiguredServerRefusesEveryone) {
  Start(/*mutual_tls=*/false, SamplerAccessOptions());
  EXPECT_EQ(Sample("", "Bearer " + test_support::TestToken(1)).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(RefusedOverRpc("").at(kSamplerRefusedNotConfigured), 1);
}

TEST(SamplerAuthStartTest, MutualTlsModeWithoutClientCaDoesNotStart) {
  auto certs = test_support::GenerateCertificates({"client-0"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  SamplerAccessOptions access;
  access.mode = SamplerAuthMode::kMutualTls;
  auto server =
      test_support::StartSamplerServer(*certs, /*mutual_tls=*/false, access);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
