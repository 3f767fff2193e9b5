// The client daemon's steps against an in-process Federation service on a
// loopback port: a real FederationClient, real local training (a 4x4
// hypergrid, 5 iterations) and real files under the state directory. The
// service is scripted rather than the aggregation server because the cases
// that matter here are the ones a correct server never produces: a stream
// of another version, bytes that are not the announced ones.
#include "client/core/client_daemon.h"

#include <glog/logging.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/server.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client/core/global_model_check.h"
#include "client/core/test_loopback.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/policy/policy_net.h"
#include "common/spec/spec_conversion.h"
#include "common/util/sha256.h"

namespace epgfn {
namespace {

constexpr char kSpec[] = R"pb(
  name: "daemon-test"
  environment {
    kind: "hypergrid"
    params { key: "dim" value: "2" }
    params { key: "side" value: "4" }
  }
  local_architecture { hidden_width: 16 hidden_layers: 1 }
  global_architecture { hidden_width: 16 hidden_layers: 1 }
  client_ids: [ "client-0", "client-1" ]
  local_training { iterations: 5 batch_size: 16 seed: 3 }
)pb";

v1::FederationSpec TestSpec() {
  v1::FederationSpec spec;
  CHECK(google::protobuf::TextFormat::ParseFromString(kSpec, &spec));
  return spec;
}

// A Federation service that stores the last upload, announces version 1
// aggregating it and serves the uploaded bytes as that global model; the
// public fields script how it misbehaves.
class ScriptedFederation final : public v1::Federation::Service {
 public:
  grpc::Status GetSpec(grpc::ServerContext*, const v1::GetSpecRequest*,
                       v1::GetSpecResponse* response) override {
    absl::MutexLock lock(&mutex_);
    *response->mutable_spec() = spec_;
    response->set_spec_digest(FederationSpecDigest(spec_));
    response->set_accepted_round(accepted_round_);
    return grpc::Status::OK;
  }

  grpc::Status UploadModel(grpc::ServerContext*,
                           grpc::ServerReader<v1::UploadChunk>* reader,
                           v1::UploadResponse* response) override {
    std::optional<ReceivedUpload> upload = ReadUpload(*reader);
    if (!upload.has_value()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no header");
    }
    if (refuse_uploads) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "not now");
    }
    absl::MutexLock lock(&mutex_);
    ++uploads_;
    accepted_round_ = upload->header.round();
    base_round_ = upload->header.base_round();
    uploader_ = upload->header.client_id();
    diagnostics_ = upload->header.diagnostics();
    payload_ = upload->payload;
    AcknowledgeUpload(*upload, *response);
    return grpc::Status::OK;
  }

  grpc::Status WatchGlobalModel(
      grpc::ServerContext*, const v1::WatchRequest*,
      grpc::ServerWriter<v1::GlobalModelAnnouncement>* writer) override {
    absl::MutexLock lock(&mutex_);
    if (payload_.empty()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "nothing yet");
    }
    v1::GlobalModelAnnouncement announcement;
    announcement.set_version(1);
    announcement.add_client_ids(uploader_);
    announcement.set_payload_bytes(static_cast<int64_t>(payload_.size()));
    announcement.set_payload_sha256(announce_other_digest
                                        ? Sha256Hex(payload_ + "x")
                                        : Sha256Hex(payload_));
    writer->Write(announcement);
    return grpc::Status::OK;
  }

  grpc::Status DownloadGlobalModel(
      grpc::ServerContext*, const v1::DownloadRequest* request,
      grpc::ServerWriter<v1::DownloadChunk>* writer) override {
    absl::MutexLock lock(&mutex_);
    v1::DownloadChunk chunk;
    const int64_t version = served_version.load();
    chunk.mutable_header()->set_version(version != 0 ? version
                                                     : request->version());
    chunk.mutable_header()->set_total_bytes(
        static_cast<int64_t>(payload_.size()));
    chunk.mutable_header()->set_payload_sha256(Sha256Hex(payload_));
    writer->Write(chunk);
    chunk.set_data(payload_);
    writer->Write(chunk);
    return grpc::Status::OK;
  }

  int uploads() {
    absl::MutexLock lock(&mutex_);
    return uploads_;
  }
  // Round and base round of the last upload.
  std::pair<int64_t, int64_t> last_rounds() {
    absl::MutexLock lock(&mutex_);
    return {accepted_round_, base_round_};
  }
  std::string payload() {
    absl::MutexLock lock(&mutex_);
    return payload_;
  }
  v1::LocalDiagnostics diagnostics() {
    absl::MutexLock lock(&mutex_);
    return diagnostics_;
  }

  std::atomic<bool> refuse_uploads{false};
  std::atomic<bool> announce_other_digest{false};
  std::atomic<int64_t> served_version{0};  // 0: the one asked for

 private:
  absl::Mutex mutex_;
  const v1::FederationSpec spec_ = TestSpec();
  int64_t accepted_round_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t base_round_ ABSL_GUARDED_BY(mutex_) = 0;
  int uploads_ ABSL_GUARDED_BY(mutex_) = 0;
  std::string uploader_ ABSL_GUARDED_BY(mutex_);
  std::string payload_ ABSL_GUARDED_BY(mutex_);
  v1::LocalDiagnostics diagnostics_ ABSL_GUARDED_BY(mutex_);
};

