#include "common/eval/feature_summary.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace epgfn {
namespace {

struct Registry {
  absl::Mutex mutex;
  std::map<std::string, FeatureSummarizerFactory> factories
      ABSL_GUARDED_BY(mutex);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

// Fills the table's probabilities and standard errors from the column means
// of `indicators` ([K, cells] float64 of 0/1).
void FillFromIndicators(const torch::Tensor& indicators, MarginalTable& table) {
  const int64_t k = indicators.size(0);
  const torch::Tensor mean = indicators.mean(0).contiguous();
  const double* p = mean.data_ptr<double>();
  table.probabilities.assign(p, p + mean.numel());
  table.standard_errors.resize(table.probabilities.size());
  for (size_t i = 0; i < table.probabilities.size(); ++i) {
    const double f = table.probabilities[i];
    table.standard_errors[i] =
        std::sqrt(std::max(0.0, f * (1.0 - f)) / static_cast<double>(k));
  }
}

}  // namespace

bool RegisterFeatureSummarizer(const std::string& kind,
                               FeatureSummarizerFactory factory) {
  Registry& registry = GetRegistry();
  absl::MutexLock lock(&registry.mutex);
  return registry.factories.emplace(kind, std::move(factory)).second;
}

absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakeFeatureSummarizer(
    const Environment& environment, const FeatureLabels& labels) {
  FeatureSummarizerFactory factory;
  {
    Registry& registry = GetRegistry();
    absl::MutexLock lock(&registry.mutex);
    auto it = registry.factories.find(environment.config().kind);
    if (it == registry.factories.end()) {
      std::vector<std::string> kinds;
      for (const auto& [kind, unused] : registry.factories) {
        kinds.push_back(kind);
      }
      return absl::UnimplementedError(
          absl::StrCat("no feature summaries for environment kind '",
                       environment.config().kind,
                       "'; summaries exist for: ", absl::StrJoin(kinds, ", ")));
    }
    factory = it->second;
  }
  return factory(environment, labels);
}

MarginalTable IndicatorMarginals(std::string name,
                                 std::vector<std::string> row_labels,
                                 std::vector<std::string> column_labels,
                                 const at::Tensor& features) {
  TORCH_CHECK(
      features.dim() == 2 &&
          features.size(1) ==
              static_cast<int64_t>(row_labels.size() * column_labels.size()) &&
          features.size(0) >= 1,
      "IndicatorMarginals: features must be [K >= 1, rows * columns]");
  MarginalTable table;
  table.name = std::move(name);
  table.row_labels = std::move(row_labels);
  table.column_labels = std::move(column_labels);
  FillFromIndicators(features.ne(0).to(torch::kCPU, torch::kFloat64), table);
  return table;
}

MarginalTable CategoricalMarginals(std::string name,
                                   std::vector<std::string> row_labels,
                                   std::vector<std::string> column_labels,
                                   const at::Tensor& values) {
  const int64_t rows = static_cast<int64_t>(row_labels.size());
  const int64_t categories = static_cast<int64_t>(column_labels.size());
  TORCH_CHECK(
      values.dim() == 2 && values.size(1) == rows && values.size(0) >= 1,
      "CategoricalMarginals: values must be [K >= 1, rows]");
  // One-hot: [K, rows, categories] flattened row-major to [K, rows *
  // categories], the table's layout.
  const torch::Tensor one_hot =
      torch::one_hot(values.to(torch::kCPU, torch::kInt64), categories)
          .reshape({values.size(0), rows * categories});
  MarginalTable table;
  table.name = std::move(name);
  table.row_labels = std::move(row_labels);
  table.column_labels = std::move(column_labels);
  FillFromIndicators(one_hot.to(torch::kFloat64), table);
  return table;
}

std::vector<std::string> NumberedLabels(const std::string& prefix,
                                        int64_t count) {
  std::vector<std::string> labels;
  labels.reserve(count);
  for (int64_t i = 0; i < count; ++i) labels.push_back(absl::StrCat(prefix, i));
  return labels;
}

absl::StatusOr<std::vector<std::string>> VariableNames(
    const FeatureLabels& labels, int64_t count, const std::string& what,
    const std::string& default_prefix) {
  const std::vector<std::string>& names = labels.variable_names;
  if (names.empty()) return NumberedLabels(default_prefix, count);
  if (static_cast<int64_t>(names.size()) != count) {
    return absl::InvalidArgumentError(
        absl::StrCat("variable_names: ", names.size(), " names given for ",
                     count, " ", what));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty() || !seen.insert(names[i]).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "variable_names[", i, "] is ",
          names[i].empty() ? "empty"
                           : absl::StrCat("a repeat of '", names[i], "'"),
          "; ", what, " need distinct non-empty names"));
    }
  }
  return names;
}

absl::Status CheckObjectShape(const at::Tensor& states, int64_t width) {
  if (states.dim() != 2 || states.size(0) < 1 || states.size(1) != width ||
      states.scalar_type() != torch::kInt64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "objects must be a non-empty [K, ", width,
        "] int64 batch (each object has ", width, " state integers), got ",
        states.dim() == 2
            ? absl::StrCat("[", states.size(0), ", ", states.size(1), "]")
            : absl::StrCat(states.dim(), " dimensions")));
  }
  return absl::OkStatus();
}

}  // namespace epgfn
