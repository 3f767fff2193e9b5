// The aggregation trigger, and the core running a federation in process:
// quorum and deadline, stragglers, aggregation checkpoints across restarts,
// and the diagnostics-based exclusion policy.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/model/model_codec.h"
#include "common/policy/policy_net.h"
#include "common/util/file_io.h"
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

// The coordinator's injected clock: deadlines pass when the test says so.
class FakeClock {
 public:
  absl::Time Now() const {
    absl::MutexLock lock(&mutex_);
    return now_;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&mutex_);
    now_ += by;
  }
  std::function<absl::Time()> AsFunction() {
    return [this] { return Now(); };
  }

 private:
  mutable absl::Mutex mutex_;
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

using Rounds = std::map<std::string, int64_t>;

// Three clients, with the given quorum and deadline.
TriggerPolicy ThreeClients(int quorum, int64_t deadline_seconds) {
  TriggerPolicy policy;
  policy.num_clients = 3;
  policy.quorum = quorum;
  policy.upload_deadline_seconds = deadline_seconds;
  return policy;
}

// `num_uploaded` clients have an accepted upload, those in `included` kept
// by the exclusion policy; `latest`: the latest version's rounds, if any.
TriggerState Uploads(Rounds included, int num_uploaded,
                     absl::Duration since_round_opened,
                     std::optional<Rounds> latest = std::nullopt) {
  TriggerState state;
  state.included_rounds = std::move(included);
  state.num_uploaded = num_uploaded;
  state.since_round_opened = since_round_opened;
  state.latest_rounds = std::move(latest);
  return state;
}

TEST(DecideAggregationTest, WaitsForAllOrQuorumAtDeadline) {
  const absl::Duration early = absl::Seconds(1);
  const absl::Duration late = absl::Seconds(11);
  const Rounds two = {{"a", 1}, {"b", 1}};
  const Rounds three = {{"a", 1}, {"b", 1}, {"c", 1}};
  EXPECT_EQ(DecideAggregation(ThreeClients(2, 10), Uploads({}, 0, late)),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(ThreeClients(2, 10), Uploads(two, 2, early)),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(ThreeClients(2, 10), Uploads(two, 2, late)),
            TriggerDecision::kAggregate);
  EXPECT_EQ(DecideAggregation(ThreeClients(3, 10), Uploads(two, 2, late)),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(ThreeClients(2, 0), Uploads(two, 2, late)),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(ThreeClients(3, 0), Uploads(three, 3, early)),
            TriggerDecision::kAggregate);

  const Rounds latest = {{"a", 1}, {"b", 1}};
  EXPECT_EQ(
      DecideAggregation(ThreeClients(2, 10), Uploads(two, 2, early, latest)),
      TriggerDecision::kIdle);
  EXPECT_EQ(
      DecideAggregation(ThreeClients(2, 10), Uploads(three, 3, early, latest)),
      TriggerDecision::kAggregate);
  const Rounds newer = {{"a", 2}, {"b", 1}};
  EXPECT_EQ(
      DecideAggregation(ThreeClients(2, 10), Uploads(newer, 2, early, latest)),
      TriggerDecision::kAggregate);
}

TEST(DecideAggregationTest, QuorumCountsOnlyIncludedUploads) {
  const absl::Duration early = absl::Seconds(1);
  const absl::Duration late = absl::Seconds(11);
  // Three clients uploaded, one of them excluded: with quorum 2 the two
  // included ones are aggregated at once (nobody is left to wait for) ...
  const Rounds two = {{"a", 1}, {"b", 1}};
  EXPECT_EQ(DecideAggregation(ThreeClients(2, 0), Uploads(two, 3, early)),
            TriggerDecision::kAggregate);
  // ... with quorum 3 never, not even after the deadline.
  EXPECT_EQ(DecideAggregation(ThreeClients(3, 10), Uploads(two, 3, late)),
            TriggerDecision::kWait);
  // Everyone excluded: nothing to aggregate.
  EXPECT_EQ(DecideAggregation(ThreeClients(1, 10), Uploads({}, 3, late)),
            TriggerDecision::kWait);
  // Two of three uploaded, one excluded: below quorum 2 at the deadline.
  const Rounds one = {{"a", 1}};
  EXPECT_EQ(DecideAggregation(ThreeClients(2, 10), Uploads(one, 2, late)),
            TriggerDecision::kWait);
  // An excluded straggler does not trigger a re-aggregation.
  const Rounds latest = {{"a", 1}, {"b", 1}};
  EXPECT_EQ(
      DecideAggregation(ThreeClients(2, 10), Uploads(two, 3, early, latest)),
      TriggerDecision::kIdle);
}

