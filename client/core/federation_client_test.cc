// FederationClient against an in-process fake Federation service on a
// loopback port: chunked upload with digest, download reassembly and digest
// check, retries of transient failures, watching for a version.
#include "client/core/federation_client.h"

#include <glog/logging.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/core/channel.h"
#include "client/core/test_loopback.h"
#include "common/util/sha256.h"

namespace epgfn {
namespace {

// A model whose payload spans several 1 MiB chunks.
v1::ModelWeights BigModel() {
  v1::ModelWeights weights;
  weights.mutable_environment()->set_kind("hypergrid");
  weights.set_encoding_dim(16);
  v1::TensorData* tensor = weights.add_tensors();
  tensor->set_name("torso.0.weight");
  tensor->add_shape(700'000);
  tensor->set_dtype(v1::DTYPE_FLOAT32);
  std::string data(700'000 * 4, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  tensor->set_data(data);
  return weights;
}

class FakeFederation final : public v1::Federation::Service {
 public:
  grpc::Status GetSpec(grpc::ServerContext*, const v1::GetSpecRequest* request,
                       v1::GetSpecResponse* response) override {
    ++get_spec_calls_;
    if (unavailable_get_spec_.fetch_sub(1) > 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "warming up");
    }
    response->mutable_spec()->set_name(
        absl::StrCat("for ", request->client_id()));
    response->set_spec_digest(std::string(64, 'a'));
    return grpc::Status::OK;
  }

  grpc::Status UploadModel(grpc::ServerContext*,
                           grpc::ServerReader<v1::UploadChunk>* reader,
                           v1::UploadResponse* response) override {
    std::optional<ReceivedUpload> upload = ReadUpload(*reader);
    if (!upload.has_value()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no header");
    }
    absl::MutexLock lock(&mutex_);
    header_ = upload->header;
    payload_ = upload->payload;
    chunk_sizes_ = upload->chunk_sizes;
    // As the real server: an identical replay of a stored upload.
    if (!stored_sha256_.empty() && stored_sha256_ == Sha256Hex(payload_)) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "replay");
    }
    if (lost_upload_answers_.fetch_sub(1) > 0) {
      // Stored, but the answer never reaches the client.
      stored_sha256_ = Sha256Hex(payload_);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection lost");
    }
    AcknowledgeUpload(*upload, *response);
    return grpc::Status::OK;
  }

  grpc::Status WatchGlobalModel(
      grpc::ServerContext*, const v1::WatchRequest* request,
      grpc::ServerWriter<v1::GlobalModelAnnouncement>* writer) override {
    if (cancelled_watches_.fetch_sub(1) > 0) {
      // What a server shutting down answers a call that arrives meanwhile.
      return grpc::Status(grpc::StatusCode::CANCELLED, "shutting down");
    }
    for (int64_t version = 1; version <= 3; ++version) {
      if (version <= request->after_version()) continue;
      v1::GlobalModelAnnouncement announcement;
      announcement.set_version(version);
      announcement.add_client_ids("client-0");
      if (version >= 2) announcement.add_client_ids("client-1");
      writer->Write(announcement);
    }
    return grpc::Status::OK;
  }

  grpc::Status DownloadGlobalModel(
      grpc::ServerContext*, const v1::DownloadRequest* request,
      grpc::ServerWriter<v1::DownloadChunk>* writer) override {
    std::string payload;
    BigModel().SerializeToString(&payload);
    v1::DownloadChunk chunk;
    chunk.mutable_header()->set_version(
        request->version() == 0 ? 3 : request->version());
    chunk.mutable_header()->set_total_bytes(
        static_cast<int64_t>(payload.size()));
    chunk.mutable_header()->set_payload_sha256(Sha256Hex(payload));
    writer->Write(chunk);
    if (corrupt_download_) payload[payload.size() / 2] ^= 1;
    for (size_t offset = 0; offset < payload.size(); offset += 1 << 20) {
      chunk.set_data(payload.substr(offset, 1 << 20));
      writer->Write(chunk);
    }
    return grpc::Status::OK;
  }

