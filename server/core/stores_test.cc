// Upload validation and persistence, and the published-version store.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "common/model/model_codec.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/model_probe.h"
#include "server/core/model_store.h"
#include "server/core/upload_store.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::string FileSha(const std::string& path) {
  auto bytes = ReadFileToString(path, int64_t{1} << 30);
  return bytes.ok() ? Sha256Hex(*bytes) : "missing";
}

class UploadStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_support::SmallHypergridConfig(3);
    state_dir_ = test_support::FreshDirectory("uploads");
    store_ = *UploadStore::Create(config_, state_dir_);
    payload_ = test_support::LocalModelPayload(*config_, 0, 3, 0);
  }

  UploadRequest Request(const std::string& client_id, int64_t round,
                        std::string payload) {
    UploadRequest request;
    request.client_id = client_id;
    request.spec_digest = config_->spec_digest;
    request.round = round;
    request.payload = std::move(payload);
    request.diagnostics = LocalDiagnostics{0.1, 0.2, 1.5, 128};
    return request;
  }

  // The names of the staging files in the upload directory.
  std::vector<std::string> StagingFiles() const {
    std::vector<std::string> names;
    for (const auto& entry :
         std::filesystem::directory_iterator(state_dir_ + "/uploads")) {
      const std::string name = entry.path().filename().string();
      if (name.size() > 8 && name.substr(name.size() - 8) == ".staging") {
        names.push_back(name);
      }
    }
    return names;
  }

  // The refusal leaves memory and disk as they were.
  void ExpectRefused(const UploadRequest& request, absl::StatusCode code) {
    const std::string model = state_dir_ + "/uploads/client-0.r1.model";
    const std::string meta = state_dir_ + "/uploads/client-0.meta";
    const std::string model_sha = FileSha(model);
    const std::string meta_sha = FileSha(meta);
    const UploadMap before = store_->Accepted();
    auto result = store_->Submit(request);
    EXPECT_EQ(result.status().code(), code) << result.status();
    EXPECT_EQ(store_->Accepted(), before);
    EXPECT_EQ(FileSha(model), model_sha);
    EXPECT_EQ(FileSha(meta), meta_sha);
    // The bytes staged while the upload was validated are gone.
    EXPECT_THAT(StagingFiles(), ::testing::IsEmpty());
    EXPECT_FALSE(
        std::filesystem::exists(state_dir_ + "/uploads/client-1.r1.model"));
    EXPECT_FALSE(
        std::filesystem::exists(state_dir_ + "/uploads/client-1.meta"));
  }

  std::shared_ptr<const FederationConfig> config_;
  std::string state_dir_;
  std::unique_ptr<UploadStore> store_;
  std::string payload_;
};

TEST_F(UploadStoreTest, AcceptsAValidUploadAndPersistsIt) {
  auto accepted = store_->Submit(Request("client-0", 1, payload_));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ((*accepted)->payload_sha256, Sha256Hex(payload_));
  EXPECT_EQ(FileSha(state_dir_ + "/uploads/client-0.r1.model"),
            Sha256Hex(payload_));
  EXPECT_TRUE(std::filesystem::exists(state_dir_ + "/uploads/client-0.meta"));
  EXPECT_EQ(store_->Accepted().size(), 1u);
}