TEST(DecideAggregationTest, ReaggregatesOnlyAfterTheSettleWindow) {
  TriggerPolicy policy = ThreeClients(2, 10);
  policy.settle_window = absl::Seconds(3);
  const Rounds latest = {{"a", 1}, {"b", 1}};
  const Rounds newer = {{"a", 2}, {"b", 1}};
  TriggerState state = Uploads(newer, 2, absl::Seconds(100), latest);
  state.since_last_upload = absl::Seconds(2);
  EXPECT_EQ(DecideAggregation(policy, state), TriggerDecision::kWait);
  state.since_last_upload = absl::Seconds(3);
  EXPECT_EQ(DecideAggregation(policy, state), TriggerDecision::kAggregate);
  // Covered: idle whatever the window.
  state.included_rounds = latest;
  state.since_last_upload = absl::ZeroDuration();
  EXPECT_EQ(DecideAggregation(policy, state), TriggerDecision::kIdle);
  // The first version does not wait for it.
  TriggerState first =
      Uploads({{"a", 1}, {"b", 1}, {"c", 1}}, 3, absl::Seconds(1));
  first.since_last_upload = absl::ZeroDuration();
  EXPECT_EQ(DecideAggregation(policy, first), TriggerDecision::kAggregate);
}

GlobalVersionPtr WaitForVersion(const ServerCore& core, int64_t after) {
  return core.models().WaitForNewer(after, absl::Seconds(60));
}

TEST(ServerCoreTest, AggregatesAtQuorumAfterDeadlineThenForStraggler) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(3, 60);
  spec.set_quorum(2);
  spec.set_upload_deadline_seconds(2);
  auto config = *FederationConfigFromSpec(spec);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("core"), torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  FakeClock clock;
  options.coordinator.clock = clock.AsFunction();
  options.coordinator.poll_interval = absl::Milliseconds(5);
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();

  for (int i = 0; i < 2; ++i) {
    UploadRequest request;
    request.client_id = "client-" + std::to_string(i);
    request.spec_digest = config->spec_digest;
    request.round = 1;
    request.payload = test_support::LocalModelPayload(*config, i, 3, 0);
    ASSERT_TRUE((*core)->SubmitUpload(request).ok());
  }
  EXPECT_EQ((*core)->Status().aggregation.phase,
            AggregationPhase::kWaitingForUploads);
  EXPECT_EQ((*core)->Status().current_version, 0);
  // Just before the deadline (by the coordinator's clock) nothing happens,
  // however long the test waits (many polls) ...
  clock.Advance(absl::Milliseconds(1999));
  EXPECT_EQ((*core)->models().WaitForNewer(0, absl::Milliseconds(100)),
            nullptr);
  EXPECT_EQ((*core)->Status().aggregation.phase,
            AggregationPhase::kWaitingForUploads);
  // ... and at the deadline the quorum is aggregated.
  clock.Advance(absl::Milliseconds(1));
  GlobalVersionPtr v1 = WaitForVersion(**core, 0);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->version, 1);
  EXPECT_THAT(v1->ClientIds(), ElementsAre("client-0", "client-1"));
  FederationStatus status = (*core)->Status();
  EXPECT_EQ(status.current_version, 1);
  EXPECT_EQ(status.aggregation.iteration, 60);
  EXPECT_EQ(status.aggregation.stop_reason,
            AggregationStopReason::kBudgetReached);
  EXPECT_GE(status.aggregation.total_variation_to_local_product, 0.0);
  // Computed at the end of the run, before publication (the default pool).
  EXPECT_GE(status.aggregation.fcs_to_local_product, 0.0);
  EXPECT_LE(status.aggregation.fcs_to_local_product, 1.0);
  EXPECT_EQ(status.clients.size(), 3u);
  EXPECT_EQ(status.clients[1].accepted_round, 1);
  EXPECT_EQ(status.clients[2].accepted_round, 0);

  UploadRequest straggler;
  straggler.client_id = "client-2";
  straggler.spec_digest = config->spec_digest;
  straggler.round = 1;
  straggler.payload = test_support::LocalModelPayload(*config, 2, 3, 0);
  ASSERT_TRUE((*core)->SubmitUpload(straggler).ok());
  GlobalVersionPtr v2 = WaitForVersion(**core, 1);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->version, 2);
  EXPECT_THAT(v2->ClientIds(), ElementsAre("client-0", "client-1", "client-2"));

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
  request.payload = test_support::LocalModelPayload(config, index, count, 0);
  return request;
}

