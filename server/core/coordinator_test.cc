// The aggregation trigger, and the core running a federation in process:
// quorum and deadline, stragglers, aggregation checkpoints across restarts,
// and the diagnostics-based exclusion policy.
#include <filesystem>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/aggregation_trigger.h"
#include "server/core/server_core.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

int Size(const std::map<std::string, int64_t>& rounds) {
  return static_cast<int>(rounds.size());
}

TEST(DecideAggregationTest, WaitsForAllOrQuorumAtDeadline) {
  const absl::Duration early = absl::Seconds(1);
  const absl::Duration late = absl::Seconds(11);
  std::map<std::string, int64_t> two = {{"a", 1}, {"b", 1}};
  std::map<std::string, int64_t> three = {{"a", 1}, {"b", 1}, {"c", 1}};
  EXPECT_EQ(DecideAggregation(3, 2, 10, {}, 0, nullptr, late),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, Size(two), nullptr, early),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, Size(two), nullptr, late),
            TriggerDecision::kAggregate);
  EXPECT_EQ(DecideAggregation(3, 3, 10, two, Size(two), nullptr, late),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 2, 0, two, Size(two), nullptr, late),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 3, 0, three, Size(three), nullptr, early),
            TriggerDecision::kAggregate);

  GlobalVersion latest;
  latest.version = 1;
  latest.client_ids = {"a", "b"};
  latest.client_rounds = {1, 1};
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, Size(two), &latest, early),
            TriggerDecision::kIdle);
  EXPECT_EQ(DecideAggregation(3, 2, 10, three, Size(three), &latest, early),
            TriggerDecision::kAggregate);
  std::map<std::string, int64_t> newer = {{"a", 2}, {"b", 1}};
  EXPECT_EQ(DecideAggregation(3, 2, 10, newer, Size(newer), &latest, early),
            TriggerDecision::kAggregate);
}

TEST(DecideAggregationTest, QuorumCountsOnlyIncludedUploads) {
  const absl::Duration early = absl::Seconds(1);
  const absl::Duration late = absl::Seconds(11);
  // Three clients uploaded, one of them excluded: with quorum 2 the two
  // included ones are aggregated at once (nobody is left to wait for) ...
  std::map<std::string, int64_t> two = {{"a", 1}, {"b", 1}};
  EXPECT_EQ(DecideAggregation(3, 2, 0, two, 3, nullptr, early),
            TriggerDecision::kAggregate);
  // ... with quorum 3 never, not even after the deadline.
  EXPECT_EQ(DecideAggregation(3, 3, 10, two, 3, nullptr, late),
            TriggerDecision::kWait);
  // Everyone excluded: nothing to aggregate.
  EXPECT_EQ(DecideAggregation(3, 1, 10, {}, 3, nullptr, late),
            TriggerDecision::kWait);
  // Two of three uploaded, one excluded: below quorum 2 at the deadline.
  std::map<std::string, int64_t> one = {{"a", 1}};
  EXPECT_EQ(DecideAggregation(3, 2, 10, one, 2, nullptr, late),
            TriggerDecision::kWait);
  // An excluded straggler does not trigger a re-aggregation.
  GlobalVersion latest;
  latest.version = 1;
  latest.client_ids = {"a", "b"};
  latest.client_rounds = {1, 1};
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, 3, &latest, early),
            TriggerDecision::kIdle);
}

GlobalVersionPtr WaitForVersion(const ServerCore& core, int64_t after) {
  return core.models().WaitForNewer(after, absl::Seconds(60));
}

