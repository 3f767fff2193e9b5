// Named aggregates in process: each has its own version sequence over the
// same uploads, records its weights and client rounds, is re-aggregated only
// by its own clients' new rounds, survives a restart, is sampled by name,
// and says why when every one of its clients is excluded.
#include <filesystem>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/core/server_core.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Three clients; "ab" = client-0^1 * client-1^0.5 (client-2 listed at 0),
// "c" = client-2^2.
v1::FederationSpec NamedSpec() {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(3, 40);
  v1::NamedAggregate* ab = spec.add_aggregate();
  ab->set_name("ab");
  (*ab->mutable_weights())["client-0"] = 1.0;
  (*ab->mutable_weights())["client-1"] = 0.5;
  (*ab->mutable_weights())["client-2"] = 0.0;
  v1::NamedAggregate* c = spec.add_aggregate();
  c->set_name("c");
  (*c->mutable_weights())["client-2"] = 2.0;
  return spec;
}

ServerCore::Options FastOptions(const std::string& state_dir) {
  ServerCore::Options options =
      *ServerCore::Options::Create(state_dir, torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  options.coordinator.poll_interval = absl::Milliseconds(5);
  return options;
}

UploadRequest MakeUpload(const FederationConfig& config, int index,
                         int64_t round) {
  UploadRequest request;
  request.client_id = "client-" + std::to_string(index);
  request.spec_digest = config.spec_digest;
  request.round = round;
  request.payload = test_support::LocalModelPayload(config, index, 3, 0);
  return request;
}

const ModelStore& Store(const ServerCore& core, const std::string& name) {
  absl::StatusOr<const ModelStore*> store = core.FindModels(name);
  EXPECT_TRUE(store.ok()) << store.status();
  return **store;
}

GlobalVersionPtr WaitFor(const ServerCore& core, const std::string& name,
                         int64_t after) {
  return Store(core, name).WaitForNewer(after, absl::Seconds(60));
}

std::map<std::string, int64_t> Rounds(const GlobalVersion& version) {
  std::map<std::string, int64_t> rounds;
  for (const IncludedUpload& upload : version.included) {
    rounds[upload.client_id] = upload.round;
  }
  return rounds;
}

TEST(NamedAggregatesTest, OwnVersionsReaggregatedOnlyByTheirOwnClients) {
  auto config = *FederationConfigFromSpec(NamedSpec());
  const std::string state_dir = test_support::FreshDirectory("named");
  {
    auto core = ServerCore::Create(config, FastOptions(state_dir));
    ASSERT_TRUE(core.ok()) << core.status();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE((*core)->SubmitUpload(MakeUpload(*config, i, 1)).ok());
    }
    GlobalVersionPtr default_v1 = WaitFor(**core, "", 0);
    GlobalVersionPtr ab_v1 = WaitFor(**core, "ab", 0);
    GlobalVersionPtr c_v1 = WaitFor(**core, "c", 0);
    ASSERT_NE(default_v1, nullptr);
    ASSERT_NE(ab_v1, nullptr);
    ASSERT_NE(c_v1, nullptr);
    EXPECT_EQ(ab_v1->version, 1);
    EXPECT_EQ(ab_v1->aggregate_name, "ab");
    // Its weights as configured (the zero too) and only its members.
    EXPECT_EQ(ab_v1->client_weights,
              (std::map<std::string, double>{
                  {"client-0", 1.0}, {"client-1", 0.5}, {"client-2", 0.0}}));
    EXPECT_THAT(ab_v1->ClientIds(), ElementsAre("client-0", "client-1"));
    EXPECT_THAT(c_v1->ClientIds(), ElementsAre("client-2"));
    EXPECT_TRUE(default_v1->aggregate_name.empty());
    EXPECT_TRUE(default_v1->client_weights.empty());
    EXPECT_THAT(default_v1->ClientIds(),
                ElementsAre("client-0", "client-1", "client-2"));
    // Its own files, beside the default's.
    EXPECT_TRUE(
        std::filesystem::exists(state_dir + "/aggregates/ab/global/v1.meta"));
    EXPECT_TRUE(std::filesystem::exists(state_dir + "/global/v1.meta"));

    // client-2's new round: "c" and the default re-aggregate, "ab" does not
    // (client-2's weight there is 0).
    ASSERT_TRUE((*core)->SubmitUpload(MakeUpload(*config, 2, 2)).ok());
    GlobalVersionPtr c_v2 = WaitFor(**core, "c", 1);
    ASSERT_NE(c_v2, nullptr);
    EXPECT_EQ(Rounds(*c_v2), (std::map<std::string, int64_t>{{"client-2", 2}}));
    ASSERT_NE(WaitFor(**core, "", 1), nullptr);
    EXPECT_EQ(Store(**core, "ab").WaitForNewer(1, absl::Milliseconds(300)),
              nullptr);
    // client-1's new round: only "ab" (and the default).
    ASSERT_TRUE((*core)->SubmitUpload(MakeUpload(*config, 1, 2)).ok());
    GlobalVersionPtr ab_v2 = WaitFor(**core, "ab", 1);
    ASSERT_NE(ab_v2, nullptr);
    EXPECT_EQ(Rounds(*ab_v2), (std::map<std::string, int64_t>{
                                  {"client-0", 1}, {"client-1", 2}}));
    EXPECT_EQ(Store(**core, "c").WaitForNewer(2, absl::Milliseconds(300)),
              nullptr);

    FederationStatus status = (*core)->Status();
    ASSERT_EQ(status.aggregates.size(), 2u);
    EXPECT_EQ(status.aggregates[0].name, "ab");
    EXPECT_EQ(status.aggregates[0].current_version, 2);
    EXPECT_EQ(status.aggregates[1].name, "c");
    EXPECT_EQ(status.aggregates[1].current_version, 2);
    EXPECT_EQ(status.aggregates[1].weights.at("client-2"), 2.0);

    // Sampled by name; an unknown name is NotFound, naming the known ones.
    SampleQuery query;
    query.num_samples = 5;
    query.seed = 1;
    query.aggregate = "c";
    int64_t served_version = 0;
    int64_t received = 0;
    ASSERT_TRUE(
        (*core)
            ->sampler()
            .Sample(query,
                    [&](int64_t version, std::vector<SampledObject> batch) {
                      served_version = version;
                      received += static_cast<int64_t>(batch.size());
                      return true;
                    })
            .ok());
    EXPECT_EQ(served_version, 2);
    EXPECT_EQ(received, 5);
    query.aggregate = "nope";
    absl::Status unknown = (*core)->sampler().Sample(
        query, [](int64_t, std::vector<SampledObject>) { return true; });
    EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound) << unknown;
    EXPECT_THAT(std::string(unknown.message()),
                HasSubstr("no aggregate named 'nope' (known: default, ab, c)"));
    query.aggregate = "ab";
    query.model_version = 7;
    absl::Status missing = (*core)->sampler().Sample(
        query, [](int64_t, std::vector<SampledObject>) { return true; });
    EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
    EXPECT_THAT(std::string(missing.message()),
                HasSubstr("version 7 of aggregate 'ab' does not exist"));
    SummaryQuery summary;
    summary.aggregate = "ab";
    summary.num_samples = 20;
    summary.seed = 2;
    absl::StatusOr<PosteriorSummary> summarized =
        (*core)->summarizer().Summarize(summary, [] { return true; });
    ASSERT_TRUE(summarized.ok()) << summarized.status();
    EXPECT_EQ(summarized->model_version, 2);
  }
  // A restart recovers each sequence from its own folder, and nothing is
  // re-aggregated (every version covers its clients' rounds).
  auto restarted = ServerCore::Create(config, FastOptions(state_dir));
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  GlobalVersionPtr ab = Store(**restarted, "ab").Latest();
  ASSERT_NE(ab, nullptr);
  EXPECT_EQ(ab->version, 2);
  EXPECT_EQ(ab->client_weights.at("client-1"), 0.5);
  EXPECT_EQ(Store(**restarted, "ab").WaitForNewer(2, absl::Milliseconds(300)),
            nullptr);
}