TEST_F(UploadStoreTest, RefusesEachBadUploadWithItsCodeAndNoChange) {
  ASSERT_TRUE(store_->Submit(Request("client-0", 1, payload_)).ok());

  ExpectRefused(Request("client-9", 1, payload_),
                absl::StatusCode::kPermissionDenied);
  UploadRequest wrong_digest = Request("client-1", 1, payload_);
  wrong_digest.spec_digest = std::string(64, 'a');
  ExpectRefused(wrong_digest, absl::StatusCode::kFailedPrecondition);
  ExpectRefused(Request("client-0", 1, payload_),
                absl::StatusCode::kAlreadyExists);
  ExpectRefused(Request("client-0", 1,
                        test_support::LocalModelPayload(*config_, 1, 3, 0)),
                absl::StatusCode::kFailedPrecondition);
  ExpectRefused(Request("client-1", 0, payload_),
                absl::StatusCode::kInvalidArgument);
  ExpectRefused(Request("client-1", 1, "not a model"),
                absl::StatusCode::kInvalidArgument);

  // Another environment (side 5) and another architecture.
  v1::FederationSpec other = test_support::SmallHypergridSpec(3);
  (*other.mutable_environment()->mutable_params())["side"] = "5";
  auto other_config = *FederationConfigFromSpec(other);
  ExpectRefused(
      Request("client-1", 1,
              test_support::LocalModelPayload(*other_config, 1, 3, 0)),
      absl::StatusCode::kInvalidArgument);
  other = test_support::SmallHypergridSpec(3);
  other.mutable_local_architecture()->set_hidden_width(16);
  other_config = *FederationConfigFromSpec(other);
  ExpectRefused(
      Request("client-1", 1,
              test_support::LocalModelPayload(*other_config, 1, 3, 0)),
      absl::StatusCode::kInvalidArgument);

  // A NaN weight (ImportModel refuses it).
  v1::ModelWeights weights;
  ASSERT_TRUE(weights.ParseFromString(payload_));
  std::string* data = weights.mutable_tensors(0)->mutable_data();
  const float nan = std::nanf("");
  std::memcpy(data->data(), &nan, sizeof(nan));
  ExpectRefused(Request("client-1", 1, weights.SerializeAsString()),
                absl::StatusCode::kInvalidArgument);

  // Finite but huge weights: the outputs overflow.
  ASSERT_TRUE(weights.ParseFromString(payload_));
  for (v1::TensorData& tensor : *weights.mutable_tensors()) {
    std::string& bytes = *tensor.mutable_data();
    const float huge = 3e38f;
    for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
      std::memcpy(bytes.data() + i, &huge, 4);
    }
  }
  ExpectRefused(Request("client-1", 1, weights.SerializeAsString()),
                absl::StatusCode::kInvalidArgument);

  UploadRequest bad_diagnostics = Request("client-1", 1, payload_);
  bad_diagnostics.diagnostics->beta = std::nan("");
  ExpectRefused(bad_diagnostics, absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(store_->CheckHeader("client-0", config_->spec_digest, 1).code(),
            absl::StatusCode::kOk);  // maybe a replay: only Submit can tell
  EXPECT_EQ(store_->CheckHeader("client-0", config_->spec_digest, 0).code(),
            absl::StatusCode::kInvalidArgument);

  const auto counts = store_->RefusalCounts();
  EXPECT_EQ(counts.at(kRefusedUnknownClient), 1);
  EXPECT_EQ(counts.at(kRefusedDigestMismatch), 1);
  EXPECT_EQ(counts.at(kRefusedReplay), 1);
  EXPECT_EQ(counts.at(kRefusedStaleRound), 3);
  EXPECT_EQ(counts.at(kRefusedInvalidModel), 5);
  EXPECT_EQ(counts.at(kRefusedNonFiniteOutputs), 1);

  // A newer round replaces the accepted one.
  const std::string newer = test_support::LocalModelPayload(*config_, 1, 3, 0);
  ASSERT_TRUE(store_->Submit(Request("client-0", 2, newer)).ok());
  EXPECT_EQ(store_->Accepted().at("client-0")->round, 2);
  EXPECT_EQ(FileSha(state_dir_ + "/uploads/client-0.r2.model"),
            Sha256Hex(newer));
  // The superseded round's file goes once the new record is in place.
  EXPECT_FALSE(
      std::filesystem::exists(state_dir_ + "/uploads/client-0.r1.model"));
}

// v1::ModelWeights with the named tensor's floats replaced.
std::string WithTensor(const std::string& payload, const std::string& name,
                       const std::vector<float>& values) {
  v1::ModelWeights weights;
  EXPECT_TRUE(weights.ParseFromString(payload));
  bool found = false;
  for (v1::TensorData& tensor : *weights.mutable_tensors()) {
    if (tensor.name() != name) continue;
    found = true;
    EXPECT_EQ(tensor.data().size(), values.size() * sizeof(float));
    tensor.mutable_data()->assign(reinterpret_cast<const char*>(values.data()),
                                  values.size() * sizeof(float));
  }
  EXPECT_TRUE(found) << name;
  return weights.SerializeAsString();
}

