// One test per bad upload (issue #6, "Validation of everything a client
// sends"), each over real gRPC on loopback. Each asserts the status code,
// that the state directory and the accepted rounds are exactly as before,
// and that GetStatus counts the refusal under its reason (and nothing else).
//
// The fixture's store is not empty: client-0 already holds round 1, and most
// bad uploads claim client-0's round 2, so a check that let one through
// would replace an accepted model and show in the file snapshot.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "proto/model.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

constexpr int kClients = 3;
constexpr int64_t kMaxUploadBytes = 1 << 20;

using Chunks = std::vector<v1::UploadChunk>;

class UploadValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_support::SmallHypergridConfig(kClients);
    state_dir_ = test_support::FreshDirectory("validation");
    core_ = *ServerCore::Create(
        config_, *ServerCore::Options::Create(state_dir_, torch::kCPU, 100));
    RpcServerOptions options =
        test_support::InsecureLoopbackOptions(kMaxUploadBytes);
    auto server = RpcServer::Start(core_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    stub_ = v1::Federation::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));

    payload_ = test_support::LocalModelPayload(*config_, 0, kClients, 0);
    ASSERT_LT(payload_.size(), static_cast<size_t>(kMaxUploadBytes));
    auto accepted = Upload("client-0", 1, payload_);
    ASSERT_TRUE(accepted.status.ok()) << accepted.status.error_message();
    before_ = Snapshot();
    // uploads/client-0.r1.model and .meta, and the probe secret.
    ASSERT_EQ(before_.size(), 3u);
  }

  void TearDown() override {
    server_->Shutdown(absl::Seconds(2));
    server_.reset();
    core_.reset();
  }

  test_support::UploadOutcome Upload(
      const std::string& client_id, int64_t round, const std::string& payload,
      const std::function<void(Chunks&)>& tamper = nullptr,
      const std::string& spec_digest = "") {
    return test_support::Upload(
        *stub_, client_id,
        spec_digest.empty() ? config_->spec_digest : spec_digest, round,
        payload, tamper);
  }

  // A valid model whose ModelWeights `edit` then spoils.
  std::string EditedModel(const std::function<void(v1::ModelWeights&)>& edit) {
    v1::ModelWeights weights;
    EXPECT_TRUE(weights.ParseFromString(payload_));
    edit(weights);
    return weights.SerializeAsString();
  }

  // The index of a tensor with a 2-D shape of unequal sides.
  static int MatrixIndex(const v1::ModelWeights& weights) {
    for (int i = 0; i < weights.tensors_size(); ++i) {
      const auto& shape = weights.tensors(i).shape();
      if (shape.size() == 2 && shape[0] != shape[1]) return i;
    }
    ADD_FAILURE() << "no rectangular tensor";
    return 0;
  }

  // Every file under the state directory with the SHA-256 of its bytes.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> files;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(state_dir_)) {
      if (!entry.is_regular_file()) continue;
      // The state directory's lock holds the server's PID, not state.
      if (entry.path() == state_dir_ + "/LOCK") continue;
      auto bytes = ReadFileToString(entry.path().string(), int64_t{1} << 30);
      files[entry.path().string()] =
          bytes.ok() ? Sha256Hex(*bytes) : bytes.status().ToString();
    }
    return files;
  }

  v1::GetStatusResponse Status() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    test_support::AddAdminToken(context);
    v1::GetStatusResponse response;
    EXPECT_TRUE(stub_->GetStatus(&context, {}, &response).ok());
    return response;
  }

  // The store is as SetUp left it and `reason` was counted once.
  void ExpectStoreUnchangedAndCounted(const std::string& reason) {
    EXPECT_EQ(Snapshot(), before_);
    v1::GetStatusResponse status = Status();
    ASSERT_EQ(status.clients_size(), kClients);
    EXPECT_EQ(status.clients(0).accepted_round(), before_round_);
    EXPECT_EQ(status.clients(1).accepted_round(), 0);
    EXPECT_EQ(status.clients(2).accepted_round(), 0);
    EXPECT_EQ(status.current_version(), 0);
    std::map<std::string, int64_t> refused(status.refused_uploads().begin(),
                                           status.refused_uploads().end());
    EXPECT_EQ(refused, (std::map<std::string, int64_t>{{reason, 1}}));
  }

  void ExpectRefused(const test_support::UploadOutcome& outcome,
                     grpc::StatusCode code, const std::string& reason) {
    EXPECT_EQ(outcome.status.error_code(), code)
        << outcome.status.error_message();
    EXPECT_FALSE(outcome.status.error_message().empty());
    ExpectStoreUnchangedAndCounted(reason);
  }

  std::shared_ptr<const FederationConfig> config_;
  std::string state_dir_;
  std::unique_ptr<ServerCore> core_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<v1::Federation::Stub> stub_;
  std::string payload_;
  std::map<std::string, std::string> before_;
  int64_t before_round_ = 1;
};

