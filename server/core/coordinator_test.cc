// The aggregation trigger, and the core running a federation in process.
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/aggregation_trigger.h"
#include "server/core/server_core.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;

TEST(DecideAggregationTest, WaitsForAllOrQuorumAtDeadline) {
  const absl::Duration early = absl::Seconds(1);
  const absl::Duration late = absl::Seconds(11);
  std::map<std::string, int64_t> two = {{"a", 1}, {"b", 1}};
  std::map<std::string, int64_t> three = {{"a", 1}, {"b", 1}, {"c", 1}};
  EXPECT_EQ(DecideAggregation(3, 2, 10, {}, nullptr, late),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, nullptr, early),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, nullptr, late),
            TriggerDecision::kAggregate);
  EXPECT_EQ(DecideAggregation(3, 3, 10, two, nullptr, late),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 2, 0, two, nullptr, late),
            TriggerDecision::kWait);
  EXPECT_EQ(DecideAggregation(3, 3, 0, three, nullptr, early),
            TriggerDecision::kAggregate);

  GlobalVersion latest;
  latest.version = 1;
  latest.client_ids = {"a", "b"};
  latest.client_rounds = {1, 1};
  EXPECT_EQ(DecideAggregation(3, 2, 10, two, &latest, early),
            TriggerDecision::kIdle);
  EXPECT_EQ(DecideAggregation(3, 2, 10, three, &latest, early),
            TriggerDecision::kAggregate);
  std::map<std::string, int64_t> newer = {{"a", 2}, {"b", 1}};
  EXPECT_EQ(DecideAggregation(3, 2, 10, newer, &latest, early),
            TriggerDecision::kAggregate);
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