  std::atomic<int> unavailable_get_spec_{0};
  std::atomic<int> get_spec_calls_{0};
  std::atomic<bool> corrupt_download_{false};
  std::atomic<int> lost_upload_answers_{0};
  std::atomic<int> cancelled_watches_{0};
  std::string stored_sha256_;
  absl::Mutex mutex_;
  v1::UploadHeader header_;
  std::string payload_;
  std::vector<int64_t> chunk_sizes_;
};

// An insecure channel whose unary retries (gRPC's, from the service config)
// back off for milliseconds, not seconds.
ChannelOptions FastRetryChannel(const std::string& target) {
  ChannelOptions options;
  options.target = target;
  options.insecure = true;
  options.unary_max_attempts = 4;
  options.unary_initial_backoff = absl::Milliseconds(10);
  options.unary_max_backoff = absl::Milliseconds(20);
  return options;
}

class FederationClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoopbackServer loopback = StartLoopbackServer(service_);
    server_ = std::move(loopback.server);
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(loopback.port, 0);
    FederationClientOptions options;
    options.retry.max_attempts = 4;
    options.sleep = [this](absl::Duration) { ++sleeps_; };
    client_ = std::make_unique<FederationClient>(
        *MakeChannel(FastRetryChannel(loopback.address)), options);
  }

  void TearDown() override { server_->Shutdown(); }

  FakeFederation service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<FederationClient> client_;
  int sleeps_ = 0;
};

// gRPC retries the unary call itself (the service config), so the server
// sees every attempt and the project's own backoff never sleeps.
TEST_F(FederationClientTest, GetSpecIsRetriedByGrpcOnUnavailable) {
  service_.unavailable_get_spec_ = 2;
  absl::StatusOr<SpecResult> spec = client_->GetSpec("client-7");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->spec.name(), "for client-7");
  EXPECT_EQ(service_.get_spec_calls_, 3);
  EXPECT_EQ(sleeps_, 0);
}

TEST_F(FederationClientTest, GetSpecGivesUpAfterTheServiceConfigsAttempts) {
  service_.unavailable_get_spec_ = 100;
  absl::StatusOr<SpecResult> spec = client_->GetSpec("client-7");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.get_spec_calls_, 4);
  EXPECT_EQ(sleeps_, 0);
}

TEST(ServiceConfigTest, NamesTheUnaryMethodsAndTheRetryPolicy) {
  ChannelOptions options = FastRetryChannel("127.0.0.1:1");
  const std::string json = UnaryServiceConfigJson(options);
  for (const char* part :
       {"\"method\":\"GetSpec\"", "\"method\":\"GetStatus\"",
        "\"service\":\"epgfn.v1.Sampler\",\"method\":\"ListModels\"",
        "\"waitForReady\":true", "\"maxAttempts\":4",
        "\"initialBackoff\":\"0.010s\"",
        "\"retryableStatusCodes\":[\"UNAVAILABLE\"]"}) {
    EXPECT_NE(json.find(part), std::string::npos) << part << " in " << json;
  }
  // No retry asked for: waitForReady stays, the policy goes (gRPC refuses
  // maxAttempts < 2).
  options.unary_max_attempts = 1;
  EXPECT_EQ(UnaryServiceConfigJson(options).find("retryPolicy"),
            std::string::npos);
  ChannelFlags flags;
  flags.server = "h:1";
  flags.insecure = true;
  flags.rpc_attempts = 9;
  // gRPC caps attempts at 5.
  EXPECT_EQ(ChannelOptionsFromFlags(flags)->unary_max_attempts, 5);
  flags.rpc_attempts = 0;
  EXPECT_FALSE(ChannelOptionsFromFlags(flags).ok());
  flags.rpc_attempts = 3;
  flags.tls_ca = "ca.pem";
  EXPECT_FALSE(ChannelOptionsFromFlags(flags).ok());  // insecure and a CA
}

// waitForReady (service config): a unary call made while the server is
// still down waits for it instead of failing.
TEST(FederationClientLateServerTest, GetSpecWaitsForAServerThatStartsLate) {
  // Find a free port, then leave it free until the server starts.
  int port = 0;
  {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    FakeFederation unused;
    builder.RegisterService(&unused);
    builder.BuildAndStart()->Shutdown();
  }
  ASSERT_GT(port, 0);
  FakeFederation service;
  std::unique_ptr<grpc::Server> server;
  std::thread starter([&] {
    absl::SleepFor(absl::Milliseconds(700));
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureServerCredentials());
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  });
  FederationClientOptions options;
  options.rpc_timeout = absl::Seconds(20);
  FederationClient client(
      *MakeChannel(FastRetryChannel(absl::StrCat("127.0.0.1:", port))),
      options);
  absl::StatusOr<SpecResult> spec = client.GetSpec("client-1");
  starter.join();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(service.get_spec_calls_, 1);
  server->Shutdown();
}