// --- The transfer (checked in the RPC layer) ---

TEST_F(UploadValidationTest, AnnouncedSizeOverTheCap) {
  ExpectRefused(
      Upload("client-0", 2, payload_,
             [](Chunks& chunks) {
               chunks[0].mutable_header()->set_total_bytes(kMaxUploadBytes + 1);
               chunks.resize(1);
             }),
      grpc::StatusCode::INVALID_ARGUMENT, "transfer_error");
}

TEST_F(UploadValidationTest, MoreBytesThanAnnounced) {
  ExpectRefused(
      Upload("client-0", 2, payload_,
             [](Chunks& chunks) { chunks.emplace_back().set_data("extra"); }),
      grpc::StatusCode::INVALID_ARGUMENT, "transfer_error");
}

TEST_F(UploadValidationTest, DataBeforeTheHeader) {
  ExpectRefused(Upload("client-0", 2, payload_,
                       [](Chunks& chunks) { std::swap(chunks[0], chunks[1]); }),
                grpc::StatusCode::INVALID_ARGUMENT, "transfer_error");
}

TEST_F(UploadValidationTest, SecondHeader) {
  ExpectRefused(Upload("client-0", 2, payload_,
                       [](Chunks& chunks) { chunks.push_back(chunks[0]); }),
                grpc::StatusCode::INVALID_ARGUMENT, "transfer_error");
}

TEST_F(UploadValidationTest, PayloadDigestMismatch) {
  ExpectRefused(
      Upload("client-0", 2, payload_,
             [](Chunks& chunks) { (*chunks[1].mutable_data())[10] ^= 0x55; }),
      grpc::StatusCode::DATA_LOSS, "transfer_error");
}

TEST_F(UploadValidationTest, StreamEndsEarly) {
  ExpectRefused(Upload("client-0", 2, payload_,
                       [](Chunks& chunks) {
                         std::string& data = *chunks.back().mutable_data();
                         data.resize(data.size() / 2);
                       }),
                grpc::StatusCode::DATA_LOSS, "transfer_error");
}