TEST(ServerCoreTest, AggregatesAtQuorumAfterDeadlineThenForStraggler) {
  v1::FederationSpec spec = testing::SmallHypergridSpec(3, 60);
  spec.set_quorum(2);
  spec.set_upload_deadline_seconds(2);
  auto config = *FederationConfigFromSpec(spec);
  auto options = *ServerCoreOptions::Create(testing::FreshDirectory("core"),
                                            torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  const absl::Time start = absl::Now();

  for (int i = 0; i < 2; ++i) {
    UploadRequest request;
    request.client_id = "client-" + std::to_string(i);
    request.spec_digest = config->spec_digest;
    request.round = 1;
    request.payload = testing::LocalModelPayload(*config, i, 3, 0);
    ASSERT_TRUE((*core)->SubmitUpload(request).ok());
  }
  EXPECT_EQ((*core)->Status().aggregation.state, "waiting_for_uploads");
  EXPECT_EQ((*core)->Status().current_version, 0);

  GlobalVersionPtr v1 = WaitForVersion(**core, 0);
  ASSERT_NE(v1, nullptr);
  EXPECT_GE(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(v1->version, 1);
  EXPECT_THAT(v1->client_ids, ElementsAre("client-0", "client-1"));
  FederationStatus status = (*core)->Status();
  EXPECT_EQ(status.current_version, 1);
  EXPECT_EQ(status.aggregation.iteration, 60);
  EXPECT_GE(status.aggregation.total_variation_to_local_product, 0.0);
  EXPECT_EQ(status.clients.size(), 3u);
  EXPECT_EQ(status.clients[1].accepted_round, 1);
  EXPECT_EQ(status.clients[2].accepted_round, 0);

  UploadRequest straggler;
  straggler.client_id = "client-2";
  straggler.spec_digest = config->spec_digest;
  straggler.round = 1;
  straggler.payload = testing::LocalModelPayload(*config, 2, 3, 0);
  ASSERT_TRUE((*core)->SubmitUpload(straggler).ok());
  GlobalVersionPtr v2 = WaitForVersion(**core, 1);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->version, 2);
  EXPECT_THAT(v2->client_ids, ElementsAre("client-0", "client-1", "client-2"));

  // Sampling the published model.
  SampleQuery query;
  query.num_samples = 10;
  query.seed = 3;
  query.log_probability_samples = 2;
  int64_t received = 0;
  ASSERT_TRUE(
      (*core)
          ->sampler()
          .Sample(query,
                  [&](int64_t version, std::vector<SampledObject> batch) {
                    EXPECT_EQ(version, 2);
                    for (const SampledObject& object : batch) {
                      EXPECT_EQ(object.state.size(), 2u);
                      EXPECT_TRUE(std::isfinite(object.log_probability));
                      EXPECT_LE(object.log_probability, 1e-6);
                    }
                    received += batch.size();
                    return true;
                  })
          .ok());
  EXPECT_EQ(received, 10);
  query.num_samples = 1001;
  EXPECT_EQ((*core)->sampler().Sample(query, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  query.num_samples = 5;
  query.model_version = 9;
  EXPECT_EQ((*core)->sampler().Sample(query, nullptr).code(),
            absl::StatusCode::kNotFound);
}

UploadRequest MakeUpload(const FederationConfig& config, int index, int count,
                         int64_t round = 1) {
  UploadRequest request;
  request.client_id = "client-" + std::to_string(index);
  request.spec_digest = config.spec_digest;
  request.round = round;
  request.payload = testing::LocalModelPayload(config, index, count, 0);
  return request;
}

ServerCoreOptions CheckpointingOptions(const std::string& state_dir) {
  ServerCoreOptions options =
      *ServerCoreOptions::Create(state_dir, torch::kCPU, 1000);
  options.coordinator.progress_every = 10;
  options.coordinator.checkpoint_every_iterations = 20;
  return options;
}

// Waits until the running aggregation has written a checkpoint at or after
// `iteration`.
bool WaitForCheckpoint(const ServerCore& core, int64_t iteration) {
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (absl::Now() < deadline) {
    if (core.Status().aggregation.checkpoint_iteration >= iteration) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

TEST(ServerCoreTest, ResumesAnInterruptedAggregationFromItsCheckpoint) {
  auto config = testing::SmallHypergridConfig(2, 400);
  const std::string interrupted_dir = testing::FreshDirectory("interrupted");
  int64_t stopped_at = 0;
  {
    auto core =
        *ServerCore::Create(config, CheckpointingOptions(interrupted_dir));
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, i, 2)).ok());
    }
    ASSERT_TRUE(WaitForCheckpoint(*core, 40));
    // Shutdown (SIGTERM's path) stops the aggregation and checkpoints it.
    core->BeginShutdown();
    const FederationStatus status = core->Status();
    stopped_at = status.aggregation.checkpoint_iteration;
    EXPECT_GE(stopped_at, 40);
    EXPECT_LT(stopped_at, 400);
    EXPECT_EQ(status.current_version, 0);
  }
  EXPECT_TRUE(
      std::filesystem::exists(interrupted_dir + "/aggregation/checkpoint.pb"));

  // A restarted server on the same state resumes where it stopped.
  GlobalVersionPtr resumed;
  {
    auto core =
        *ServerCore::Create(config, CheckpointingOptions(interrupted_dir));
    resumed = WaitForVersion(*core, 0);
    ASSERT_NE(resumed, nullptr);
    const FederationStatus status = core->Status();
    EXPECT_EQ(status.aggregation.resumed_from_iteration, stopped_at);
    EXPECT_EQ(status.aggregation.iteration, 400);
    EXPECT_THAT(resumed->client_ids, ElementsAre("client-0", "client-1"));
  }
  // Publication removes the checkpoint.
  EXPECT_FALSE(
      std::filesystem::exists(interrupted_dir + "/aggregation/checkpoint.pb"));

  // The same aggregation without interruption publishes the same model, bit
  // for bit: the checkpoint carries the whole training state.
  auto core = *ServerCore::Create(
      config, CheckpointingOptions(testing::FreshDirectory("straight")));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, i, 2)).ok());
  }
  GlobalVersionPtr straight = WaitForVersion(*core, 0);
  ASSERT_NE(straight, nullptr);
  EXPECT_EQ(core->Status().aggregation.resumed_from_iteration, 0);
  EXPECT_EQ(resumed->payload_sha256, straight->payload_sha256);
}

