#include "common/eval/phylo/consensus.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace epgfn {

absl::StatusOr<std::string> CladeTreeNewick(
    absl::Span<const Clade> clades, const std::vector<std::string>& names,
    const std::map<Clade, double>* support) {
  const int n = static_cast<int>(names.size());
  if (n < 2 || n > RootedTree::kMaxTaxa) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a tree needs 2 to ", RootedTree::kMaxTaxa, " taxon names, got ", n));
  }
  const Clade all = AllTaxa(n);
  // Nodes: the distinct non-trivial clades plus the root and the leaves.
  std::vector<Clade> nodes;
  for (Clade c : clades) {
    if ((c & ~all) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("clade ", c, " holds a taxon beyond the ", n, " names"));
    }
    if (CladeSize(c) >= 2 && c != all) nodes.push_back(c);
  }
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Clade meet = nodes[i] & nodes[j];
      if (meet != 0 && meet != nodes[i] && meet != nodes[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("clades ", nodes[j], " and ", nodes[i],
                         " overlap without nesting"));
      }
    }
  }
  nodes.push_back(all);
  for (int k = 0; k < n; ++k) nodes.push_back(Clade{1} << k);
  // Children of a clade: the maximal nodes strictly inside it.
  std::function<std::string(Clade)> write = [&](Clade clade) -> std::string {
    if (CladeSize(clade) == 1) return names[LowestTaxon(clade)];
    std::vector<Clade> children;
    for (Clade c : nodes) {
      if (c == clade || (c & ~clade) != 0) continue;
      bool maximal = true;
      for (Clade d : nodes) {
        if (d != clade && d != c && (d & ~clade) == 0 && (c & ~d) == 0) {
          maximal = false;
          break;
        }
      }
      if (maximal) children.push_back(c);
    }
    std::sort(children.begin(), children.end(),
              [](Clade a, Clade b) { return LowestTaxon(a) < LowestTaxon(b); });
    std::vector<std::string> parts;
    for (Clade c : children) parts.push_back(write(c));
    std::string text = absl::StrCat("(", absl::StrJoin(parts, ","), ")");
    if (support != nullptr && clade != all) {
      auto it = support->find(clade);
      if (it != support->end())
        absl::StrAppendFormat(&text, "%.2f", it->second);
    }
    return text;
  };
  return write(all) + ";";
}

absl::StatusOr<ConsensusTree> MajorityRuleConsensus(
    const CladeFrequencies& frequencies, const std::vector<std::string>& names,
    double threshold) {
  if (!(threshold >= 0.5 && threshold < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "consensus threshold must lie in [0.5, 1), got ", threshold));
  }
  if (static_cast<int>(names.size()) != frequencies.num_taxa) {
    return absl::InvalidArgumentError(
        absl::StrCat(names.size(), " taxon names for clade frequencies on ",
                     frequencies.num_taxa, " taxa"));
  }
  ConsensusTree result;
  std::map<Clade, double> support;
  for (const auto& [clade, f] : frequencies.frequency) {
    if (f > threshold) {
      result.clades.push_back(clade);
      support[clade] = f;
    }
  }
  std::sort(result.clades.begin(), result.clades.end(), std::greater<Clade>());
  auto newick = CladeTreeNewick(result.clades, names, &support);
  if (!newick.ok()) return newick.status();
  result.newick = std::move(newick).value();
  return result;
}

}  // namespace epgfn
