// The server over real gRPC on loopback: a full federated round, refused
// uploads, and the sampler against the published model's exact distribution.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"
#include "common/model/model_codec.h"
#include "common/util/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;

constexpr int kClients = 3;

class FederationRpcTest : public ::testing::Test {
 protected:
  void StartServer(int64_t aggregation_iterations) {
    StartServerWithSpec(
        test_support::SmallHypergridSpec(kClients, aggregation_iterations));
  }

  void StartServerWithSpec(const v1::FederationSpec& spec) {
    auto config = FederationConfigFromSpec(spec);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    state_dir_ = test_support::FreshDirectory("rpc");
    auto options = *ServerCore::Options::Create(state_dir_, torch::kCPU, 50000);
    core_ = *ServerCore::Create(config_, options);
    RpcServerOptions rpc_options = test_support::InsecureLoopbackOptions();
    auto server = RpcServer::Start(core_.get(), rpc_options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    federation_ = v1::Federation::NewStub(channel_);
    sampler_ = v1::Sampler::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(2));
    server_.reset();
    core_.reset();
  }

  v1::GetStatusResponse Status() {
    grpc::ClientContext context;
    test_support::AddAdminToken(context);
    v1::GetStatusResponse response;
    EXPECT_TRUE(federation_->GetStatus(&context, {}, &response).ok());
    return response;
  }

  std::shared_ptr<const FederationConfig> config_;
  std::string state_dir_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<RpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Federation::Stub> federation_;
  std::unique_ptr<v1::Sampler::Stub> sampler_;
};