TEST_F(FederationClientTest, UploadStreamsChunksWithDigest) {
  const v1::ModelWeights weights = BigModel();
  v1::LocalDiagnostics diagnostics;
  diagnostics.set_alpha(0.1);
  absl::StatusOr<UploadResult> result = client_->UploadModel(
      weights, "client-1", std::string(64, 'a'), 3, diagnostics);
  ASSERT_TRUE(result.ok()) << result.status();
  std::string expected;
  weights.SerializeToString(&expected);
  absl::MutexLock lock(&service_.mutex_);
  EXPECT_EQ(service_.payload_, expected);
  EXPECT_EQ(service_.header_.client_id(), "client-1");
  EXPECT_EQ(service_.header_.round(), 3);
  EXPECT_EQ(service_.header_.total_bytes(),
            static_cast<int64_t>(expected.size()));
  EXPECT_EQ(service_.header_.payload_sha256(), Sha256Hex(expected));
  EXPECT_DOUBLE_EQ(service_.header_.diagnostics().alpha(), 0.1);
  ASSERT_GE(service_.chunk_sizes_.size(), 3u);
  for (int64_t size : service_.chunk_sizes_) EXPECT_LE(size, 1 << 20);
  EXPECT_EQ(result->payload_bytes, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(result->chunks, static_cast<int64_t>(service_.chunk_sizes_.size()));
}

TEST_F(FederationClientTest, UploadWithoutDiagnosticsSendsNone) {
  absl::StatusOr<UploadResult> result = client_->UploadModel(
      BigModel(), "client-1", std::string(64, 'a'), 3, std::nullopt);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(service_.header_.round(), 3);
  EXPECT_FALSE(service_.header_.has_diagnostics());
}

TEST_F(FederationClientTest, UploadWhoseAnswerWasLostIsDoneOnReplay) {
  service_.lost_upload_answers_ = 1;
  const v1::ModelWeights weights = BigModel();
  absl::StatusOr<UploadResult> result = client_->UploadModel(
      weights, "client-1", std::string(64, 'a'), 3, v1::LocalDiagnostics());
  ASSERT_TRUE(result.ok()) << result.status();
  std::string expected;
  weights.SerializeToString(&expected);
  EXPECT_EQ(sleeps_, 1);
  EXPECT_EQ(result->response.received_bytes(),
            static_cast<int64_t>(expected.size()));
  EXPECT_EQ(result->response.payload_sha256(), Sha256Hex(expected));
}

TEST_F(FederationClientTest, AlreadyExistsOnTheFirstAttemptIsAnError) {
  const v1::ModelWeights weights = BigModel();
  std::string bytes;
  weights.SerializeToString(&bytes);
  service_.stored_sha256_ = Sha256Hex(bytes);
  absl::StatusOr<UploadResult> result = client_->UploadModel(
      weights, "client-1", std::string(64, 'a'), 3, v1::LocalDiagnostics());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(FederationClientTest, DownloadReassemblesAndVerifies) {
  absl::StatusOr<DownloadResult> result = client_->DownloadGlobalModel(0);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 3);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      result->weights, BigModel()));
}

TEST_F(FederationClientTest, DownloadRefusesCorruptedPayload) {
  service_.corrupt_download_ = true;
  absl::StatusOr<DownloadResult> result = client_->DownloadGlobalModel(2);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss)
      << result.status();
}

TEST_F(FederationClientTest, WaitForVersionSkipsVersionsWithoutThisClient) {
  absl::StatusOr<v1::GlobalModelAnnouncement> announcement =
      client_->WaitForVersion(0, absl::Now() + absl::Seconds(20),
                              [](const v1::GlobalModelAnnouncement& a) {
                                for (const std::string& id : a.client_ids()) {
                                  if (id == "client-1") return true;
                                }
                                return false;
                              });
  ASSERT_TRUE(announcement.ok()) << announcement.status();
  EXPECT_EQ(announcement->version(), 2);
}