TEST_F(UploadValidationTest, ClientDisconnectsMidUpload) {
  // Header and half the bytes, then the client cancels the call.
  v1::UploadChunk header;
  header.mutable_header()->set_client_id("client-0");
  header.mutable_header()->set_spec_digest(config_->spec_digest);
  header.mutable_header()->set_round(2);
  header.mutable_header()->set_total_bytes(payload_.size());
  header.mutable_header()->set_payload_sha256(Sha256Hex(payload_));
  v1::UploadChunk half;
  half.set_data(payload_.substr(0, payload_.size() / 2));
  grpc::ClientContext context;
  v1::UploadResponse response;
  auto writer = stub_->UploadModel(&context, &response);
  ASSERT_TRUE(writer->Write(header));
  ASSERT_TRUE(writer->Write(half));
  // Give the handler time to start reading; the count below is what the
  // test asserts, and it is polled rather than timed.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  context.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);

  for (int i = 0; i < 200; ++i) {
    if (Status().refused_uploads().count("transfer_error") > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ExpectStoreUnchangedAndCounted("transfer_error");
}

// --- The header (checked before any byte is stored) ---

TEST_F(UploadValidationTest, OtherSpecDigest) {
  ExpectRefused(Upload("client-0", 2, payload_, nullptr, std::string(64, '0')),
                grpc::StatusCode::FAILED_PRECONDITION, "digest_mismatch");
}

TEST_F(UploadValidationTest, ClientNotInTheFederation) {
  ExpectRefused(Upload("mallory", 1, payload_),
                grpc::StatusCode::PERMISSION_DENIED, "unknown_client");
}

TEST_F(UploadValidationTest, OlderRound) {
  // client-0 moves to round 2 first; round 1 is then older.
  const std::string newer =
      test_support::LocalModelPayload(*config_, 1, kClients, 0);
  ASSERT_TRUE(Upload("client-0", 2, newer).status.ok());
  before_ = Snapshot();
  before_round_ = 2;
  ExpectRefused(Upload("client-0", 1, payload_),
                grpc::StatusCode::FAILED_PRECONDITION, "stale_round");
}

TEST_F(UploadValidationTest, SameRoundOtherBytes) {
  ExpectRefused(
      Upload("client-0", 1,
             test_support::LocalModelPayload(*config_, 1, kClients, 0)),
      grpc::StatusCode::FAILED_PRECONDITION, "stale_round");
}

TEST_F(UploadValidationTest, ReplayOfTheAcceptedUpload) {
  // Recognised rather than stored again (clients treat ALREADY_EXISTS as
  // "already accepted"); no aggregation is triggered.
  ExpectRefused(Upload("client-0", 1, payload_),
                grpc::StatusCode::ALREADY_EXISTS, "replay");
  EXPECT_EQ(Status().aggregation().iteration(), 0);
}

// --- The model (decoded and checked by the core) ---

TEST_F(UploadValidationTest, NotAModel) {
  ExpectRefused(Upload("client-0", 2, "junk bytes, not a ModelWeights"),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, OtherDeclaredArchitecture) {
  v1::FederationSpec other = test_support::SmallHypergridSpec(kClients);
  other.mutable_local_architecture()->set_hidden_width(16);
  auto other_config = *FederationConfigFromSpec(other);
  ExpectRefused(
      Upload("client-0", 2,
             test_support::LocalModelPayload(*other_config, 0, kClients, 0)),
      grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, ArchitectureFieldDisagreesWithTensors) {
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         w.mutable_architecture()->set_hidden_width(32);
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, OtherEnvironment) {
  v1::FederationSpec other = test_support::SmallHypergridSpec(kClients);
  (*other.mutable_environment()->mutable_params())["side"] = "5";
  auto other_config = *FederationConfigFromSpec(other);
  ExpectRefused(
      Upload("client-0", 2,
             test_support::LocalModelPayload(*other_config, 0, kClients, 0)),
      grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, UnknownTensorName) {
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         w.mutable_tensors(0)->set_name("torso.99.weight");
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, MissingTensor) {
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         w.mutable_tensors()->RemoveLast();
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, DuplicateTensor) {
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         *w.add_tensors() = w.tensors(0);
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, WrongTensorShape) {
  // Transposed: the same number of elements, so only the shape is wrong.
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         auto* shape =
                             w.mutable_tensors(MatrixIndex(w))->mutable_shape();
                         std::swap((*shape)[0], (*shape)[1]);
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, WrongTensorDtype) {
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         w.mutable_tensors(0)->set_dtype(v1::DTYPE_UNSPECIFIED);
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, RawDataLengthDisagreesWithShape) {
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         w.mutable_tensors(0)->mutable_data()->append(4, '\0');
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, NaNWeight) {
  ExpectRefused(
      Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
               const float nan = std::numeric_limits<float>::quiet_NaN();
               std::memcpy(w.mutable_tensors(0)->mutable_data()->data(), &nan,
                           sizeof(nan));
             })),
      grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, InfWeight) {
  ExpectRefused(
      Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
               const float inf = -std::numeric_limits<float>::infinity();
               std::string& data = *w.mutable_tensors(0)->mutable_data();
               std::memcpy(data.data() + data.size() - sizeof(inf), &inf,
                           sizeof(inf));
             })),
      grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

TEST_F(UploadValidationTest, NonFiniteOutputsOnProbeStates) {
  // Every weight finite but huge: the forward outputs overflow.
  ExpectRefused(Upload("client-0", 2, EditedModel([](v1::ModelWeights& w) {
                         const float huge = 3e38f;
                         for (v1::TensorData& tensor : *w.mutable_tensors()) {
                           std::string& bytes = *tensor.mutable_data();
                           for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
                             std::memcpy(bytes.data() + i, &huge, 4);
                           }
                         }
                       })),
                grpc::StatusCode::INVALID_ARGUMENT, "non_finite_outputs");
}

TEST_F(UploadValidationTest, NonFiniteDiagnostics) {
  ExpectRefused(
      Upload("client-0", 2, payload_,
             [](Chunks& chunks) {
               chunks[0].mutable_header()->mutable_diagnostics()->set_beta(
                   std::nan(""));
             }),
      grpc::StatusCode::INVALID_ARGUMENT, "invalid_model");
}

}  // namespace
}  // namespace epgfn