TEST_F(FederationRpcTest, FullRoundWatchDownloadAndSample) {
  StartServer(/*aggregation_iterations=*/200);

  grpc::ClientContext spec_context;
  v1::GetSpecRequest spec_request;
  spec_request.set_client_id("client-0");
  v1::GetSpecResponse spec;
  ASSERT_TRUE(federation_->GetSpec(&spec_context, spec_request, &spec).ok());
  EXPECT_EQ(spec.spec_digest(), config_->spec_digest);
  auto fetched = FederationConfigFromSpec(spec.spec());
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ((*fetched)->spec_digest, spec.spec_digest());

  {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse health;
    auto stub = grpc::health::v1::Health::NewStub(channel_);
    ASSERT_TRUE(stub->Check(&context, {}, &health).ok());
    EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }

  // A watcher, started before anything is published.
  grpc::ClientContext watch_context;
  v1::WatchRequest watch_request;
  auto watch = federation_->WatchGlobalModel(&watch_context, watch_request);
  v1::GlobalModelAnnouncement announcement;
  std::thread watcher([&] { ASSERT_TRUE(watch->Read(&announcement)); });

  for (int i = 0; i < kClients; ++i) {
    const std::string payload =
        test_support::LocalModelPayload(*config_, i, kClients, 300);
    test_support::UploadOutcome outcome =
        test_support::Upload(*federation_, absl::StrCat("client-", i),
                             spec.spec_digest(), 1, payload);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
    EXPECT_EQ(outcome.response.payload_sha256(), Sha256Hex(payload));
    EXPECT_EQ(outcome.response.received_bytes(),
              static_cast<int64_t>(payload.size()));
  }
  watcher.join();
  EXPECT_EQ(announcement.version(), 1);
  EXPECT_THAT(announcement.client_ids(),
              ElementsAre("client-0", "client-1", "client-2"));
  watch_context.TryCancel();
  watch->Finish();

  test_support::Download download =
      test_support::DownloadModel(*federation_, 0);
  ASSERT_TRUE(download.status.ok()) << download.status.error_message();
  EXPECT_EQ(download.header.version(), 1);
  EXPECT_EQ(Sha256Hex(download.payload), announcement.payload_sha256());
  EXPECT_EQ(download.header.payload_sha256(), announcement.payload_sha256());
  EXPECT_EQ(static_cast<int64_t>(download.payload.size()),
            announcement.payload_bytes());
  v1::ModelWeights weights;
  ASSERT_TRUE(weights.ParseFromString(download.payload));
  auto global = ImportModel(weights, *config_->environment, torch::kCPU);
  ASSERT_TRUE(global.ok()) << global.status();

  v1::GetStatusResponse status = Status();
  EXPECT_EQ(status.current_version(), 1);
  EXPECT_EQ(status.spec_digest(), config_->spec_digest);
  ASSERT_EQ(status.clients_size(), kClients);
  for (const v1::ClientStatus& client : status.clients()) {
    EXPECT_EQ(client.accepted_round(), 1);
    EXPECT_DOUBLE_EQ(client.diagnostics().beta(), 0.3);
  }
  EXPECT_EQ(status.aggregation().iteration(), 200);
  EXPECT_GE(status.aggregation().total_variation_to_local_product(), 0.0);
  EXPECT_LT(status.aggregation().total_variation_to_local_product(), 0.1);
  EXPECT_EQ(status.aggregation().state(), "idle");

  grpc::ClientContext list_context;
  v1::ListModelsResponse models;
  ASSERT_TRUE(sampler_->ListModels(&list_context, {}, &models).ok());
  ASSERT_EQ(models.versions_size(), 1);
  EXPECT_EQ(models.versions(0).version(), 1);

  // 20000 samples from the published model against its exact distribution.
  const Environment& environment = *config_->environment;
  v1::SampleRequest request;
  request.set_num_samples(20000);
  request.set_use_seed(true);
  request.set_seed(11);
  grpc::ClientContext sample_context;
  auto reader = sampler_->Sample(&sample_context, request);
  std::vector<int64_t> flat;
  v1::SampleBatch batch;
  int64_t received = 0;
  while (reader->Read(&batch)) {
    EXPECT_EQ(batch.model_version(), 1);
    for (const v1::SampledObject& object : batch.objects()) {
      ASSERT_EQ(object.state_size(), environment.raw_state_dim());
      flat.insert(flat.end(), object.state().begin(), object.state().end());
      EXPECT_FALSE(object.description().empty());
      EXPECT_TRUE(std::isnan(object.log_probability()));
    }
    received += batch.objects_size();
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(received, 20000);
  torch::Tensor samples = torch::tensor(flat, torch::kInt64)
                              .reshape({received, environment.raw_state_dim()});
  torch::Tensor mask = environment.ForwardMask(samples);
  EXPECT_TRUE(mask.select(1, environment.exit_action()).all().item<bool>());
  torch::Tensor terminal = *environment.EnumerateTerminalStates();
  auto exact = ExactLearnedProbabilities(*global, environment, terminal);
  ASSERT_TRUE(exact.ok()) << exact.status();
  const double tv =
      TotalVariation(EmpiricalDistribution(samples, terminal), *exact);
  EXPECT_LT(tv, 0.03);
  std::cout << "sampler TV to the exact distribution: " << tv << std::endl;

  // Log-probability estimates, and the cap.
  request.set_num_samples(5);
  request.set_log_probability_samples(4);
  grpc::ClientContext small_context;
  reader = sampler_->Sample(&small_context, request);
  ASSERT_TRUE(reader->Read(&batch));
  ASSERT_EQ(batch.objects_size(), 5);
  EXPECT_LT(batch.objects(0).log_probability(), 0.0);
  reader->Finish();
  request.set_num_samples(50001);
  grpc::ClientContext cap_context;
  reader = sampler_->Sample(&cap_context, request);
  while (reader->Read(&batch)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Drop-outs and stragglers over real streams: of four clients, two upload,
// one disconnects mid-upload and one never shows up. With quorum 2 the
// deadline starts aggregation of exactly the two; the straggler's late upload
// then gets a new version that includes it.
TEST_F(FederationRpcTest, QuorumAtTheDeadlineDespiteADropOutThenAStraggler) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(4, 40);
  spec.set_quorum(2);
  spec.set_upload_deadline_seconds(2);
  StartServerWithSpec(spec);
  const std::string digest = config_->spec_digest;

  grpc::ClientContext watch_context;
  auto watch = federation_->WatchGlobalModel(&watch_context, {});

  for (int i = 0; i < 2; ++i) {
    auto outcome = test_support::Upload(
        *federation_, absl::StrCat("client-", i), digest, 1,
        test_support::LocalModelPayload(*config_, i, 4, 0));
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  }

  // client-2 sends its header and half of its model, then disconnects.
  const std::string straggler_payload =
      test_support::LocalModelPayload(*config_, 2, 4, 0);
  {
    grpc::ClientContext context;
    v1::UploadResponse response;
    auto writer = federation_->UploadModel(&context, &response);
    v1::UploadChunk header;
    header.mutable_header()->set_client_id("client-2");
    header.mutable_header()->set_spec_digest(digest);
    header.mutable_header()->set_round(1);
    header.mutable_header()->set_total_bytes(
        static_cast<int64_t>(straggler_payload.size()));
    header.mutable_header()->set_payload_sha256(Sha256Hex(straggler_payload));
    ASSERT_TRUE(writer->Write(header));
    v1::UploadChunk half;
    half.set_data(straggler_payload.substr(0, straggler_payload.size() / 2));
    ASSERT_TRUE(writer->Write(half));
    // Gives the server's handler time to receive what was sent, so that the
    // cancellation hits it mid-stream (not a timing assertion: the count
    // below is polled).
    absl::SleepFor(absl::Milliseconds(300));
    context.TryCancel();
    EXPECT_FALSE(writer->Finish().ok());
  }
  // The server counts the aborted transfer once its handler has seen it.
  v1::GetStatusResponse status;
  int64_t transfer_errors = 0;
  for (int attempt = 0; attempt < 1000 && transfer_errors == 0; ++attempt) {
    status = Status();
    auto it = status.refused_uploads().find("transfer_error");
    if (it != status.refused_uploads().end()) transfer_errors = it->second;
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(transfer_errors, 1);
  EXPECT_EQ(status.clients(2).accepted_round(), 0);
  EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/uploads/client-2.meta"));
  EXPECT_FALSE(
      std::filesystem::exists(state_dir_ + "/uploads/client-2.r1.model"));

  v1::GlobalModelAnnouncement first;
  ASSERT_TRUE(watch->Read(&first));
  EXPECT_EQ(first.version(), 1);
  EXPECT_THAT(first.client_ids(), ElementsAre("client-0", "client-1"));

  // The straggler comes back and uploads in full: a re-aggregation (warm
  // started from v1) publishes v2 with it; client-3 is still missing.
  auto late = test_support::Upload(*federation_, "client-2", digest, 1,
                                   straggler_payload);
  ASSERT_TRUE(late.status.ok()) << late.status.error_message();
  v1::GlobalModelAnnouncement second;
  ASSERT_TRUE(watch->Read(&second));
  EXPECT_EQ(second.version(), 2);
  EXPECT_THAT(second.client_ids(),
              ElementsAre("client-0", "client-1", "client-2"));
  watch_context.TryCancel();
  watch->Finish();

  status = Status();
  EXPECT_EQ(status.current_version(), 2);
  EXPECT_EQ(status.clients(2).accepted_round(), 1);
  EXPECT_EQ(status.clients(3).accepted_round(), 0);
  // The published records on disk name exactly the aggregated clients.
  auto recovered = ModelStore::Create(config_, state_dir_);
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_THAT((*recovered)->Get(1)->ClientIds(),
              ElementsAre("client-0", "client-1"));
  EXPECT_THAT((*recovered)->Get(2)->ClientIds(),
              ElementsAre("client-0", "client-1", "client-2"));
}

TEST_F(FederationRpcTest, RefusesBadUploadsAndStoresNothing) {
  StartServer(/*aggregation_iterations=*/20);
  const std::string payload =
      test_support::LocalModelPayload(*config_, 0, kClients, 0);
  const std::string digest = config_->spec_digest;

  // A flipped byte: the digest no longer matches.
  auto outcome =
      test_support::Upload(*federation_, "client-0", digest, 1, payload,
                           [](std::vector<v1::UploadChunk>& chunks) {
                             (*chunks[1].mutable_data())[10] ^= 0x55;
                           });
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::DATA_LOSS)
      << outcome.status.error_message();
  // Truncated: the last chunk never comes.
  outcome = test_support::Upload(*federation_, "client-0", digest, 1, payload,
                                 [](std::vector<v1::UploadChunk>& chunks) {
                                   std::string& data =
                                       *chunks.back().mutable_data();
                                   data.resize(data.size() / 2);
                                 });
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::DATA_LOSS);
  // Data before the header, and two headers.
  outcome = test_support::Upload(*federation_, "client-0", digest, 1, payload,
                                 [](std::vector<v1::UploadChunk>& chunks) {
                                   std::swap(chunks[0], chunks[1]);
                                 });
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  outcome = test_support::Upload(*federation_, "client-0", digest, 1, payload,
                                 [](std::vector<v1::UploadChunk>& chunks) {
                                   chunks.push_back(chunks[0]);
                                 });
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Another spec, an unknown client, a payload that is no model.
  outcome = test_support::Upload(*federation_, "client-0", std::string(64, '0'),
                                 1, payload);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  outcome = test_support::Upload(*federation_, "mallory", digest, 1, payload);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  outcome =
      test_support::Upload(*federation_, "client-1", digest, 1, "junk bytes");
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetStatusResponse status = Status();
  for (const v1::ClientStatus& client : status.clients()) {
    EXPECT_EQ(client.accepted_round(), 0) << client.client_id();
  }
  EXPECT_EQ(status.refused_uploads().at("transfer_error"), 4);
  EXPECT_EQ(status.refused_uploads().at("digest_mismatch"), 1);
  EXPECT_EQ(status.refused_uploads().at("unknown_client"), 1);
  EXPECT_EQ(status.refused_uploads().at("invalid_model"), 1);
  EXPECT_TRUE(std::filesystem::is_empty(state_dir_ + "/uploads"));

  // Nothing to download or sample yet.
  EXPECT_EQ(test_support::DownloadModel(*federation_, 0).status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::SampleRequest request;
  request.set_num_samples(3);
  grpc::ClientContext context;
  auto reader = sampler_->Sample(&context, request);
  v1::SampleBatch batch;
  while (reader->Read(&batch)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  // The intact upload is accepted under the digest of its bytes (the
  // transfer's check is the server's only hash of them), and its replay is
  // recognised.
  outcome = test_support::Upload(*federation_, "client-0", digest, 1, payload);
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.response.payload_sha256(), Sha256Hex(payload));
  outcome = test_support::Upload(*federation_, "client-0", digest, 1, payload);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

}  // namespace
}  // namespace epgfn