// Round 1 of both clients of a two-client federation, accepted.
void UploadRoundOne(ServerCore& core, const FederationConfig& config) {
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(core.SubmitUpload(MakeUpload(config, i, 2)).ok());
  }
}

// Two streaming updates accepted within the settle window make one new
// version, which records each client's round.
TEST(ServerCoreTest, CoalescesNearSimultaneousUpdatesIntoOneVersion) {
  auto config =
      *FederationConfigFromSpec(test_support::SmallHypergridSpec(2, 40));
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("settle"), torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  FakeClock clock;
  options.coordinator.clock = clock.AsFunction();
  options.coordinator.poll_interval = absl::Milliseconds(5);
  options.coordinator.settle_window = absl::Seconds(3);
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(**core, *config));
  // The first version does not wait for the window.
  GlobalVersionPtr v1 = WaitForVersion(**core, 0);
  ASSERT_NE(v1, nullptr);
  EXPECT_THAT(v1->ClientRounds(), ElementsAre(1, 1));

  for (int i = 0; i < 2; ++i) {
    UploadRequest update = MakeUpload(*config, i, 2, 2);
    update.payload = test_support::LocalModelPayload(*config, i, 2, 7);
    update.base_round = 1;
    ASSERT_TRUE((*core)->SubmitUpload(update).ok());
    clock.Advance(absl::Seconds(2));  // within the window of the last one
    EXPECT_EQ((*core)->models().WaitForNewer(1, absl::Milliseconds(100)),
              nullptr);
  }
  clock.Advance(absl::Seconds(1));
  GlobalVersionPtr v2 = WaitForVersion(**core, 1);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->version, 2);
  EXPECT_THAT(v2->ClientIds(), ElementsAre("client-0", "client-1"));
  EXPECT_THAT(v2->ClientRounds(), ElementsAre(2, 2));
  // Nothing left to aggregate: no third version.
  EXPECT_EQ((*core)->models().WaitForNewer(2, absl::Milliseconds(300)),
            nullptr);
  // A version 1 sampler request still works; the default is the newest.
  EXPECT_EQ((*core)->models().List().size(), 2u);
}

// The largest absolute difference between two models' parameters of the
// same name.
double MaxParameterDifference(const PolicyNet& a, const PolicyNet& b) {
  const auto b_parameters = b->named_parameters();
  double largest = 0.0;
  for (const auto& parameter : a->named_parameters()) {
    largest =
        std::max(largest, (parameter.value() - b_parameters[parameter.key()])
                              .abs()
                              .max()
                              .item<double>());
  }
  return largest;
}

// With a single aggregation iteration, the first version is one Adam step
// (each parameter moves by at most the learning rate) from where the global
// model started: client-0's upload with the client warm start, a fresh
// initialisation without.
TEST(ServerCoreTest, FirstAggregationStartsFromAClientsUploadWhenAsked) {
  auto config =
      *FederationConfigFromSpec(test_support::SmallHypergridSpec(2, 1));
  std::vector<PolicyNet> uploaded;
  for (int i = 0; i < 2; ++i) {
    uploaded.push_back(*MakePolicy(*config->environment,
                                   config->local_architecture, 100 + i,
                                   torch::kCPU));
  }
  const double one_step = 1.01 * config->aggregation.learning_rate;
  for (AggregationWarmStart warm_start :
       {AggregationWarmStart::kClient, AggregationWarmStart::kNone}) {
    SCOPED_TRACE(std::string(AggregationWarmStartName(warm_start)));
    auto options = *ServerCore::Options::Create(
        test_support::FreshDirectory("client-start"), torch::kCPU, 1000);
    options.coordinator.poll_interval = absl::Milliseconds(5);
    options.coordinator.first_aggregation_warm_start = warm_start;
    auto core = ServerCore::Create(config, options);
    ASSERT_TRUE(core.ok()) << core.status();
    ASSERT_NO_FATAL_FAILURE(UploadRoundOne(**core, *config));
    GlobalVersionPtr v1 = WaitForVersion(**core, 0);
    ASSERT_NE(v1, nullptr);
    const double to_client_0 = MaxParameterDifference(v1->policy, uploaded[0]);
    const double to_client_1 = MaxParameterDifference(v1->policy, uploaded[1]);
    EXPECT_GT(to_client_1, 10 * one_step);
    if (warm_start == AggregationWarmStart::kClient) {
      EXPECT_LE(to_client_0, one_step);
    } else {
      EXPECT_GT(to_client_0, 10 * one_step);
    }
  }
}