// The log lines that only local training writes.
std::vector<std::string> TrainingNeedles() {
  return {"event=training_progress", "event=local_model_trained"};
}

std::string ReadAll(std::FILE* file) {
  std::rewind(file);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) {
    text.append(buffer, n);
  }
  return text;
}

class ClientDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LoopbackServer loopback = StartLoopbackServer(service_);
    server_ = std::move(loopback.server);
    ASSERT_NE(server_, nullptr);
    address_ = loopback.address;
    const char* root = std::getenv("TEST_TMPDIR");
    state_dir_ = absl::StrCat(
        root != nullptr ? root : "/tmp", "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(state_dir_);
    out_ = std::tmpfile();
    ASSERT_NE(out_, nullptr);
  }

  void TearDown() override {
    server_->Shutdown();
    std::fclose(out_);
  }

  ClientDaemonOptions Options() const {
    ClientDaemonOptions options;
    options.client_id = "client-1";
    options.state_dir = state_dir_;
    options.reward = "client:index=1,count=2";
    options.diagnostics_trajectories = 64;
    options.fcs_samples = 256;
    options.wait_timeout = absl::Seconds(20);
    options.progress_period = absl::ZeroDuration();
    options.channel.server = address_;
    options.channel.insecure = true;
    options.channel.rpc_attempts = 3;
    options.connect_timeout = absl::Seconds(5);
    options.sleep = [](absl::Duration) {};
    options.out = out_;
    return options;
  }

  // One daemon's life: created (locking the state directory), run, gone.
  absl::StatusOr<ClientRunResult> RunDaemon(
      const std::string& update_reward = "", int64_t rollback_to_round = 0) {
    ClientDaemonOptions options = Options();
    options.update_reward = update_reward;
    options.rollback_to_round = rollback_to_round;
    absl::StatusOr<std::unique_ptr<ClientDaemon>> daemon =
        ClientDaemon::Create(std::move(options));
    if (!daemon.ok()) return daemon.status();
    return (*daemon)->Run();
  }

  bool HasGlobalModel() const {
    return std::filesystem::exists(GlobalModelPath(state_dir_, 1));
  }

  ScriptedFederation service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::string state_dir_;
  std::FILE* out_ = nullptr;
};