TEST_F(FederationClientTest, WaitForVersionResubscribesAfterAServerCancel) {
  service_.cancelled_watches_ = 2;
  absl::StatusOr<v1::GlobalModelAnnouncement> announcement =
      client_->WaitForVersion(0, absl::Now() + absl::Seconds(20));
  ASSERT_TRUE(announcement.ok()) << announcement.status();
  EXPECT_EQ(announcement->version(), 1);
  EXPECT_EQ(sleeps_, 2);
}

TEST_F(FederationClientTest, WaitForVersionLogsEachBrokenStream) {
  CapturingLogSink sink({"event=watch_stream_ended"});
  service_.cancelled_watches_ = 2;
  ASSERT_TRUE(client_->WaitForVersion(0, absl::Now() + absl::Seconds(20)).ok());
  const std::vector<std::string> lines = sink.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("code=CANCELLED"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("will_retry=true"), std::string::npos) << lines[0];
}

TEST(PermanentTlsFailureTest, NamesTheCauseOfGrpcsHandshakeErrors) {
  EXPECT_NE(PermanentTlsFailure(
                "failed to connect to all addresses; last error: UNKNOWN: "
                "ipv4:127.0.0.1:5: Ssl handshake failed: SSL_ERROR_SSL: "
                "error:1000007d:SSL routines:OPENSSL_internal:"
                "CERTIFICATE_VERIFY_FAILED")
                .find("--tls_ca"),
            std::string::npos);
  // What gRPC 1.51 with Debian's OpenSSL 3 says for a server certificate
  // of another CA.
  EXPECT_NE(PermanentTlsFailure(
                "failed to connect to all addresses; last error: UNKNOWN: "
                "ipv4:127.0.0.1:37225: Ssl handshake failed: SSL_ERROR_SSL: "
                "error:0A000086:SSL routines::certificate verify failed")
                .find("not signed by the CA of --tls_ca"),
            std::string::npos);
  // A client certificate the server refuses shows only as a closed socket,
  // which a restarting server also gives: it stays transient.
  EXPECT_EQ(PermanentTlsFailure("failed to connect to all addresses; last "
                                "error: UNAVAILABLE: ipv4:127.0.0.1:5: Socket "
                                "closed"),
            "");
  EXPECT_NE(PermanentTlsFailure("Peer name example.org is not in peer "
                                "certificate")
                .find("--tls_server_name"),
            std::string::npos);
  EXPECT_EQ(PermanentTlsFailure("failed to connect to all addresses; last "
                                "error: UNAVAILABLE: ipv4:127.0.0.1:1: "
                                "Connection refused"),
            "");
}

TEST_F(FederationClientTest, WaitForVersionTimesOut) {
  absl::StatusOr<v1::GlobalModelAnnouncement> announcement =
      client_->WaitForVersion(3, absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(announcement.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(FederationClientUnreachableTest, UnaryCallWaitsUntilItsDeadline) {
  FederationClientOptions options;
  options.rpc_timeout = absl::Milliseconds(500);
  // Port 1 on loopback: nothing listens there.
  FederationClient client(*MakeChannel(FastRetryChannel("127.0.0.1:1")),
                          options);
  const absl::Time start = absl::Now();
  absl::StatusOr<SpecResult> spec = client.GetSpec("client-0");
  // Waited for the connection (waitForReady) rather than failing at once,
  // and reported as retryable: nothing reached a server.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(400));
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kUnavailable)
      << spec.status();
}

TEST(FederationClientUnreachableTest,
     UploadConnectFailureIsRetriedThenUnavailable) {
  FederationClientOptions options;
  options.retry.max_attempts = 3;
  options.connect_timeout = absl::Milliseconds(200);
  int sleeps = 0;
  options.sleep = [&](absl::Duration) { ++sleeps; };
  FederationClient client(*MakeChannel(FastRetryChannel("127.0.0.1:1")),
                          options);
  absl::StatusOr<UploadResult> upload = client.UploadModel(
      BigModel(), "client-0", std::string(64, 'a'), 1, v1::LocalDiagnostics());
  EXPECT_EQ(upload.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sleeps, 2);
}

}  // namespace
}  // namespace epgfn
