// The hypergrid's posterior summaries: per-coordinate marginals.
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/env/hypergrid/hypergrid.h"
#include "common/eval/feature_summary.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

class HypergridFeatures : public FeatureSummarizer {
 public:
  HypergridFeatures(const HypergridEnvironment& environment,
                    std::vector<std::string> coordinate_names)
      : environment_(environment),
        coordinate_names_(std::move(coordinate_names)) {}

  absl::Status CheckObjects(const at::Tensor& states) const override {
    RETURN_IF_ERROR(CheckObjectShape(states, environment_.dim()));
    const at::Tensor bad =
        (states < 0).logical_or(states >= environment_.side()).any(1).nonzero();
    if (bad.size(0) > 0) {
      const int64_t row = bad[0][0].item<int64_t>();
      return absl::InvalidArgumentError(absl::StrCat(
          "object ", row, " is not a point of the ", environment_.side(), "^",
          environment_.dim(), " grid (coordinates lie in [0, ",
          environment_.side(), "))"));
    }
    return absl::OkStatus();
  }

  FeatureSummary Summarize(const at::Tensor& states) const override {
    FeatureSummary summary;
    summary.tables.push_back(CategoricalMarginals(
        "coordinate marginals: P(coordinate = value)", coordinate_names_,
        NumberedLabels("", environment_.side()), states));
    return summary;
  }

 private:
  const HypergridEnvironment& environment_;
  const std::vector<std::string> coordinate_names_;
};

absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakeHypergridFeatures(
    const Environment& environment, const FeatureLabels& labels) {
  const auto* grid = dynamic_cast<const HypergridEnvironment*>(&environment);
  if (grid == nullptr) {
    return absl::InvalidArgumentError("not a hypergrid environment");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   VariableNames(labels, grid->dim(), "grid coordinates", "x"));
  return std::unique_ptr<FeatureSummarizer>(
      new HypergridFeatures(*grid, std::move(names)));
}

EPGFN_REGISTER_FEATURE_SUMMARIZER("hypergrid", MakeHypergridFeatures);

}  // namespace
}  // namespace epgfn