TEST(ServerCoreTest, RefusesAClientWarmStartAcrossArchitectures) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(2, 10);
  spec.mutable_global_architecture()->set_hidden_width(32);
  auto config = *FederationConfigFromSpec(spec);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("client-start-width"), torch::kCPU, 1000);
  options.coordinator.first_aggregation_warm_start =
      AggregationWarmStart::kClient;
  const absl::Status refused = ServerCore::Create(config, options).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("differs from its global architecture"));

  options.coordinator.first_aggregation_warm_start =
      AggregationWarmStart::kAverage;
  EXPECT_EQ(options.coordinator.Validate().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerCoreTest, StopsAnAggregationOnALossPlateauAndSaysSo) {
  auto config =
      *FederationConfigFromSpec(test_support::SmallHypergridSpec(2, 3000));
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("plateau"), torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  options.coordinator.poll_interval = absl::Milliseconds(5);
  options.coordinator.stopping.window = 4;
  options.coordinator.stopping.patience = 4;
  options.coordinator.stopping.relative_tolerance = 0.05;
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ((*core)->Status().aggregation.stop_reason,
            AggregationStopReason::kNotStopped);
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(**core, *config));
  GlobalVersionPtr v1 = WaitForVersion(**core, 0);
  ASSERT_NE(v1, nullptr);
  const FederationStatus status = (*core)->Status();
  std::printf("stopped at iteration %lld of 3000\n",
              static_cast<long long>(status.aggregation.iteration));
  EXPECT_EQ(status.aggregation.stop_reason,
            AggregationStopReason::kLossPlateau);
  EXPECT_LT(status.aggregation.iteration, 3000);
  EXPECT_EQ(status.aggregation.iteration % 20, 0);
}

ServerCore::Options CheckpointingOptions(const std::string& state_dir) {
  ServerCore::Options options =
      *ServerCore::Options::Create(state_dir, torch::kCPU, 1000);
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
  auto config = test_support::SmallHypergridConfig(2, 400);
  const std::string interrupted_dir =
      test_support::FreshDirectory("interrupted");
  int64_t stopped_at = 0;
  {
    auto core =
        *ServerCore::Create(config, CheckpointingOptions(interrupted_dir));
    ASSERT_NO_FATAL_FAILURE(UploadRoundOne(*core, *config));
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
    EXPECT_THAT(resumed->ClientIds(), ElementsAre("client-0", "client-1"));
  }
  // Publication removes the checkpoint.
  EXPECT_FALSE(
      std::filesystem::exists(interrupted_dir + "/aggregation/checkpoint.pb"));

  // The same aggregation without interruption publishes the same model, bit
  // for bit: the checkpoint carries the whole training state.
  auto core = *ServerCore::Create(
      config, CheckpointingOptions(test_support::FreshDirectory("straight")));
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(*core, *config));
  GlobalVersionPtr straight = WaitForVersion(*core, 0);
  ASSERT_NE(straight, nullptr);
  EXPECT_EQ(core->Status().aggregation.resumed_from_iteration, 0);
  EXPECT_EQ(resumed->payload_sha256, straight->payload_sha256);
}