TEST_F(ClientDaemonTest, TrainsUploadsAndKeepsTheVerifiedGlobalModel) {
  CapturingLogSink training(TrainingNeedles());
  absl::StatusOr<ClientRunResult> result = RunDaemon();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(training.lines().empty());
  EXPECT_FALSE(result->reused);
  EXPECT_FALSE(result->upload_skipped);
  EXPECT_EQ(result->round, 1);
  EXPECT_EQ(service_.uploads(), 1);
  EXPECT_EQ(result->upload_bytes,
            static_cast<int64_t>(service_.payload().size()));
  // The FCS against the private reward travels with (alpha, beta).
  const v1::LocalDiagnostics diagnostics = service_.diagnostics();
  EXPECT_EQ(diagnostics.num_trajectories(), 64);
  ASSERT_TRUE(diagnostics.has_fcs());
  EXPECT_TRUE(std::isfinite(diagnostics.fcs()));
  EXPECT_GE(diagnostics.fcs(), 0.0);
  EXPECT_LE(diagnostics.fcs(), 1.0);
  EXPECT_EQ(result->version, 1);
  EXPECT_EQ(result->global_model_path, GlobalModelPath(state_dir_, 1));
  // The file holds exactly the served model.
  absl::StatusOr<v1::ModelWeights> kept =
      ReadModelFile(result->global_model_path);
  ASSERT_TRUE(kept.ok()) << kept.status();
  v1::ModelWeights served;
  ASSERT_TRUE(served.ParseFromString(service_.payload()));
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*kept, served));
  const std::string out = ReadAll(out_);
  EXPECT_TRUE(absl::StartsWith(out,
                               "SUMMARY client=client-1 round=1 "
                               "reused=0 "))
      << out;
  EXPECT_TRUE(absl::StrContains(
      out, absl::StrCat(" version=1 download_bytes=", service_.payload().size(),
                        " ")))
      << out;
  EXPECT_TRUE(absl::EndsWith(
      out, absl::StrCat(" model=", result->global_model_path, "\n")))
      << out;
  // The FCS the upload carried, as the summary prints it.
  ASSERT_TRUE(result->fcs.has_value());
  EXPECT_EQ(*result->fcs, diagnostics.fcs());
  EXPECT_TRUE(absl::StrContains(
      out, absl::StrFormat(" fcs=%.3g model=", diagnostics.fcs())))
      << out;
}

TEST_F(ClientDaemonTest, RestartAfterAFailedUploadResumesWithoutRetraining) {
  service_.refuse_uploads = true;
  ASSERT_EQ(RunDaemon().status().code(), absl::StatusCode::kFailedPrecondition);
  const std::filesystem::path local_model = LocalModelPath(state_dir_);
  ASSERT_TRUE(std::filesystem::exists(local_model));
  const auto trained_at = std::filesystem::last_write_time(local_model);

  service_.refuse_uploads = false;
  CapturingLogSink training(TrainingNeedles());
  absl::StatusOr<ClientRunResult> result = RunDaemon();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->reused);
  EXPECT_TRUE(training.lines().empty());
  EXPECT_EQ(std::filesystem::last_write_time(local_model), trained_at);
  EXPECT_EQ(result->training_seconds, 0.0);
  EXPECT_EQ(result->round, 1);
  EXPECT_EQ(service_.uploads(), 1);
  EXPECT_TRUE(HasGlobalModel());
}

TEST_F(ClientDaemonTest, RoundTheServerAlreadyHoldsIsNotUploadedAgain) {
  ASSERT_TRUE(RunDaemon().ok());
  ASSERT_EQ(service_.uploads(), 1);
  std::filesystem::remove(GlobalModelPath(state_dir_, 1));

  absl::StatusOr<ClientRunResult> restarted = RunDaemon();
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_TRUE(restarted->reused);
  EXPECT_TRUE(restarted->upload_skipped);
  EXPECT_EQ(restarted->upload_bytes, 0);
  EXPECT_EQ(service_.uploads(), 1);
  // It still waits for and keeps the global model.
  EXPECT_EQ(restarted->version, 1);
  EXPECT_TRUE(HasGlobalModel());
}

TEST_F(ClientDaemonTest, StreamingUpdateIsUploadedWithItsBaseRound) {
  ASSERT_TRUE(RunDaemon().ok());
  absl::StatusOr<ClientRunResult> update = RunDaemon("client:index=0,count=2");
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_FALSE(update->reused);
  EXPECT_EQ(update->round, 2);
  EXPECT_EQ(service_.uploads(), 2);
  EXPECT_EQ(service_.last_rounds(), std::make_pair(int64_t{2}, int64_t{1}));

  // Rolled back to round 1: uploaded as round 3, a replacement (base 0).
  absl::StatusOr<ClientRunResult> rolled = RunDaemon("", 1);
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->round, 3);
  EXPECT_EQ(service_.last_rounds(), std::make_pair(int64_t{3}, int64_t{0}));
  // Both at once is refused before anything runs.
  EXPECT_EQ(RunDaemon("client:index=0,count=2", 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AnnouncementIncludesTest, AnsweredByTheClientsRoundWhenAnnounced) {
  v1::GlobalModelAnnouncement announcement;
  announcement.add_client_ids("client-0");
  announcement.add_client_ids("client-1");
  EXPECT_TRUE(AnnouncementIncludes(announcement, "client-1", 2));  // no rounds
  announcement.add_client_rounds(3);
  announcement.add_client_rounds(1);
  EXPECT_FALSE(AnnouncementIncludes(announcement, "client-1", 2));
  EXPECT_TRUE(AnnouncementIncludes(announcement, "client-1", 1));
  EXPECT_TRUE(AnnouncementIncludes(announcement, "client-0", 2));
  EXPECT_FALSE(AnnouncementIncludes(announcement, "client-2", 1));
}

TEST_F(ClientDaemonTest, DownloadOfAnotherVersionIsRefused) {
  service_.served_version = 2;
  absl::StatusOr<ClientRunResult> result = RunDaemon();
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(absl::StrContains(result.status().message(),
                                "asked for version 1, the server sent 2"))
      << result.status();
  EXPECT_FALSE(HasGlobalModel());
}

TEST_F(ClientDaemonTest, DownloadWhoseDigestIsNotTheAnnouncedOneIsRefused) {
  service_.announce_other_digest = true;
  absl::StatusOr<ClientRunResult> result = RunDaemon();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss)
      << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "digest differs"))
      << result.status();
  EXPECT_FALSE(HasGlobalModel());
}

