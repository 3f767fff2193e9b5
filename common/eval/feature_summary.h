#ifndef EPGFN_COMMON_EVAL_FEATURE_SUMMARY_H_
#define EPGFN_COMMON_EVAL_FEATURE_SUMMARY_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/environment.h"

namespace epgfn {

// Marginal probabilities of binary features of the objects, laid out as a
// table: cell (r, c) is P(feature (r, c) holds), e.g. P(x_r = c) for a grid
// coordinate or P(r -> c) for a DAG edge. Estimated from K independent
// samples as the fraction f of samples with the feature, whose Monte Carlo
// standard error is sqrt(f (1 - f) / K).
struct MarginalTable {
  // What the table holds, e.g. "coordinate marginals: P(x_r = c)".
  std::string name;
  std::vector<std::string> row_labels;
  std::vector<std::string> column_labels;
  // Row-major, rows() * columns() entries each.
  std::vector<double> probabilities;
  std::vector<double> standard_errors;

  int64_t rows() const { return static_cast<int64_t>(row_labels.size()); }
  int64_t columns() const { return static_cast<int64_t>(column_labels.size()); }
  double probability(int64_t row, int64_t column) const {
    return probabilities[row * columns() + column];
  }
  double standard_error(int64_t row, int64_t column) const {
    return standard_errors[row * columns() + column];
  }
};

// A summary that is a text, e.g. the majority-rule consensus tree in Newick.
struct SummaryText {
  std::string name;
  std::string text;
};

struct FeatureSummary {
  std::vector<MarginalTable> tables;
  std::vector<SummaryText> texts;
};

// Labels a request may give for the environment's variables (e.g. the DAG's
// node names); each summarizer checks them against its environment.
struct FeatureLabels {
  std::vector<std::string> variable_names;
};

// The summaries an environment offers over a batch of its objects. Made per
// environment kind by a registered factory (see
// EPGFN_REGISTER_FEATURE_SUMMARIZER); an environment folder adds one file
// that registers its summarizer and one line in
// //common/registry:all_feature_summarizers.
class FeatureSummarizer {
 public:
  virtual ~FeatureSummarizer() = default;

  // OK when every row of `states` ([K, raw_state_dim] int64, CPU) is an
  // object (terminal state) of the environment; else InvalidArgument naming
  // the first bad row. Objects from outside (a request) are checked with it
  // before anything else reads them.
  virtual absl::Status CheckObjects(const at::Tensor& states) const = 0;

  // The marginals of the objects `states` ([K, raw_state_dim] int64, CPU,
  // K >= 1, each checked by CheckObjects), taken as K independent draws.
  virtual FeatureSummary Summarize(const at::Tensor& states) const = 0;
};

using FeatureSummarizerFactory =
    std::function<absl::StatusOr<std::unique_ptr<FeatureSummarizer>>(
        const Environment&, const FeatureLabels&)>;

// Registers `factory` for environments of `kind`; used through
// EPGFN_REGISTER_FEATURE_SUMMARIZER.
bool RegisterFeatureSummarizer(const std::string& kind,
                               FeatureSummarizerFactory factory);

// The summarizer of `environment`'s kind; Unimplemented when its kind has
// none, InvalidArgument for labels it cannot use.
absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakeFeatureSummarizer(
    const Environment& environment, const FeatureLabels& labels = {});

// The table of marginals P(features[:, j] != 0) over the K rows of
// `features` ([K, rows * columns], any integer or bool dtype), with their
// standard errors.
MarginalTable IndicatorMarginals(std::string name,
                                 std::vector<std::string> row_labels,
                                 std::vector<std::string> column_labels,
                                 const at::Tensor& features);

// The table of P(values[:, r] = c) for c in 0..num_categories-1 over the K
// rows of `values` ([K, rows] int64 with entries in [0, num_categories)).
MarginalTable CategoricalMarginals(std::string name,
                                   std::vector<std::string> row_labels,
                                   std::vector<std::string> column_labels,
                                   const at::Tensor& values);

// "<prefix>0", "<prefix>1", ..., "<prefix>{count-1}".
std::vector<std::string> NumberedLabels(const std::string& prefix,
                                        int64_t count);

// The names of `count` variables: `labels.variable_names` when given (then
// exactly `count` distinct non-empty names, else InvalidArgument naming
// `what`, e.g. "DAG nodes"), else NumberedLabels(default_prefix, count).
absl::StatusOr<std::vector<std::string>> VariableNames(
    const FeatureLabels& labels, int64_t count, const std::string& what,
    const std::string& default_prefix);

// InvalidArgument unless `states` is [K, width] int64 with K >= 1.
absl::Status CheckObjectShape(const at::Tensor& states, int64_t width);

}  // namespace epgfn

// Adds a summarizer to the registry at static-initialisation time; the
// cc_library holding it must set alwayslink = True.
#define EPGFN_REGISTER_FEATURE_SUMMARIZER(kind, factory)   \
  static const bool epgfn_registered_feature_summarizer_ = \
      ::epgfn::RegisterFeatureSummarizer(kind, factory)

#endif  // EPGFN_COMMON_EVAL_FEATURE_SUMMARY_H_