TEST(ServerCoreTest, DiscardsACheckpointOfOtherUploads) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(3, 400);
  spec.set_quorum(2);
  spec.set_upload_deadline_seconds(3);
  auto config = *FederationConfigFromSpec(spec);
  const std::string state_dir = test_support::FreshDirectory("discard");
  FakeClock clock;
  ServerCore::Options options = CheckpointingOptions(state_dir);
  options.coordinator.clock = clock.AsFunction();
  options.coordinator.poll_interval = absl::Milliseconds(5);
  {
    auto core = *ServerCore::Create(config, options);
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, i, 3)).ok());
    }
    clock.Advance(absl::Seconds(3));
    ASSERT_TRUE(WaitForCheckpoint(*core, 20));  // after the deadline
  }
  ASSERT_TRUE(
      std::filesystem::exists(state_dir + "/aggregation/checkpoint.pb"));
  // Restarted, the deadline runs again (the fake clock stands still); the
  // third client uploads before it, so the aggregation covers other uploads
  // than the checkpoint's.
  auto core = *ServerCore::Create(config, options);
  ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, 2, 3)).ok());
  GlobalVersionPtr version = WaitForVersion(*core, 0);
  ASSERT_NE(version, nullptr);
  EXPECT_THAT(version->ClientIds(),
              ElementsAre("client-0", "client-1", "client-2"));
  EXPECT_EQ(core->Status().aggregation.resumed_from_iteration, 0);
}

TEST(ServerCoreTest, ExcludesUploadsBeyondTheDiagnosticLimits) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(3, 40);
  spec.set_quorum(2);
  spec.mutable_exclusion()->set_max_alpha(0.5);
  spec.mutable_exclusion()->set_max_beta(3.0);
  auto config = *FederationConfigFromSpec(spec);
  const std::string state_dir = test_support::FreshDirectory("exclusion");
  {
    auto core = *ServerCore::Create(
        config, *ServerCore::Options::Create(state_dir, torch::kCPU, 100));
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
    EXPECT_EQ(status.aggregation.phase, AggregationPhase::kWaitingForUploads);
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
    EXPECT_THAT(version->ClientIds(), ElementsAre("client-0", "client-1"));
    EXPECT_THAT(version->ClientRounds(), ElementsAre(1, 2));
    EXPECT_THAT(version->ExcludedClientIds(), ElementsAre("client-2"));
    EXPECT_THAT(version->ExclusionReasons(),
                ElementsAre(HasSubstr("no diagnostics")));
    // The excluded upload stays stored and does not re-trigger aggregation.
    absl::SleepFor(absl::Milliseconds(600));
    status = core->Status();
    EXPECT_EQ(status.current_version, 1);
    EXPECT_EQ(status.aggregation.phase, AggregationPhase::kIdle);
    EXPECT_EQ(status.clients[2].accepted_round, 1);
  }
  // The exclusions are part of the version's record on disk.
  auto core = *ServerCore::Create(
      config, *ServerCore::Options::Create(state_dir, torch::kCPU, 100));
  GlobalVersionPtr recovered = core->models().Latest();
  ASSERT_NE(recovered, nullptr);
  EXPECT_THAT(recovered->ExcludedClientIds(), ElementsAre("client-2"));
  EXPECT_THAT(recovered->ExclusionReasons(),
              ElementsAre(HasSubstr("no diagnostics")));
  EXPECT_THAT(recovered->ClientIds(), ElementsAre("client-0", "client-1"));
}

TEST(ServerCoreTest, SamplerSaysNotFoundBeforeTheFirstVersion) {
  auto config = test_support::SmallHypergridConfig(2);
  auto core = *ServerCore::Create(
      config, *ServerCore::Options::Create(
                  test_support::FreshDirectory("empty"), torch::kCPU, 100));
  SampleQuery query;
  query.num_samples = 5;
  EXPECT_EQ(core->sampler().Sample(query, nullptr).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(core->Status().aggregation.phase,
            AggregationPhase::kWaitingForUploads);
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return absl::EndsWith(text, suffix);
}

TEST(ServerCoreTest, StatusAndUploadsDoNotWaitBehindASlowPublication) {
  auto config = test_support::SmallHypergridConfig(2, 20);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("slow"), torch::kCPU, 100);
  std::atomic<bool> writing{false};
  absl::Notification release;
  options.models.write_file = [&](const std::string& path,
                                  absl::string_view bytes) {
    if (EndsWith(path, ".model")) {
      writing = true;
      release.WaitForNotificationWithTimeout(absl::Seconds(60));
    }
    return WriteFileAtomically(path, bytes);
  };
  auto core = *ServerCore::Create(config, options);
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(*core, *config));
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (!writing && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(writing);
  // The publication is stuck in its write: GetStatus answers, and so does a
  // new upload (whose acceptance notifies the coordinator).
  auto status = std::async(std::launch::async, [&] { return core->Status(); });
  auto upload = std::async(std::launch::async, [&] {
    return core->SubmitUpload(MakeUpload(*config, 0, 2, /*round=*/2)).status();
  });
  const bool status_answered =
      status.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  const bool upload_answered =
      upload.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  release.Notify();
  EXPECT_TRUE(status_answered);
  EXPECT_TRUE(upload_answered);
  EXPECT_EQ(status.get().aggregation.phase, AggregationPhase::kPublishing);
  EXPECT_TRUE(upload.get().ok());
  GlobalVersionPtr version = WaitForVersion(*core, 0);
  ASSERT_NE(version, nullptr);
  EXPECT_EQ(version->version, 1);
}

