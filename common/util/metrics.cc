#include "common/util/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

void AtomicAdd(std::atomic<double>& target, double amount) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + amount,
                                       std::memory_order_relaxed)) {
  }
}

// Names are fixed by the code, so a bad character is a typo; it is replaced
// rather than allowed to break the whole exposition.
std::string SanitizeName(const std::string& name, bool allow_colon) {
  std::string out = name.empty() ? "_" : name;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_' || (allow_colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) out[i] = '_';
  }
  return out;
}

std::vector<std::string> SanitizeLabelNames(std::vector<std::string> names) {
  for (std::string& name : names) name = SanitizeName(name, false);
  return names;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` (with `extra`, e.g. `le="0.5"`, last), or "" when there
// is nothing to write.
std::string LabelText(const std::vector<std::string>& names,
                      const std::vector<std::string>& values,
                      const std::string& extra = "") {
  std::vector<std::string> pairs;
  for (size_t i = 0; i < names.size(); ++i) {
    pairs.push_back(
        absl::StrCat(names[i], "=\"", EscapeLabelValue(values[i]), "\""));
  }
  if (!extra.empty()) pairs.push_back(extra);
  if (pairs.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += ",";
    out += pairs[i];
  }
  return out + "}";
}

template <typename Metric>
constexpr const char* TypeName() {
  if constexpr (std::is_same_v<Metric, Counter>) {
    return "counter";
  } else if constexpr (std::is_same_v<Metric, Gauge>) {
    return "gauge";
  } else {
    return "histogram";
  }
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

void Counter::Increment(double amount) {
  if (!(amount >= 0.0)) return;
  AtomicAdd(value_, amount);
}

void Gauge::Add(double amount) { AtomicAdd(value_, amount); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_([&] {
        std::sort(upper_bounds.begin(), upper_bounds.end());
        upper_bounds.erase(
            std::unique(upper_bounds.begin(), upper_bounds.end()),
            upper_bounds.end());
        upper_bounds.erase(
            std::remove_if(upper_bounds.begin(), upper_bounds.end(),
                           [](double bound) { return !std::isfinite(bound); }),
            upper_bounds.end());
        return upper_bounds;
      }()),
      buckets_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]) {
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double value) {
  // NaN lands in the +Inf bucket, as in the Prometheus client libraries.
  const size_t bucket = std::isnan(value)
                            ? upper_bounds_.size()
                            : std::lower_bound(upper_bounds_.begin(),
                                               upper_bounds_.end(), value) -
                                  upper_bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= upper_bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(cumulative);
  }
  snapshot.count = cumulative;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> LatencyBucketsSeconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1,      2.5,   5,    10,    30,   60};
}

template <typename Metric>
MetricFamily<Metric>::MetricFamily(std::string name, std::string help,
                                   std::vector<std::string> label_names,
                                   std::vector<double> histogram_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      histogram_bounds_(std::move(histogram_bounds)) {}

template <typename Metric>
Metric& MetricFamily<Metric>::Labels(
    const std::vector<std::string>& label_values) {
  std::vector<std::string> key = label_values;
  key.resize(label_names_.size());
  absl::MutexLock lock(&mutex_);
  std::unique_ptr<Metric>& metric = series_[key];
  if (metric == nullptr) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      metric = std::make_unique<Histogram>(histogram_bounds_);
    } else {
      metric = std::make_unique<Metric>();
    }
  }
  return *metric;
}

template <typename Metric>
void MetricFamily<Metric>::Render(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ", EscapeHelp(help_), "\n");
  absl::StrAppend(out, "# TYPE ", name_, " ", TypeName<Metric>(), "\n");
  absl::MutexLock lock(&mutex_);
  for (const auto& [values, metric] : series_) {
    if constexpr (std::is_same_v<Metric, Histogram>) {
      const Histogram::Snapshot snapshot = metric->snapshot();
      for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
        const std::string bound =
            i < snapshot.upper_bounds.size()
                ? FormatMetricValue(snapshot.upper_bounds[i])
                : "+Inf";
        absl::StrAppend(
            out, name_, "_bucket",
            LabelText(label_names_, values, absl::StrCat("le=\"", bound, "\"")),
            " ", snapshot.cumulative_counts[i], "\n");
      }
      const std::string labels = LabelText(label_names_, values);
      absl::StrAppend(out, name_, "_sum", labels, " ",
                      FormatMetricValue(snapshot.sum), "\n");
      absl::StrAppend(out, name_, "_count", labels, " ", snapshot.count, "\n");
    } else {
      absl::StrAppend(out, name_, LabelText(label_names_, values), " ",
                      FormatMetricValue(metric->value()), "\n");
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

MetricsRegistry& MetricsRegistry::Default() {
  static MetricsRegistry* registry = new MetricsRegistry;
  return *registry;
}

MetricFamily<Counter>& MetricsRegistry::AddCounter(
    const std::string& name, const std::string& help,
    std::vector<std::string> label_names) {
  const std::string key = SanitizeName(name, true);
  absl::MutexLock lock(&mutex_);
  Entry& entry = families_[key];
  if (entry.counter == nullptr) {
    entry.counter.reset(new MetricFamily<Counter>(
        key, help, SanitizeLabelNames(std::move(label_names))));
    if (entry.counter->label_names_.empty()) entry.counter->Get();
  }
  return *entry.counter;
}

MetricFamily<Gauge>& MetricsRegistry::AddGauge(
    const std::string& name, const std::string& help,
    std::vector<std::string> label_names) {
  const std::string key = SanitizeName(name, true);
  absl::MutexLock lock(&mutex_);
  Entry& entry = families_[key];
  if (entry.gauge == nullptr) {
    entry.gauge.reset(new MetricFamily<Gauge>(
        key, help, SanitizeLabelNames(std::move(label_names))));
    if (entry.gauge->label_names_.empty()) entry.gauge->Get();
  }
  return *entry.gauge;
}

MetricFamily<Histogram>& MetricsRegistry::AddHistogram(
    const std::string& name, const std::string& help,
    std::vector<double> upper_bounds, std::vector<std::string> label_names) {
  const std::string key = SanitizeName(name, true);
  label_names = SanitizeLabelNames(std::move(label_names));
  // "le" is the bucket label itself.
  for (std::string& label : label_names) {
    if (label == "le") label = "le_";
  }
  absl::MutexLock lock(&mutex_);
  Entry& entry = families_[key];
  if (entry.histogram == nullptr) {
    entry.histogram.reset(new MetricFamily<Histogram>(
        key, help, std::move(label_names), std::move(upper_bounds)));
    if (entry.histogram->label_names_.empty()) entry.histogram->Get();
  }
  return *entry.histogram;
}

std::string MetricsRegistry::TextFormat() const {
  std::string out;
  absl::MutexLock lock(&mutex_);
  for (const auto& [name, entry] : families_) {
    // One kind per name: a name registered again as another kind is a
    // programming error, and only one of them is exposed.
    if (entry.counter != nullptr) {
      entry.counter->Render(&out);
    } else if (entry.gauge != nullptr) {
      entry.gauge->Render(&out);
    } else if (entry.histogram != nullptr) {
      entry.histogram->Render(&out);
    }
  }
  return out;
}

}  // namespace epgfn
