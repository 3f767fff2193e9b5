// The core's metrics move with what happens: uploads accepted and refused by
// reason, aggregation runs and progress, the published version, samples.
#include "server/core/server_metrics.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/core/server_core.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

TEST(ServerMetricsTest, CountersFollowUploadsRefusalsAggregationAndSamples) {
  const ServerMetrics& metrics = GetServerMetrics();
  auto config = testing::SmallHypergridConfig(2, 40);
  auto options = *ServerCoreOptions::Create(testing::FreshDirectory("metrics"),
                                            torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ(metrics.published_version.value(), 0);

  Counter& unknown = metrics.uploads_refused.Labels({"unknown_client"});
  Counter& digest = metrics.uploads_refused.Labels({"digest_mismatch"});
  Counter& accepted0 = metrics.uploads_accepted.Labels({"client-0"});
  Counter& published = metrics.aggregation_runs.Labels({"published"});
  const double unknown_before = unknown.value();
  const double digest_before = digest.value();
  const double accepted_before = accepted0.value();
  const double published_before = published.value();
  const double samples_before = metrics.samples_served.value();

  EXPECT_FALSE(
      (*core)->CheckUploadHeader("mallory", config->spec_digest, 1).ok());
  EXPECT_FALSE((*core)->CheckUploadHeader("client-0", "other", 1).ok());
  EXPECT_EQ(unknown.value(), unknown_before + 1);
  EXPECT_EQ(digest.value(), digest_before + 1);
  EXPECT_EQ(accepted0.value(), accepted_before);

  for (int i = 0; i < 2; ++i) {
    UploadRequest request;
    request.client_id = absl::StrCat("client-", i);
    request.spec_digest = config->spec_digest;
    request.round = 1;
    request.payload = testing::LocalModelPayload(*config, i, 2, 0);
    ASSERT_TRUE((*core)->SubmitUpload(request).ok());
  }
  EXPECT_EQ(accepted0.value(), accepted_before + 1);

  GlobalVersionPtr v1 = (*core)->models().WaitForNewer(0, absl::Seconds(60));
  ASSERT_NE(v1, nullptr);
  // Published and counted in the same pass of the coordinator; wait for the
  // run to be recorded rather than assume an order.
  for (int i = 0; i < 600 && published.value() == published_before; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(published.value(), published_before + 1);
  EXPECT_EQ(metrics.published_version.value(), 1);
  EXPECT_EQ(metrics.aggregation_iteration.value(), 40);
  EXPECT_EQ(metrics.aggregation_total_iterations.value(), 40);
  EXPECT_EQ(metrics.aggregation_running.value(), 0);

  SampleQuery query;
  query.num_samples = 25;
  query.seed = 1;
  ASSERT_TRUE(
      (*core)
          ->sampler()
          .Sample(query,
                  [](int64_t, std::vector<SampledObject>) { return true; })
          .ok());
  EXPECT_EQ(metrics.samples_served.value(), samples_before + 25);

  // And the same numbers in the exposition.
  const std::string text = MetricsRegistry::Default().TextFormat();
  EXPECT_TRUE(absl::StrContains(text, "\nepgfn_published_version 1\n")) << text;
  EXPECT_TRUE(absl::StrContains(
      text,
      absl::StrCat("\nepgfn_uploads_refused_total{reason=\"unknown_client\"} ",
                   unknown.value(), "\n")))
      << text;
}

}  // namespace
}  // namespace epgfn