TEST(ServerCoreTest, RetriesAFailedPublicationKeepingTheTrainedModel) {
  auto config = test_support::SmallHypergridConfig(2, 40);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("full"), torch::kCPU, 100);
  options.coordinator.publish_retry_initial = absl::Milliseconds(10);
  options.coordinator.publish_retry_max = absl::Milliseconds(40);
  std::atomic<bool> disk_full{true};
  options.models.write_file = [&](const std::string& path,
                                  absl::string_view bytes) {
    if (disk_full) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot write ", path, ": No space left on device (injected)"));
    }
    return WriteFileAtomically(path, bytes);
  };
  auto core = *ServerCore::Create(config, options);
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(*core, *config));
  FederationStatus status;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  do {
    absl::SleepFor(absl::Milliseconds(5));
    status = core->Status();
  } while (status.aggregation.publish_attempts < 3 && absl::Now() < give_up);
  EXPECT_EQ(status.aggregation.phase, AggregationPhase::kPublishRetrying);
  EXPECT_THAT(status.aggregation.last_error, HasSubstr("No space left"));
  EXPECT_THAT(status.aggregation.last_error,
              HasSubstr("the trained model is kept"));
  EXPECT_EQ(status.aggregation.iteration, 40);
  EXPECT_EQ(status.current_version, 0);

  // Space is freed: the kept result is published, without training again.
  disk_full = false;
  GlobalVersionPtr version = WaitForVersion(*core, 0);
  ASSERT_NE(version, nullptr);
  status = core->Status();
  EXPECT_EQ(status.aggregation.phase, AggregationPhase::kIdle);
  EXPECT_GE(status.aggregation.publish_attempts, 3);
  EXPECT_EQ(status.aggregation.iteration, 40);

  // The very model an undisturbed aggregation publishes.
  auto straight = *ServerCore::Create(
      config, *ServerCore::Options::Create(
                  test_support::FreshDirectory("roomy"), torch::kCPU, 100));
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(*straight, *config));
  GlobalVersionPtr expected = WaitForVersion(*straight, 0);
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(version->payload_sha256, expected->payload_sha256);
}

// A payload whose forward head's bias makes log p_F = -inf for one action:
// finite weights, finite raw outputs.
std::string PoisonedPayload(const FederationConfig& config, int index) {
  v1::ModelWeights weights;
  EXPECT_TRUE(weights.ParseFromString(
      test_support::LocalModelPayload(config, index, 3, 0)));
  const float bias[] = {3e38f, -3e38f, 3e38f};
  for (v1::TensorData& tensor : *weights.mutable_tensors()) {
    if (tensor.name() == "forward_head.bias") {
      tensor.mutable_data()->assign(reinterpret_cast<const char*>(bias),
                                    sizeof(bias));
    }
  }
  return weights.SerializeAsString();
}

