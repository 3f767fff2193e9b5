// The DAG's posterior summaries: the d x d matrix of edge probabilities
// P(i -> j), with the variables' names.
#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/env/dag/dag.h"
#include "common/eval/feature_summary.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

class DagFeatures : public FeatureSummarizer {
 public:
  DagFeatures(const DagEnvironment& environment,
              std::vector<std::string> node_names)
      : environment_(environment), node_names_(std::move(node_names)) {}

  absl::Status CheckObjects(const at::Tensor& states) const override {
    const int64_t d = environment_.nodes();
    RETURN_IF_ERROR(CheckObjectShape(states, 2 * d * d));
    const at::Tensor adjacency = states.narrow(1, 0, d * d);
    const at::Tensor diagonal = adjacency.reshape({-1, d, d}).diagonal(0, 1, 2);
    const at::Tensor not_binary =
        (adjacency < 0).logical_or(adjacency > 1).any(1);
    const at::Tensor self_loop = diagonal.ne(0).any(1);
    if (const at::Tensor bad = not_binary.logical_or(self_loop).nonzero();
        bad.size(0) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("object ", bad[0][0].item<int64_t>(),
                       ": the adjacency matrix (the first d^2 = ", d * d,
                       " integers) must be 0/1 with a zero diagonal"));
    }
    // The closure of a graph with a cycle reaches a node from itself; for a
    // DAG it must equal the second half of the state (states are canonical).
    const at::Tensor expected = environment_.StatesFromAdjacency(adjacency);
    const at::Tensor cyclic = expected.narrow(1, d * d, d * d)
                                  .reshape({-1, d, d})
                                  .diagonal(0, 1, 2)
                                  .ne(0)
                                  .any(1);
    if (const at::Tensor bad = cyclic.nonzero(); bad.size(0) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "object ", bad[0][0].item<int64_t>(), " has a directed cycle"));
    }
    if (const at::Tensor bad = expected.ne(states).any(1).nonzero();
        bad.size(0) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "object ", bad[0][0].item<int64_t>(),
          ": the last d^2 integers must be the transitive closure of the "
          "adjacency matrix"));
    }
    return absl::OkStatus();
  }

  FeatureSummary Summarize(const at::Tensor& states) const override {
    const int64_t d = environment_.nodes();
    FeatureSummary summary;
    summary.tables.push_back(
        IndicatorMarginals("edge probabilities: P(row -> column)", node_names_,
                           node_names_, states.narrow(1, 0, d * d)));
    return summary;
  }

 private:
  const DagEnvironment& environment_;
  const std::vector<std::string> node_names_;
};

absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakeDagFeatures(
    const Environment& environment, const FeatureLabels& labels) {
  const auto* dag = dynamic_cast<const DagEnvironment*>(&environment);
  if (dag == nullptr)
    return absl::InvalidArgumentError("not a dag environment");
  // Unnamed variables are x0..x{d-1}, as the synthetic data name them.
  ASSIGN_OR_RETURN(std::vector<std::string> names,
                   VariableNames(labels, dag->nodes(), "DAG nodes", "x"));
  return std::unique_ptr<FeatureSummarizer>(
      new DagFeatures(*dag, std::move(names)));
}

EPGFN_REGISTER_FEATURE_SUMMARIZER("dag", MakeDagFeatures);

}  // namespace
}  // namespace epgfn
