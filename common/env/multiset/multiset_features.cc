// The multiset's posterior summaries: the distribution of each item's count.
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/env/multiset/multiset.h"
#include "common/eval/feature_summary.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

class MultisetFeatures : public FeatureSummarizer {
 public:
  MultisetFeatures(const MultisetEnvironment& environment,
                   std::vector<std::string> item_names)
      : environment_(environment), item_names_(std::move(item_names)) {}

  absl::Status CheckObjects(const at::Tensor& states) const override {
    RETURN_IF_ERROR(CheckObjectShape(states, environment_.items()));
    const at::Tensor bad = (states < 0)
                               .any(1)
                               .logical_or(states.sum(1) != environment_.size())
                               .nonzero();
    if (bad.size(0) > 0) {
      const int64_t row = bad[0][0].item<int64_t>();
      return absl::InvalidArgumentError(absl::StrCat(
          "object ", row, " is not a multiset of ", environment_.size(),
          " items (counts must be >= 0 and add up to ", environment_.size(),
          ")"));
    }
    return absl::OkStatus();
  }

  FeatureSummary Summarize(const at::Tensor& states) const override {
    FeatureSummary summary;
    summary.tables.push_back(CategoricalMarginals(
        "item counts: P(count of item = value)", item_names_,
        NumberedLabels("", environment_.size() + 1), states));
    return summary;
  }

 private:
  const MultisetEnvironment& environment_;
  const std::vector<std::string> item_names_;
};

absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakeMultisetFeatures(
    const Environment& environment, const FeatureLabels& labels) {
  const auto* multiset = dynamic_cast<const MultisetEnvironment*>(&environment);
  if (multiset == nullptr) {
    return absl::InvalidArgumentError("not a multiset environment");
  }
  ASSIGN_OR_RETURN(
      std::vector<std::string> names,
      VariableNames(labels, multiset->items(), "multiset items", "item"));
  return std::unique_ptr<FeatureSummarizer>(
      new MultisetFeatures(*multiset, std::move(names)));
}

EPGFN_REGISTER_FEATURE_SUMMARIZER("multiset", MakeMultisetFeatures);

}  // namespace
}  // namespace epgfn
