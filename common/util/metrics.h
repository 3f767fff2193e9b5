#ifndef EPGFN_COMMON_UTIL_METRICS_H_
#define EPGFN_COMMON_UTIL_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace epgfn {

// A tiny Prometheus-style metrics registry: counters, gauges and histograms
// with fixed buckets, optionally split by labels, rendered in the Prometheus
// text exposition format 0.0.4. Updating a metric is lock-free (atomics);
// only looking up a labelled series and rendering take a mutex, so hot paths
// should look a series up once and keep the reference (references stay valid
// for the registry's lifetime).

// A monotonically increasing value.
class Counter {
 public:
  // Negative amounts are ignored: a counter never goes down.
  void Increment(double amount = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into buckets with fixed upper bounds (inclusive, as
// Prometheus' `le`), plus their count and sum.
class Histogram {
 public:
  // `upper_bounds` are sorted and deduplicated, non-finite ones dropped;
  // the +Inf bucket is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    // Cumulative counts per bound (as rendered), then +Inf (== count).
    std::vector<uint64_t> cumulative_counts;
    uint64_t count = 0;
    double sum = 0.0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  // Non-cumulative; the last one counts values above every bound.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

// Bucket bounds for latencies in seconds, 1 ms .. 60 s.
std::vector<double> LatencyBucketsSeconds();

// The series of one metric name, one per combination of label values.
template <typename Metric>
class MetricFamily {
 public:
  // The series for `label_values`, given in the order of the family's label
  // names; created on first use. A wrong number of values is a programming
  // error: missing values are taken as "" and extra ones are dropped.
  Metric& Labels(const std::vector<std::string>& label_values);
  // The series of a family without labels.
  Metric& Get() { return Labels({}); }

 private:
  friend class MetricsRegistry;
  MetricFamily(std::string name, std::string help,
               std::vector<std::string> label_names,
               std::vector<double> histogram_bounds = {});
  // Appends this family's HELP, TYPE and sample lines to `out`.
  void Render(std::string* out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> histogram_bounds_;  // histograms only
  mutable absl::Mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_
      ABSL_GUARDED_BY(mutex_);
};

// Owns metric families by name and renders them. Thread-safe.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The process-wide registry that the server's metrics live in.
  static MetricsRegistry& Default();

  // Registering a name again returns the existing family when it is of the
  // same kind. Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label names
  // [a-zA-Z_][a-zA-Z0-9_]* (not "le" for histograms); counters should end in
  // "_total". A family without labels starts with its one series at 0.
  MetricFamily<Counter>& AddCounter(const std::string& name,
                                    const std::string& help,
                                    std::vector<std::string> label_names = {});
  MetricFamily<Gauge>& AddGauge(const std::string& name,
                                const std::string& help,
                                std::vector<std::string> label_names = {});
  MetricFamily<Histogram>& AddHistogram(
      const std::string& name, const std::string& help,
      std::vector<double> upper_bounds,
      std::vector<std::string> label_names = {});

  // Every family in the text exposition format, sorted by name, series
  // sorted by label values.
  std::string TextFormat() const;

 private:
  struct Entry {
    std::unique_ptr<MetricFamily<Counter>> counter;
    std::unique_ptr<MetricFamily<Gauge>> gauge;
    std::unique_ptr<MetricFamily<Histogram>> histogram;
  };
  mutable absl::Mutex mutex_;
  std::map<std::string, Entry> families_ ABSL_GUARDED_BY(mutex_);
};

// The MIME type of TextFormat().
inline constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

// How a sample value is written: the shortest decimal that reads back as the
// same double ("3", "0.25", "1e-05"), "+Inf", "-Inf" or "NaN".
std::string FormatMetricValue(double value);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_METRICS_H_