TEST(NamedAggregatesTest, RestartWithOtherWeightsStartsAfresh) {
  const std::string state_dir = test_support::FreshDirectory("reweighted");
  auto config = *FederationConfigFromSpec(NamedSpec());
  {
    auto core = ServerCore::Create(config, FastOptions(state_dir));
    ASSERT_TRUE(core.ok()) << core.status();
    ASSERT_TRUE((*core)->SubmitUpload(MakeUpload(*config, 2, 1)).ok());
    ASSERT_NE(WaitFor(**core, "c", 0), nullptr);
  }
  v1::FederationSpec spec = NamedSpec();
  (*spec.mutable_aggregate(1)->mutable_weights())["client-2"] = 3.0;
  auto reweighted = *FederationConfigFromSpec(spec);
  auto core = ServerCore::Create(reweighted, FastOptions(state_dir));
  ASSERT_TRUE(core.ok()) << core.status();
  // The old version is not served under the new weights; the new weights
  // are aggregated from the upload already accepted.
  GlobalVersionPtr fresh = WaitFor(**core, "c", 0);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->client_weights.at("client-2"), 3.0);
}

TEST(NamedAggregatesTest, OnlyExcludedClientsIsNotPublishedAndSaysWhy) {
  v1::FederationSpec spec = NamedSpec();
  spec.mutable_exclusion()->set_max_alpha(0.5);
  spec.set_quorum(2);  // So that the default aggregates the two others.
  auto config = *FederationConfigFromSpec(spec);
  auto core = ServerCore::Create(
      config, FastOptions(test_support::FreshDirectory("named_excluded")));
  ASSERT_TRUE(core.ok()) << core.status();
  for (int i = 0; i < 3; ++i) {
    UploadRequest upload = MakeUpload(*config, i, 1);
    // client-2, "c"'s only client, is over the alpha limit.
    upload.diagnostics = LocalDiagnostics{i == 2 ? 0.9 : 0.1, 0.2, 0.0, 256};
    ASSERT_TRUE((*core)->SubmitUpload(upload).ok());
  }
  ASSERT_NE(WaitFor(**core, "ab", 0), nullptr);
  ASSERT_NE(WaitFor(**core, "", 0), nullptr);
  FederationStatus status = (*core)->Status();
  ASSERT_EQ(status.aggregates.size(), 2u);
  EXPECT_EQ(status.aggregates[1].current_version, 0);
  EXPECT_EQ(status.aggregates[1].aggregation.phase,
            AggregationPhase::kAllClientsExcluded);
  EXPECT_THAT(status.aggregates[1].aggregation.last_error,
              HasSubstr("every client of aggregate 'c' has its upload "
                        "excluded: client-2:1"));
  EXPECT_EQ(Store(**core, "c").Latest(), nullptr);
}

}  // namespace
}  // namespace epgfn
