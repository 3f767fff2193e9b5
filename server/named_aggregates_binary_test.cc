// Named aggregates with the real epgfn_server binary (issue #18): a config
// with two named aggregates publishes both beside the default one, a
// client's new round re-aggregates only the aggregates that include it, the
// sampler serves each by name (NOT_FOUND for an unknown one), and GetStatus
// and ListModels report each one's weights and versions.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "proto/sampler.grpc.pb.h"
#include "server/testing/rpc_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

// "ab" = client-0 * client-1^0.5 and "bc" = client-1 * client-2^2 share
// client-1; client-0 and client-2 each belong to one of them.
std::string Config() {
  return test_support::ProcessTestConfig("named-aggregates-test",
                                         /*num_clients=*/3, /*iterations=*/40,
                                         /*batch_size=*/32, R"pb(
    aggregate {
      name: "ab"
      weights { key: "client-0" value: 1 }
      weights { key: "client-1" value: 0.5 }
    }
    aggregate {
      name: "bc"
      weights { key: "client-1" value: 1 }
      weights { key: "client-2" value: 2 }
    }
  )pb");
}

class NamedAggregatesBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = test_support::FreshDirectory("named-binary");
    const std::string config_path = root + "/federation.textproto";
    std::ofstream(config_path) << Config();
    const std::string admin_tokens = root + "/admin_tokens.txt";
    std::ofstream(admin_tokens)
        << "ops:" << test_support::TestAdminToken() << "\n";
    server_ = test_support::StartServerProcess(
        {"--config=" + config_path, "--state_dir=" + root + "/state",
         "--listen=127.0.0.1:0", "--insecure", "--sampler_auth=open",
         "--threads=1", "--admin_tokens_file=" + admin_tokens});
    ASSERT_FALSE(server_.address.empty())
        << "the server did not announce itself";
    auto channel = grpc::CreateChannel(server_.address,
                                       grpc::InsecureChannelCredentials());
    federation_ = v1::Federation::NewStub(channel);
    sampler_ = v1::Sampler::NewStub(channel);
    grpc::ClientContext context;
    ASSERT_TRUE(federation_->GetSpec(&context, {}, &spec_).ok());
    auto config = FederationConfigFromSpec(spec_.spec());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
  }

  void TearDown() override {
    if (server_.pid > 0) {
      EXPECT_EQ(test_support::StopServerProcess(server_), 0);
    }
  }

  void Upload(int index, int64_t round) {
    auto outcome = test_support::Upload(
        *federation_, absl::StrCat("client-", index), spec_.spec_digest(),
        round, test_support::LocalModelPayload(*config_, index, 3, 0));
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  }

  v1::GetStatusResponse Status() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    test_support::AddAdminToken(context);
    v1::GetStatusResponse response;
    EXPECT_TRUE(federation_->GetStatus(&context, {}, &response).ok());
    return response;
  }

  // Versions by aggregate ("" for the default one).
  static std::map<std::string, int64_t> Versions(
      const v1::GetStatusResponse& status) {
    std::map<std::string, int64_t> versions = {{"", status.current_version()}};
    for (const v1::NamedAggregateStatus& named : status.aggregates()) {
      versions[named.name()] = named.current_version();
    }
    return versions;
  }

  // Polls GetStatus until `done` holds (or a minute passed).
  v1::GetStatusResponse WaitUntil(
      const std::function<bool(const std::map<std::string, int64_t>&)>& done) {
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    v1::GetStatusResponse status = Status();
    while (!done(Versions(status)) && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(50));
      status = Status();
    }
    return status;
  }

  // Samples 5 objects of `aggregate`; the version served (0 on error).
  grpc::Status Sample(const std::string& aggregate, int64_t* version) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::SampleRequest request;
    request.set_num_samples(5);
    request.set_aggregate(aggregate);
    auto reader = sampler_->Sample(&context, request);
    v1::SampleBatch batch;
    int64_t objects = 0;
    *version = 0;
    while (reader->Read(&batch)) {
      *version = batch.model_version();
      objects += batch.objects_size();
    }
    grpc::Status status = reader->Finish();
    if (status.ok()) {
      EXPECT_EQ(objects, 5);
    }
    return status;
  }

  test_support::ServerProcess server_;
  std::unique_ptr<v1::Federation::Stub> federation_;
  std::unique_ptr<v1::Sampler::Stub> sampler_;
  v1::GetSpecResponse spec_;
  std::shared_ptr<const FederationConfig> config_;
};

TEST_F(NamedAggregatesBinaryTest,
       PublishesEachReaggregatesMembersServesByName) {
  for (int i = 0; i < 3; ++i) Upload(i, 1);
  using VersionMap = std::map<std::string, int64_t>;
  const VersionMap first = {{"", 1}, {"ab", 1}, {"bc", 1}};
  v1::GetStatusResponse status =
      WaitUntil([&](const VersionMap& v) { return v == first; });
  ASSERT_EQ(Versions(status), first);
  ASSERT_EQ(status.aggregates_size(), 2);
  EXPECT_EQ(status.aggregates(0).name(), "ab");
  EXPECT_EQ(status.aggregates(0).weights().at("client-1"), 0.5);
  EXPECT_EQ(status.aggregates(1).weights().at("client-2"), 2.0);

  // client-0 is only in "ab": "ab" and the default move on, "bc" does not.
  Upload(0, 2);
  status = WaitUntil(
      [](const VersionMap& v) { return v.at("") == 2 && v.at("ab") == 2; });
  EXPECT_EQ(Versions(status), (VersionMap{{"", 2}, {"ab", 2}, {"bc", 1}}));
  // Given time, "bc" still has nothing to do.
  absl::SleepFor(absl::Milliseconds(500));
  status = Status();
  EXPECT_EQ(Versions(status), (VersionMap{{"", 2}, {"ab", 2}, {"bc", 1}}));
  EXPECT_EQ(status.aggregates(1).aggregation().state(), "idle");
  // client-2 is only in "bc".
  Upload(2, 2);
  status = WaitUntil(
      [](const VersionMap& v) { return v.at("") == 3 && v.at("bc") == 2; });
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(Versions(Status()), (VersionMap{{"", 3}, {"ab", 2}, {"bc", 2}}));

  // The sampler serves each by name.
  int64_t version = 0;
  grpc::Status sampled = Sample("ab", &version);
  ASSERT_TRUE(sampled.ok()) << sampled.error_message();
  EXPECT_EQ(version, 2);
  sampled = Sample("", &version);
  ASSERT_TRUE(sampled.ok()) << sampled.error_message();
  EXPECT_EQ(version, 3);
  sampled = Sample("nope", &version);
  EXPECT_EQ(sampled.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(sampled.error_message().find("no aggregate named 'nope'"),
            std::string::npos)
      << sampled.error_message();

  // ListModels names the aggregate's versions, their clients and weights.
  grpc::ClientContext context;
  v1::ListModelsRequest request;
  request.set_aggregate("bc");
  v1::ListModelsResponse models;
  ASSERT_TRUE(sampler_->ListModels(&context, request, &models).ok());
  ASSERT_EQ(models.versions_size(), 2);
  EXPECT_EQ(models.versions(1).version(), 2);
  EXPECT_EQ(models.versions(1).client_ids_size(), 2);
  EXPECT_EQ(models.versions(1).client_weights().at("client-2"), 2.0);
  grpc::ClientContext unknown_context;
  request.set_aggregate("nope");
  EXPECT_EQ(
      sampler_->ListModels(&unknown_context, request, &models).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace epgfn