TEST(ServerCoreTest, DiscardsACheckpointOfOtherUploads) {
  v1::FederationSpec spec = testing::SmallHypergridSpec(3, 400);
  spec.set_quorum(2);
  spec.set_upload_deadline_seconds(3);
  auto config = *FederationConfigFromSpec(spec);
  const std::string state_dir = testing::FreshDirectory("discard");
  {
    auto core = *ServerCore::Create(config, CheckpointingOptions(state_dir));
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, i, 3)).ok());
    }
    ASSERT_TRUE(WaitForCheckpoint(*core, 20));  // after the deadline
  }
  ASSERT_TRUE(
      std::filesystem::exists(state_dir + "/aggregation/checkpoint.pb"));
  // Restarted, the deadline runs again; the third client uploads before it,
  // so the aggregation covers other uploads than the checkpoint's.
  auto core = *ServerCore::Create(config, CheckpointingOptions(state_dir));
  ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, 2, 3)).ok());
  GlobalVersionPtr version = WaitForVersion(*core, 0);
  ASSERT_NE(version, nullptr);
  EXPECT_THAT(version->client_ids,
              ElementsAre("client-0", "client-1", "client-2"));
  EXPECT_EQ(core->Status().aggregation.resumed_from_iteration, 0);
}

TEST(ServerCoreTest, ExcludesUploadsBeyondTheDiagnosticLimits) {
  v1::FederationSpec spec = testing::SmallHypergridSpec(3, 40);
  spec.set_quorum(2);
  spec.mutable_exclusion()->set_max_alpha(0.5);
  spec.mutable_exclusion()->set_max_beta(3.0);
  auto config = *FederationConfigFromSpec(spec);
  const std::string state_dir = testing::FreshDirectory("exclusion");
  {
    auto core = *ServerCore::Create(
        config, *ServerCoreOptions::Create(state_dir, torch::kCPU, 100));
    UploadRequest good = MakeUpload(*config, 0, 3);
    good.diagnostics = LocalDiagnostics{0.1, 0.2, 0.0, 256};
    UploadRequest bad_alpha = MakeUpload(*config, 1, 3);
    bad_alpha.diagnostics = LocalDiagnostics{0.9, 0.2, 0.0, 256};
    UploadRequest silent = MakeUpload(*config, 2, 3);  // no diagnostics
    for (const UploadRequest& request : {good, bad_alpha, silent}) {
      ASSERT_TRUE(core->SubmitUpload(request).ok()) << request.client_id;
    }
    // Everyone uploaded, yet only one upload counts towards quorum 2.
    absl::SleepFor(absl::Seconds(1));
    FederationStatus status = core->Status();
    EXPECT_EQ(status.current_version, 0);
    EXPECT_EQ(status.aggregation.state, "waiting_for_uploads");
    EXPECT_FALSE(status.clients[0].excluded);
    EXPECT_TRUE(status.clients[1].excluded);
    EXPECT_THAT(status.clients[1].exclusion_reason,
                HasSubstr("alpha 0.9 > max_alpha 0.5"));
    EXPECT_TRUE(status.clients[2].excluded);
    EXPECT_THAT(status.clients[2].exclusion_reason,
                HasSubstr("no diagnostics"));

    // Client 1 retrains and reports diagnostics within the limits.
    UploadRequest better = MakeUpload(*config, 1, 3, /*round=*/2);
    better.diagnostics = LocalDiagnostics{0.3, 2.5, 0.0, 256};
    ASSERT_TRUE(core->SubmitUpload(better).ok());
    GlobalVersionPtr version = WaitForVersion(*core, 0);
    ASSERT_NE(version, nullptr);
    EXPECT_THAT(version->client_ids, ElementsAre("client-0", "client-1"));
    EXPECT_THAT(version->client_rounds, ElementsAre(1, 2));
    EXPECT_THAT(version->excluded_client_ids, ElementsAre("client-2"));
    EXPECT_THAT(version->exclusion_reasons,
                ElementsAre(HasSubstr("no diagnostics")));
    // The excluded upload stays stored and does not re-trigger aggregation.
    absl::SleepFor(absl::Milliseconds(600));
    status = core->Status();
    EXPECT_EQ(status.current_version, 1);
    EXPECT_EQ(status.aggregation.state, "idle");
    EXPECT_EQ(status.clients[2].accepted_round, 1);
  }
  // The exclusions are part of the version's record on disk.
  auto core = *ServerCore::Create(
      config, *ServerCoreOptions::Create(state_dir, torch::kCPU, 100));
  GlobalVersionPtr recovered = core->models().Latest();
  ASSERT_NE(recovered, nullptr);
  EXPECT_THAT(recovered->excluded_client_ids, ElementsAre("client-2"));
  EXPECT_THAT(recovered->exclusion_reasons,
              ElementsAre(HasSubstr("no diagnostics")));
  EXPECT_THAT(recovered->client_ids, ElementsAre("client-0", "client-1"));
}

TEST(ServerCoreTest, SamplerSaysNotFoundBeforeTheFirstVersion) {
  auto config = testing::SmallHypergridConfig(2);
  auto core = *ServerCore::Create(
      config, *ServerCoreOptions::Create(testing::FreshDirectory("empty"),
                                         torch::kCPU, 100));
  SampleQuery query;
  query.num_samples = 5;
  EXPECT_EQ(core->sampler().Sample(query, nullptr).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(core->Status().aggregation.state, "waiting_for_uploads");
}

}  // namespace
}  // namespace epgfn