TEST(ServerCoreTest, ExcludesTheUploadThatMakesAggregationNonFinite) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(3, 40);
  spec.set_quorum(2);
  auto config = *FederationConfigFromSpec(spec);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("poison"), torch::kCPU, 100);
  // Lets the poisoned model past the upload probe (only s0's raw outputs are
  // checked), as a model the probe's walks happen to miss would be.
  options.uploads.probe_walks = 0;
  auto core = *ServerCore::Create(config, options);
  UploadRequest poisoned = MakeUpload(*config, 2, 3);
  poisoned.payload = PoisonedPayload(*config, 2);
  for (const UploadRequest& request :
       {MakeUpload(*config, 0, 3), MakeUpload(*config, 1, 3), poisoned}) {
    ASSERT_TRUE(core->SubmitUpload(request).ok()) << request.client_id;
  }
  // Not stalled: the others are aggregated, the poisoned upload excluded
  // and named.
  GlobalVersionPtr version = WaitForVersion(*core, 0);
  ASSERT_NE(version, nullptr);
  EXPECT_THAT(version->ClientIds(), ElementsAre("client-0", "client-1"));
  EXPECT_THAT(version->ExcludedClientIds(), ElementsAre("client-2"));
  EXPECT_THAT(version->ExclusionReasons(),
              ElementsAre(HasSubstr("aggregation went non-finite")));
  FederationStatus status = core->Status();
  EXPECT_TRUE(status.clients[2].excluded);
  EXPECT_THAT(status.clients[2].exclusion_reason, HasSubstr("log p_F"));
  EXPECT_THAT(status.aggregation.last_error, HasSubstr("client-2:1"));

  // A newer, sound round of that client is aggregated again.
  ASSERT_TRUE(core->SubmitUpload(MakeUpload(*config, 2, 3, 2)).ok());
  GlobalVersionPtr next = WaitForVersion(*core, 1);
  ASSERT_NE(next, nullptr);
  EXPECT_THAT(next->ClientIds(),
              ElementsAre("client-0", "client-1", "client-2"));
  EXPECT_THAT(next->ExcludedClientIds(), IsEmpty());
  EXPECT_FALSE(core->Status().clients[2].excluded);
}

TEST(ServerCoreTest, SamplerCapsWorkAndStopsInsideABatch) {
  auto config = test_support::SmallHypergridConfig(2, 20);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("caps"), torch::kCPU, 1000);
  SampleWorkLimits& limits = options.sampler.limits;
  limits.max_trajectories_per_request = 1 << 16;
  limits.max_trajectories_per_pass = 256;
  limits.heavy_request_trajectories = 1000;
  limits.max_concurrent_heavy_requests = 1;
  auto core = *ServerCore::Create(config, options);
  ASSERT_NO_FATAL_FAILURE(UploadRoundOne(*core, *config));
  ASSERT_NE(WaitForVersion(*core, 0), nullptr);
  auto accept_all = [](int64_t, std::vector<SampledObject>) { return true; };

  SampleQuery query;
  query.num_samples = 1000;
  query.log_probability_samples = 100;  // 100,000 trajectories > 65,536
  absl::Status status = core->sampler().Sample(query, accept_all);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("exceeds"));

  // One batch (500 objects < 1,024), 50,000 backward trajectories in passes
  // of 256: a cancellation is noticed within the batch.
  query.num_samples = 500;
  int checks = 0;
  query.control.cancelled = [&checks] { return ++checks >= 3; };
  int64_t delivered = 0;
  status = core->sampler().Sample(query, [&](int64_t, auto batch) {
    delivered += batch.size();
    return true;
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(checks, 3);
  EXPECT_EQ(delivered, 0);
  query.control.cancelled = nullptr;
  query.control.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(core->sampler().Sample(query, accept_all).code(),
            absl::StatusCode::kDeadlineExceeded);
  query.control.deadline = absl::InfiniteFuture();

  // One heavy request at a time: a second is refused, a light one runs.
  absl::Notification in_first, release_first;
  auto first = std::async(std::launch::async, [&] {
    SampleQuery heavy = query;
    heavy.num_samples = 1000;           // the per-request cap of these options
    heavy.log_probability_samples = 2;  // 2,000 trajectories: heavy
    return core->sampler().Sample(heavy, [&](int64_t, auto) {
      if (!in_first.HasBeenNotified()) {
        in_first.Notify();
        release_first.WaitForNotificationWithTimeout(absl::Seconds(60));
      }
      return true;
    });
  });
  ASSERT_TRUE(in_first.WaitForNotificationWithTimeout(absl::Seconds(60)));
  status = core->sampler().Sample(query, accept_all);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  SampleQuery light;
  light.num_samples = 10;
  EXPECT_TRUE(core->sampler().Sample(light, accept_all).ok());
  release_first.Notify();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(core->sampler().Sample(query, accept_all).ok());
}

}  // namespace
}  // namespace epgfn