TEST_F(ClientDaemonTest, SecondDaemonOnOneStateDirectoryIsRefused) {
  absl::StatusOr<std::unique_ptr<ClientDaemon>> first =
      ClientDaemon::Create(Options());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<ClientDaemon>> second =
      ClientDaemon::Create(Options());
  EXPECT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use"))
      << second.status();
}

TEST_F(ClientDaemonTest, CheckConfigReportsWithoutTrainingOrWriting) {
  ClientDaemonOptions options = Options();
  options.check_config = true;
  CapturingLogSink training(TrainingNeedles());
  ASSERT_TRUE(RunClientDaemon(options).ok());
  EXPECT_TRUE(absl::StrContains(ReadAll(out_), "configuration OK"));
  EXPECT_TRUE(training.lines().empty());
  EXPECT_EQ(service_.uploads(), 0);
  EXPECT_FALSE(std::filesystem::exists(state_dir_));

  options.client_id = "client-9";
  const absl::Status refused = RunClientDaemon(options);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.message(), "not a member")) << refused;
}

TEST_F(ClientDaemonTest, CreateNamesTheMissingOptions) {
  ClientDaemonOptions options = Options();
  options.reward.clear();
  EXPECT_EQ(ClientDaemon::Create(options).status().message(),
            "--client_id, --state_dir and --reward are required");
}

// The verification step on its own: each check refuses what it should.
class VerifyGlobalModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::unique_ptr<Environment> environment =
        *MakeEnvironment(EnvironmentConfigFromProto(spec_.environment()));
    // An untrained policy of the spec's architecture is a valid model.
    PolicyNet policy = *MakePolicy(
        *environment, *ArchitectureFromProto(spec_.global_architecture()),
        /*seed=*/1, torch::kCPU);
    download_.weights = ExportModel(*environment, policy);
    download_.version = 3;
    download_.payload_sha256 = std::string(64, 'a');
    announcement_.set_version(3);
    announcement_.set_payload_sha256(download_.payload_sha256);
  }

  const v1::FederationSpec spec_ = TestSpec();
  DownloadResult download_;
  v1::GlobalModelAnnouncement announcement_;
};

TEST_F(VerifyGlobalModelTest, AcceptsTheAnnouncedModel) {
  EXPECT_TRUE(VerifyGlobalModel(announcement_, download_, spec_).ok());
  announcement_.clear_payload_sha256();  // nothing quoted: nothing compared
  EXPECT_TRUE(VerifyGlobalModel(announcement_, download_, spec_).ok());
}

TEST_F(VerifyGlobalModelTest, RefusesAnotherVersion) {
  download_.version = 2;
  EXPECT_EQ(VerifyGlobalModel(announcement_, download_, spec_).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(VerifyGlobalModelTest, RefusesOtherBytes) {
  download_.payload_sha256[0] = 'b';
  EXPECT_EQ(VerifyGlobalModel(announcement_, download_, spec_).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(VerifyGlobalModelTest, RefusesAModelOfAnotherStateGraph) {
  v1::FederationSpec bigger = spec_;
  (*bigger.mutable_environment()->mutable_params())["side"] = "5";
  EXPECT_FALSE(VerifyGlobalModel(announcement_, download_, bigger).ok());
}

}  // namespace
}  // namespace epgfn
