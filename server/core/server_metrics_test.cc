// The core's metrics move with what happens: uploads accepted and refused by
// reason, aggregation runs and progress, the published version, samples.
#include "server/core/server_metrics.h"

#include <prometheus/text_serializer.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/core/server_core.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

TEST(ServerMetricsTest, CountersFollowUploadsRefusalsAggregationAndSamples) {
  const ServerMetrics& metrics = GetServerMetrics();
  auto config = test_support::SmallHypergridConfig(2, 40);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("metrics"), torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ(metrics.published_version.Value(), 0);
  // Not yet computed reads -1, never a perfect 0.
  EXPECT_EQ(metrics.aggregation_fcs_to_local_product.Value(), -1);

  prometheus::Counter& unknown =
      metrics.uploads_refused.Add({{"reason", "unknown_client"}});
  prometheus::Counter& digest =
      metrics.uploads_refused.Add({{"reason", "digest_mismatch"}});
  prometheus::Counter& accepted0 =
      metrics.uploads_accepted.Add({{"client", "client-0"}});
  prometheus::Counter& published =
      metrics.aggregation_runs.Add({{"result", "published"}});
  const double unknown_before = unknown.Value();
  const double digest_before = digest.Value();
  const double accepted_before = accepted0.Value();
  const double published_before = published.Value();
  const double samples_before = metrics.samples_served.Value();

  EXPECT_FALSE(
      (*core)->CheckUploadHeader("mallory", config->spec_digest, 1).ok());
  EXPECT_FALSE((*core)->CheckUploadHeader("client-0", "other", 1).ok());
  EXPECT_EQ(unknown.Value(), unknown_before + 1);
  EXPECT_EQ(digest.Value(), digest_before + 1);
  EXPECT_EQ(accepted0.Value(), accepted_before);

  for (int i = 0; i < 2; ++i) {
    UploadRequest request;
    request.client_id = absl::StrCat("client-", i);
    request.spec_digest = config->spec_digest;
    request.round = 1;
    request.payload = test_support::LocalModelPayload(*config, i, 2, 0);
    // client-0 reports an FCS, client-1 diagnostics without one.
    request.diagnostics = LocalDiagnostics();
    if (i == 0) request.diagnostics->fcs = 0.125;
    ASSERT_TRUE((*core)->SubmitUpload(request).ok());
  }
  EXPECT_EQ(accepted0.Value(), accepted_before + 1);
  EXPECT_EQ(metrics.client_fcs.Add({{"client", "client-0"}}).Value(), 0.125);
  EXPECT_EQ(metrics.client_fcs.Add({{"client", "client-1"}}).Value(), -1);

  GlobalVersionPtr v1 = (*core)->models().WaitForNewer(0, absl::Seconds(60));
  ASSERT_NE(v1, nullptr);
  // Published and counted in the same pass of the coordinator; wait for the
  // run to be recorded rather than assume an order.
  for (int i = 0; i < 600 && published.Value() == published_before; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(published.Value(), published_before + 1);
  EXPECT_EQ(metrics.published_version.Value(), 1);
  EXPECT_EQ(metrics.aggregation_iteration.Value(), 40);
  EXPECT_EQ(metrics.aggregation_total_iterations.Value(), 40);
  EXPECT_EQ(metrics.aggregation_running.Value(), 0);
  EXPECT_GE(metrics.aggregation_fcs_to_local_product.Value(), 0.0);
  EXPECT_LE(metrics.aggregation_fcs_to_local_product.Value(), 1.0);

  SampleQuery query;
  query.num_samples = 25;
  query.seed = 1;
  ASSERT_TRUE(
      (*core)
          ->sampler()
          .Sample(query,
                  [](int64_t, std::vector<SampledObject>) { return true; })
          .ok());
  EXPECT_EQ(metrics.samples_served.Value(), samples_before + 25);

  // And the same numbers in the exposition.
  const std::string text = prometheus::TextSerializer().Serialize(
      ServerMetricsRegistry()->Collect());
  EXPECT_TRUE(absl::StrContains(text, "\nepgfn_published_version 1\n")) << text;
  EXPECT_TRUE(
      absl::StrContains(text, "\nepgfn_aggregation_fcs_to_local_product "))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text,
      absl::StrCat("\nepgfn_uploads_refused_total{reason=\"unknown_client\"} ",
                   unknown.Value(), "\n")))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text, "\nepgfn_client_fcs{client=\"client-0\"} 0.125\n"))
      << text;

  // A restarted server reports the FCS of the uploads it recovers.
  core->reset();
  metrics.client_fcs.Add({{"client", "client-0"}}).Set(0.5);
  auto restarted = ServerCore::Create(config, options);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ(metrics.client_fcs.Add({{"client", "client-0"}}).Value(), 0.125);
}

// A named aggregate's FCS to its local product, labelled with its name.
TEST(ServerMetricsTest, NamedAggregateFcsIsLabelledWithItsName) {
  v1::FederationSpec spec = test_support::SmallHypergridSpec(2, 40);
  v1::NamedAggregate* named = spec.add_aggregate();
  named->set_name("tempered");
  (*named->mutable_weights())["client-0"] = 0.5;
  (*named->mutable_weights())["client-1"] = 1.0;
  auto config = *FederationConfigFromSpec(spec);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("metrics_named"), torch::kCPU, 1000);
  options.coordinator.progress_every = 20;
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  const auto exposition = [] {
    return prometheus::TextSerializer().Serialize(
        ServerMetricsRegistry()->Collect());
  };
  constexpr char kSeries[] =
      "\nepgfn_aggregate_fcs_to_local_product{aggregate=\"tempered\"} ";
  EXPECT_FALSE(absl::StrContains(exposition(), kSeries));

  for (int i = 0; i < 2; ++i) {
    UploadRequest request;
    request.client_id = absl::StrCat("client-", i);
    request.spec_digest = config->spec_digest;
    request.round = 1;
    request.payload = test_support::LocalModelPayload(*config, i, 2, 0);
    ASSERT_TRUE((*core)->SubmitUpload(request).ok());
  }
  absl::StatusOr<const ModelStore*> store = (*core)->FindModels("tempered");
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_NE((*store)->WaitForNewer(0, absl::Seconds(60)), nullptr);
  // Measured before publication, so set by now.
  EXPECT_TRUE(absl::StrContains(exposition(), kSeries)) << exposition();
  const double fcs =
      GetServerMetrics()
          .aggregate_fcs_to_local_product.Add({{"aggregate", "tempered"}})
          .Value();
  EXPECT_GT(fcs, 0.0);  // a 40-iteration model is not exact
  EXPECT_LE(fcs, 1.0);
}

}  // namespace
}  // namespace epgfn
