// The sequence's posterior summaries: the token distribution at each
// position.
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/env/sequence/sequence.h"
#include "common/eval/feature_summary.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Tokens as Describe writes them: letters up to 26 tokens, else ids.
std::vector<std::string> TokenLabels(int64_t vocab) {
  if (vocab > 26) return NumberedLabels("", vocab);
  std::vector<std::string> labels;
  for (int64_t v = 0; v < vocab; ++v) {
    labels.emplace_back(1, static_cast<char>('A' + v));
  }
  return labels;
}

class SequenceFeatures : public FeatureSummarizer {
 public:
  SequenceFeatures(const SequenceEnvironment& environment,
                   std::vector<std::string> position_names)
      : environment_(environment), position_names_(std::move(position_names)) {}

  absl::Status CheckObjects(const at::Tensor& states) const override {
    RETURN_IF_ERROR(CheckObjectShape(states, environment_.length()));
    const at::Tensor bad = (states < 0)
                               .logical_or(states >= environment_.vocab())
                               .any(1)
                               .nonzero();
    if (bad.size(0) > 0) {
      const int64_t row = bad[0][0].item<int64_t>();
      return absl::InvalidArgumentError(absl::StrCat(
          "object ", row, " is not a complete sequence of ",
          environment_.length(), " tokens in [0, ", environment_.vocab(), ")"));
    }
    return absl::OkStatus();
  }

  FeatureSummary Summarize(const at::Tensor& states) const override {
    FeatureSummary summary;
    summary.tables.push_back(CategoricalMarginals(
        "per-position tokens: P(token at position = value)", position_names_,
        TokenLabels(environment_.vocab()), states));
    return summary;
  }

 private:
  const SequenceEnvironment& environment_;
  const std::vector<std::string> position_names_;
};

absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakeSequenceFeatures(
    const Environment& environment, const FeatureLabels& labels) {
  const auto* sequence = dynamic_cast<const SequenceEnvironment*>(&environment);
  if (sequence == nullptr) {
    return absl::InvalidArgumentError("not a sequence environment");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   VariableNames(labels, sequence->length(),
                                 "sequence positions", "position"));
  return std::unique_ptr<FeatureSummarizer>(
      new SequenceFeatures(*sequence, std::move(names)));
}

EPGFN_REGISTER_FEATURE_SUMMARIZER("sequence", MakeSequenceFeatures);

}  // namespace
}  // namespace epgfn
