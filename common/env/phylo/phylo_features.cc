// The tree posterior's summaries: clade frequencies (the rooted splits) and
// the majority-rule consensus tree in Newick with clade support, computed
// with the clade and consensus library of common/eval/phylo.
#include <torch/types.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/phylo/phylo.h"
#include "common/eval/feature_summary.h"
#include "common/eval/phylo/consensus.h"
#include "common/eval/phylo/rooted_tree.h"
#include "common/eval/phylo/splits.h"
#include "common/eval/phylo/tree_state.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// The clade table lists at most this many clades, the most frequent; a
// posterior spread over many trees has far more clades than anyone reads.
constexpr size_t kMaxCladeRows = 500;

class PhyloFeatures : public FeatureSummarizer {
 public:
  explicit PhyloFeatures(const PhyloEnvironment& environment)
      : environment_(environment) {}

  absl::Status CheckObjects(const at::Tensor& states) const override {
    const int n = static_cast<int>(environment_.num_taxa());
    RETURN_IF_ERROR(CheckObjectShape(states, n - 1));
    const at::Tensor cpu = states.contiguous();
    const int64_t* rows = cpu.data_ptr<int64_t>();
    for (int64_t r = 0; r < cpu.size(0); ++r) {
      const int64_t* row = rows + r * (n - 1);
      const std::vector<Clade> clades(row, row + n - 1);
      // States are canonical: the clades sorted decreasingly.
      bool valid = std::is_sorted(row, row + n - 1, std::greater<int64_t>()) &&
                   std::all_of(row, row + n - 1, [&](int64_t c) {
                     return c > 0 && c <= static_cast<int64_t>(AllTaxa(n));
                   });
      valid = valid && RootedTree::FromClades(n, clades).ok();
      if (!valid) {
        return absl::InvalidArgumentError(absl::StrCat(
            "object ", r, " is not a rooted binary tree on ", n, " taxa (its ",
            n - 1, " internal clades as taxon bitmasks, sorted decreasingly)"));
      }
    }
    return absl::OkStatus();
  }

  FeatureSummary Summarize(const at::Tensor& states) const override {
    const int n = static_cast<int>(environment_.num_taxa());
    // Checked objects are complete trees.
    const std::vector<std::vector<Clade>> trees =
        TreesOfStates(states, n).value();
    const CladeFrequencies frequencies = CountClades(n, trees);
    std::vector<std::pair<Clade, double>> ranked(frequencies.frequency.begin(),
                                                 frequencies.frequency.end());
    std::stable_sort(
        ranked.begin(), ranked.end(),
        [](const auto& a, const auto& b) { return a.second > b.second; });
    const size_t rows = std::min(ranked.size(), kMaxCladeRows);
    // Counted as 0/1 indicators, the table's standard errors follow.
    const int64_t k = states.size(0);
    at::Tensor indicators =
        torch::zeros({k, static_cast<int64_t>(rows)}, torch::kInt64);
    std::vector<std::string> labels;
    absl::flat_hash_map<Clade, int64_t> column;
    for (size_t j = 0; j < rows; ++j) {
      labels.push_back(CladeLabel(ranked[j].first));
      column[ranked[j].first] = static_cast<int64_t>(j);
    }
    auto* out = indicators.data_ptr<int64_t>();
    for (int64_t t = 0; t < k; ++t) {
      for (Clade clade : trees[t]) {
        if (auto it = column.find(clade); it != column.end()) {
          out[t * static_cast<int64_t>(rows) + it->second] = 1;
        }
      }
    }
    FeatureSummary summary;
    summary.tables.push_back(IndicatorMarginals(
        rows < ranked.size()
            ? absl::StrCat("clade frequencies (the ", rows,
                           " most frequent of ", ranked.size(), ")")
            : std::string("clade frequencies"),
        std::move(labels), {"frequency"}, indicators));
    summary.texts.push_back(
        {"majority_rule_consensus",
         MajorityRuleConsensus(frequencies, environment_.taxa())
             .value()
             .newick});
    return summary;
  }

 private:
  // "{Homo_sapiens,Pan}": the clade's taxa in index order.
  std::string CladeLabel(Clade clade) const {
    std::vector<std::string> members;
    for (int b = 0; b < environment_.num_taxa(); ++b) {
      if (clade >> b & 1) members.push_back(environment_.taxa()[b]);
    }
    return absl::StrCat("{", absl::StrJoin(members, ","), "}");
  }

  const PhyloEnvironment& environment_;
};

absl::StatusOr<std::unique_ptr<FeatureSummarizer>> MakePhyloFeatures(
    const Environment& environment, const FeatureLabels& labels) {
  const auto* phylo = dynamic_cast<const PhyloEnvironment*>(&environment);
  if (phylo == nullptr) {
    return absl::InvalidArgumentError("not a phylo environment");
  }
  if (!labels.variable_names.empty()) {
    return absl::InvalidArgumentError(
        "variable_names do not apply to trees: the taxa are named by the "
        "environment");
  }
  return std::unique_ptr<FeatureSummarizer>(new PhyloFeatures(*phylo));
}

EPGFN_REGISTER_FEATURE_SUMMARIZER("phylo", MakePhyloFeatures);

}  // namespace
}  // namespace epgfn