TEST_F(UploadStoreTest, RefusesAStreamingUpdateOfAnotherBaseAndStoresNothing) {
  ASSERT_TRUE(store_->Submit(Request("client-0", 1, payload_)).ok());
  const std::string update = test_support::LocalModelPayload(*config_, 1, 3, 0);

  // Based on a round the server never accepted from this client.
  UploadRequest wrong_base = Request("client-0", 2, update);
  wrong_base.base_round = 3;
  ExpectRefused(wrong_base, absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(
      std::filesystem::exists(state_dir_ + "/uploads/client-0.r2.model"));
  auto refused = store_->Submit(wrong_base);
  EXPECT_THAT(refused.status().message(),
              ::testing::HasSubstr("accepted round is 1"));
  // A client with no accepted upload has nothing to update.
  UploadRequest no_base = Request("client-1", 1, update);
  no_base.base_round = 1;
  ExpectRefused(no_base, absl::StatusCode::kFailedPrecondition);
  // The header check refuses it before any byte is received.
  EXPECT_EQ(store_->CheckHeader("client-0", config_->spec_digest, 2, 3).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(store_->CheckHeader("client-0", config_->spec_digest, 2, 1).ok());
  EXPECT_EQ(store_->RefusalCounts().at(kRefusedBaseMismatch), 4);

  // On the accepted round it is taken, and its base is kept across a
  // restart.
  UploadRequest good = Request("client-0", 2, update);
  good.base_round = 1;
  auto accepted = store_->Submit(good);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ((*accepted)->base_round, 1);
  // A replay is acknowledged as for any upload; an update of the previous
  // base (now stale) is refused.
  EXPECT_EQ(store_->Submit(good).status().code(),
            absl::StatusCode::kAlreadyExists);
  UploadRequest stale_base = Request("client-0", 3, payload_);
  stale_base.base_round = 1;
  EXPECT_EQ(store_->Submit(stale_base).status().code(),
            absl::StatusCode::kFailedPrecondition);
  store_.reset();
  store_ = *UploadStore::Create(config_, state_dir_);
  ASSERT_EQ(store_->Accepted().count("client-0"), 1u);
  EXPECT_EQ(store_->Accepted().at("client-0")->round, 2);
  EXPECT_EQ(store_->Accepted().at("client-0")->base_round, 1);
}

TEST_F(UploadStoreTest, RefusesFiniteWeightsWhoseLogProbabilitiesOverflow) {
  ASSERT_TRUE(store_->Submit(Request("client-0", 1, payload_)).ok());
  // The raw logits are finite (3e38 + a small term), but the masked
  // log-softmax that aggregation reads is -inf for the middle action.
  ExpectRefused(Request("client-1", 1,
                        WithTensor(payload_, "forward_head.bias",
                                   {3e38f, -3e38f, 3e38f})),
                absl::StatusCode::kInvalidArgument);
  // Finite log-probabilities, but of a magnitude no trained model has.
  ExpectRefused(Request("client-1", 1,
                        WithTensor(payload_, "forward_head.bias",
                                   {1e30f, -1e30f, 1e30f})),
                absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->RefusalCounts().at(kRefusedNonFiniteOutputs), 2);
  // A merely confident model (log-probabilities around -100) passes.
  auto confident = store_->Submit(Request(
      "client-1", 1,
      WithTensor(payload_, "forward_head.bias", {100.0f, 0.0f, 50.0f})));
  EXPECT_TRUE(confident.ok()) << confident.status();
}

TEST_F(UploadStoreTest, BoundsRounds) {
  ExpectRefused(
      Request("client-1", std::numeric_limits<int64_t>::max(), payload_),
      absl::StatusCode::kInvalidArgument);
  ExpectRefused(Request("client-1", kMaxUploadRound + 1, payload_),
                absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_
                ->CheckHeader("client-1", config_->spec_digest,
                              std::numeric_limits<int64_t>::max())
                .code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      store_->Submit(Request("client-1", kMaxUploadRound, payload_)).ok());
}

TEST_F(UploadStoreTest, ACrashBeforeTheRecordKeepsThePreviousUpload) {
  ASSERT_TRUE(store_->Submit(Request("client-0", 1, payload_)).ok());
  // The record cannot be written (its temporary file's name is taken by a
  // directory), as if the server died between the model and the record.
  std::filesystem::create_directory(state_dir_ + "/uploads/client-0.meta.tmp");
  const std::string newer = test_support::LocalModelPayload(*config_, 1, 3, 0);
  EXPECT_EQ(store_->Submit(Request("client-0", 2, newer)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->Accepted().at("client-0")->round, 1);
  // And a crash that left the new round's model file complete on disk.
  ASSERT_TRUE(
      WriteFileAtomically(state_dir_ + "/uploads/client-0.r2.model", newer)
          .ok());
  store_.reset();
  std::filesystem::remove(state_dir_ + "/uploads/client-0.meta.tmp");

  auto restarted = *UploadStore::Create(config_, state_dir_);
  const UploadMap uploads = restarted->Accepted();
  ASSERT_EQ(uploads.count("client-0"), 1u);
  EXPECT_EQ(uploads.at("client-0")->round, 1);
  EXPECT_EQ(uploads.at("client-0")->payload_sha256, Sha256Hex(payload_));
  // The orphan is cleaned up, and round 2 can be uploaded again.
  EXPECT_FALSE(
      std::filesystem::exists(state_dir_ + "/uploads/client-0.r2.model"));
  EXPECT_TRUE(restarted->Submit(Request("client-0", 2, newer)).ok());
}

TEST_F(UploadStoreTest, StagingFilesLeftByACrashAreRemovedOnRestart) {
  ASSERT_TRUE(store_->Submit(Request("client-0", 1, payload_)).ok());
  EXPECT_THAT(StagingFiles(), ::testing::IsEmpty());
  // A crash while round 2 was validated, its bytes complete (and valid) in
  // their staging file, and one during another client's write.
  const std::string newer = test_support::LocalModelPayload(*config_, 1, 3, 0);
  const std::string uploads = state_dir_ + "/uploads/";
  ASSERT_TRUE(
      WriteFileAtomically(uploads + "client-0.r2.model.1.staging", newer).ok());
  std::ofstream(uploads + "client-1.r1.model.2.staging") << "partial";
  store_.reset();

  auto restarted = *UploadStore::Create(config_, state_dir_);
  const UploadMap accepted = restarted->Accepted();
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted.at("client-0")->round, 1);
  EXPECT_EQ(accepted.at("client-0")->payload_sha256, Sha256Hex(payload_));
  EXPECT_THAT(StagingFiles(), ::testing::IsEmpty());
  EXPECT_FALSE(std::filesystem::exists(uploads + "client-0.r2.model"));
  // Round 2 is uploaded again and committed under its model name.
  ASSERT_TRUE(restarted->Submit(Request("client-0", 2, newer)).ok());
  EXPECT_EQ(FileSha(uploads + "client-0.r2.model"), Sha256Hex(newer));
  EXPECT_FALSE(std::filesystem::exists(uploads + "client-0.r1.model"));
  EXPECT_THAT(StagingFiles(), ::testing::IsEmpty());
}

TEST_F(UploadStoreTest, ProbeSeedComesFromAPersistedSecretAndThePayload) {
  const std::string a = Sha256Hex(payload_);
  const std::string b =
      Sha256Hex(test_support::LocalModelPayload(*config_, 1, 3, 0));
  EXPECT_EQ(store_->ProbeSeedFor(a), store_->ProbeSeedFor(a));
  EXPECT_NE(store_->ProbeSeedFor(a), store_->ProbeSeedFor(b));
  // Different seeds probe different trajectories.
  const Environment& environment = *config_->environment;
  Trajectories probe_a = UniformProbeTrajectories(
      environment, 16, store_->ProbeSeedFor(a), torch::kCPU);
  Trajectories probe_b = UniformProbeTrajectories(
      environment, 16, store_->ProbeSeedFor(b), torch::kCPU);
  EXPECT_FALSE(probe_a.states.sizes() == probe_b.states.sizes() &&
               probe_a.states.equal(probe_b.states));
  EXPECT_TRUE(probe_a.states.equal(
      UniformProbeTrajectories(environment, 16, store_->ProbeSeedFor(a),
                               torch::kCPU)
          .states));

  // The secret: 32 bytes, mode 0600, the same after a restart ...
  const std::string secret_path = state_dir_ + "/probe_secret";
  auto secret = ReadFileToString(secret_path, 1024);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(secret->size(), 32u);
  EXPECT_EQ(
      std::filesystem::status(secret_path).permissions() &
          std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const uint64_t seed = store_->ProbeSeedFor(a);
  store_.reset();
  EXPECT_EQ((*UploadStore::Create(config_, state_dir_))->ProbeSeedFor(a), seed);
  EXPECT_EQ(*ReadFileToString(secret_path, 1024), *secret);
  // ... and another on another server.
  EXPECT_NE(
      (*UploadStore::Create(config_, test_support::FreshDirectory("other")))
          ->ProbeSeedFor(a),
      seed);
  // A damaged secret is an error naming the file.
  ASSERT_TRUE(WriteFileAtomically(secret_path, "short").ok());
  auto damaged = UploadStore::Create(config_, state_dir_);
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(damaged.status().message()),
              ::testing::HasSubstr(secret_path));
}

TEST_F(UploadStoreTest, RecoversAcceptedUploadsAfterRestart) {
  ASSERT_TRUE(store_->Submit(Request("client-0", 3, payload_)).ok());
  ASSERT_TRUE(store_->Submit(Request("client-2", 1, payload_)).ok());
  std::ofstream(state_dir_ + "/uploads/client-1.model.tmp") << "partial";
  store_.reset();

  auto restarted = UploadStore::Create(config_, state_dir_);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  const UploadMap uploads = (*restarted)->Accepted();
  ASSERT_EQ(uploads.size(), 2u);
  EXPECT_EQ(uploads.at("client-0")->round, 3);
  ASSERT_TRUE(uploads.at("client-0")->diagnostics.has_value());
  EXPECT_DOUBLE_EQ(uploads.at("client-0")->diagnostics->beta, 0.2);
  EXPECT_EQ(
      (*restarted)->Submit(Request("client-0", 3, payload_)).status().code(),
      absl::StatusCode::kAlreadyExists);

  // Another spec ignores these uploads.
  auto other = *FederationConfigFromSpec(test_support::SmallHypergridSpec(4));
  EXPECT_TRUE((*UploadStore::Create(other, state_dir_))->Accepted().empty());
}

TEST(ModelStoreTest, PublishesRecoversAndSkipsDebris) {
  auto config = test_support::SmallHypergridConfig(2);
  const std::string state_dir = test_support::FreshDirectory("models");
  auto store = *ModelStore::Create(config, state_dir);
  EXPECT_EQ(store->Latest(), nullptr);
  EXPECT_EQ(store->WaitForNewer(0, absl::Milliseconds(10)), nullptr);

  PolicyNet policy = *MakePolicy(*config->environment,
                                 config->global_architecture, 1, torch::kCPU);
  auto v1 = store->Publish(policy, {{"client-0", 1}, {"client-1", 1}});
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ((*v1)->version, 1);
  auto v2 = store->Publish(policy, {{"client-0", 1}, {"client-1", 2}});
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ((*v2)->version, 2);
  EXPECT_EQ(store->WaitForNewer(1, absl::Milliseconds(10)), *v2);
  EXPECT_EQ(store->Get(1), *v1);
  EXPECT_EQ(store->Get(0), *v2);
  EXPECT_EQ(store->Get(7), nullptr);
  EXPECT_EQ(Sha256Hex((*v2)->payload), (*v2)->payload_sha256);

  // Debris of a crash and a corrupted version.
  std::ofstream(state_dir + "/global/v3.model.tmp") << "partial";
  std::ofstream(state_dir + "/global/v4.model") << "garbage";
  std::ofstream(state_dir + "/global/v4.meta") << "version: 4";
  std::ofstream(state_dir + "/global/v5.model") << "no record";
  store.reset();

  auto restarted = ModelStore::Create(config, state_dir);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  auto versions = (*restarted)->List();
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[1]->version, 2);
  EXPECT_EQ(versions[1]->payload_sha256, (*v2)->payload_sha256);
  EXPECT_THAT(versions[1]->ClientRounds(), ElementsAre(1, 2));
  auto v3 = (*restarted)->Publish(policy, {{"client-0", 1}});
  ASSERT_TRUE(v3.ok()) << v3.status();
  EXPECT_EQ((*v3)->version, 3);

  (*restarted)->Close();
  EXPECT_EQ((*restarted)->WaitForNewer(0, absl::Seconds(5)), nullptr);
}

TEST(ModelStoreTest, KeepsTheLatestVersionsInMemoryAndLoadsOlderOnDemand) {
  auto config = test_support::SmallHypergridConfig(2);
  const std::string state_dir = test_support::FreshDirectory("retention");
  ModelStoreOptions options;
  options.resident_versions = 2;
  auto store = *ModelStore::Create(config, state_dir, options);
  std::vector<std::string> digests;
  for (int i = 1; i <= 4; ++i) {
    PolicyNet policy = *MakePolicy(*config->environment,
                                   config->global_architecture, i, torch::kCPU);
    auto published = store->Publish(policy, {{"client-0", i}});
    ASSERT_TRUE(published.ok()) << published.status();
    digests.push_back((*published)->payload_sha256);
  }
  EXPECT_THAT(store->ResidentVersions(), ElementsAre(3, 4));
  // Listed as metadata ...
  std::vector<GlobalVersionPtr> listed = store->List();
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_TRUE(listed[0]->payload.empty());
  EXPECT_EQ(listed[0]->payload_sha256, digests[0]);
  EXPECT_THAT(listed[1]->ClientRounds(), ElementsAre(2));
  // ... and loaded whole, from disk, when asked for; not kept resident.
  GlobalVersionPtr old = store->Get(1);
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(Sha256Hex(old->payload), digests[0]);
  EXPECT_NE(old->policy.get(), nullptr);
  EXPECT_THAT(store->ResidentVersions(), ElementsAre(3, 4));

  // Recovery loads only the resident ones; the memory cap evicts further
  // (the latest always stays).
  store.reset();
  options.max_resident_bytes =
      static_cast<int64_t>(old->payload.size() * 3 / 2);
  store = *ModelStore::Create(config, state_dir, options);
  EXPECT_THAT(store->ResidentVersions(), ElementsAre(4));
  EXPECT_EQ(store->List().size(), 4u);
  ASSERT_NE(store->Get(2), nullptr);
  EXPECT_EQ(store->Get(2)->payload_sha256, digests[1]);
  // An evicted version damaged on disk is not served.
  ASSERT_TRUE(WriteFileAtomically(state_dir + "/global/v2.model",
                                  std::string(old->payload.size(), 'x'))
                  .ok());
  EXPECT_EQ(store->Get(2), nullptr);
  ModelStoreOptions none_resident;
  none_resident.resident_versions = 0;
  EXPECT_FALSE(none_resident.Validate().ok());
}

TEST(ModelStoreTest, AFailedPrepareLeavesNoVersionAndCanBeRetried) {
  auto config = test_support::SmallHypergridConfig(2);
  const std::string state_dir = test_support::FreshDirectory("prepare");
  int failures_left = 2;
  ModelStoreOptions options;
  options.write_file = [&](const std::string& path, absl::string_view bytes) {
    if (failures_left > 0) {
      --failures_left;
      return absl::ResourceExhaustedError("No space left on device (injected)");
    }
    return WriteFileAtomically(path, bytes);
  };
  auto store = *ModelStore::Create(config, state_dir, options);
  PolicyNet policy = *MakePolicy(*config->environment,
                                 config->global_architecture, 1, torch::kCPU);
  EXPECT_EQ(store->Publish(policy, {{"client-0", 1}}).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store->Latest(), nullptr);
  auto prepared = store->Prepare(policy, {{"client-0", 1}});
  EXPECT_FALSE(prepared.ok());
  prepared = store->Prepare(policy, {{"client-0", 1}});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  // Written but not visible until committed.
  EXPECT_EQ(store->Latest(), nullptr);
  EXPECT_EQ(store->WaitForNewer(0, absl::Milliseconds(1)), nullptr);
  GlobalVersionPtr committed = store->Commit(*std::move(prepared));
  EXPECT_EQ(committed->version, 1);
  EXPECT_EQ(store->WaitForNewer(0, absl::Milliseconds(1)), committed);
}

}  // namespace
}  // namespace epgfn
