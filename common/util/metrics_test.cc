#include "common/util/metrics.h"

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(MetricsTest, ExactTextFormat) {
  MetricsRegistry registry;
  MetricFamily<Counter>& refused = registry.AddCounter(
      "epgfn_uploads_refused_total", "Uploads refused, by reason.", {"reason"});
  refused.Labels({"stale_round"}).Increment();
  refused.Labels({"digest_mismatch"}).Increment(2);
  refused.Labels({"stale_round"}).Increment();
  registry.AddGauge("epgfn_published_version", "Latest published version.")
      .Get()
      .Set(3);
  registry.AddCounter("epgfn_untouched_total", "Starts at zero.");
  MetricFamily<Histogram>& latency = registry.AddHistogram(
      "epgfn_rpc_duration_seconds", "Latency.", {0.5, 0.125, 1}, {"method"});
  Histogram& sample = latency.Labels({"Sample"});
  sample.Observe(0.0625);
  sample.Observe(0.125);  // bounds are inclusive
  sample.Observe(0.75);
  sample.Observe(4);

  EXPECT_EQ(
      registry.TextFormat(),
      "# HELP epgfn_published_version Latest published version.\n"
      "# TYPE epgfn_published_version gauge\n"
      "epgfn_published_version 3\n"
      "# HELP epgfn_rpc_duration_seconds Latency.\n"
      "# TYPE epgfn_rpc_duration_seconds histogram\n"
      "epgfn_rpc_duration_seconds_bucket{method=\"Sample\",le=\"0.125\"} 2\n"
      "epgfn_rpc_duration_seconds_bucket{method=\"Sample\",le=\"0.5\"} 2\n"
      "epgfn_rpc_duration_seconds_bucket{method=\"Sample\",le=\"1\"} 3\n"
      "epgfn_rpc_duration_seconds_bucket{method=\"Sample\",le=\"+Inf\"} "
      "4\n"
      "epgfn_rpc_duration_seconds_sum{method=\"Sample\"} 4.9375\n"
      "epgfn_rpc_duration_seconds_count{method=\"Sample\"} 4\n"
      "# HELP epgfn_untouched_total Starts at zero.\n"
      "# TYPE epgfn_untouched_total counter\n"
      "epgfn_untouched_total 0\n"
      "# HELP epgfn_uploads_refused_total Uploads refused, by reason.\n"
      "# TYPE epgfn_uploads_refused_total counter\n"
      "epgfn_uploads_refused_total{reason=\"digest_mismatch\"} 2\n"
      "epgfn_uploads_refused_total{reason=\"stale_round\"} 2\n");
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  MetricsRegistry registry;
  registry.AddCounter("c_total", "a\\b\nc", {"client"})
      .Labels({"x\"y\\z\nw"})
      .Increment();
  EXPECT_EQ(registry.TextFormat(),
            "# HELP c_total a\\\\b\\nc\n"
            "# TYPE c_total counter\n"
            "c_total{client=\"x\\\"y\\\\z\\nw\"} 1\n");
}

TEST(MetricsTest, BadNamesAreSanitizedAndLabelCountsFixed) {
  MetricsRegistry registry;
  MetricFamily<Gauge>& gauge =
      registry.AddGauge("9bad-name", "h", {"a-b", "c"});
  gauge.Labels({"only"}).Set(1);             // missing value -> ""
  gauge.Labels({"x", "y", "extra"}).Set(2);  // extra value dropped
  EXPECT_EQ(registry.TextFormat(),
            "# HELP _bad_name h\n"
            "# TYPE _bad_name gauge\n"
            "_bad_name{a_b=\"only\",c=\"\"} 1\n"
            "_bad_name{a_b=\"x\",c=\"y\"} 2\n");
}

TEST(MetricsTest, ValuesFormatShortestRoundTrip) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(-2.5), "-2.5");
  EXPECT_EQ(FormatMetricValue(1e-5), "1e-05");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()),
            "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsTest, RegisteringAgainReturnsTheSameFamily) {
  MetricsRegistry registry;
  MetricFamily<Counter>& first = registry.AddCounter("x_total", "h", {"a"});
  MetricFamily<Counter>& second = registry.AddCounter("x_total", "h", {"a"});
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(&first.Labels({"1"}), &second.Labels({"1"}));
}

TEST(MetricsTest, CountersNeverGoDownGaugesDo) {
  Counter counter;
  counter.Increment(2);
  counter.Increment(-1);
  counter.Increment(std::nan(""));
  EXPECT_EQ(counter.value(), 2);
  Gauge gauge;
  gauge.Set(5);
  gauge.Add(-7.5);
  EXPECT_EQ(gauge.value(), -2.5);
}

TEST(MetricsTest, HistogramCountsEveryObservation) {
  Histogram histogram({1, 2});
  histogram.Observe(-1);
  histogram.Observe(1);
  histogram.Observe(1.5);
  histogram.Observe(std::numeric_limits<double>::infinity());
  histogram.Observe(std::nan(""));
  const Histogram::Snapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.upper_bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{2, 3, 5}));
  EXPECT_EQ(snapshot.count, 5u);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  MetricFamily<Counter>& family = registry.AddCounter("n_total", "h", {"t"});
  Histogram& histogram = registry.AddHistogram("h_seconds", "h", {0.5}).Get();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        family.Labels({"shared"}).Increment();
        histogram.Observe(1);
      }
    });
  }
  // Rendering concurrently with updates must be safe.
  for (int i = 0; i < 20; ++i) registry.TextFormat();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(family.Labels({"shared"}).value(), kThreads * kPerThread);
  EXPECT_EQ(histogram.snapshot().count, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(histogram.snapshot().sum, kThreads * kPerThread);
}

TEST(MetricsTest, DefaultRegistryIsOneInstance) {
  EXPECT_EQ(&MetricsRegistry::Default(), &MetricsRegistry::Default());
}

}  // namespace
}  // namespace epgfn
