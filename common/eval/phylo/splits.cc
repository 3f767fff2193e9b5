#include "common/eval/phylo/splits.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

bool Trivial(Clade clade, int num_taxa) {
  return CladeSize(clade) <= 1 || clade == AllTaxa(num_taxa);
}

}  // namespace

CladeFrequencies CountClades(int num_taxa,
                             absl::Span<const std::vector<Clade>> trees) {
  CladeFrequencies result;
  result.num_taxa = num_taxa;
  result.total_weight = static_cast<double>(trees.size());
  for (const std::vector<Clade>& tree : trees) {
    for (Clade c : tree) {
      if (!Trivial(c, num_taxa)) result.frequency[c] += 1.0;
    }
  }
  for (auto& [clade, f] : result.frequency) f /= result.total_weight;
  return result;
}

absl::StatusOr<CladeFrequencies> WeightedCladeFrequencies(
    int num_taxa, absl::Span<const std::vector<Clade>> trees,
    absl::Span<const double> weights) {
  if (trees.size() != weights.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(trees.size(), " trees but ", weights.size(), " weights"));
  }
  CladeFrequencies result;
  result.num_taxa = num_taxa;
  for (size_t t = 0; t < trees.size(); ++t) {
    if (!(weights[t] >= 0.0) || !std::isfinite(weights[t])) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight ", t, " is ", weights[t]));
    }
    result.total_weight += weights[t];
    for (Clade c : trees[t]) {
      if (!Trivial(c, num_taxa)) result.frequency[c] += weights[t];
    }
  }
  if (!(result.total_weight > 0.0)) {
    return absl::InvalidArgumentError("the weights sum to 0");
  }
  for (auto& [clade, f] : result.frequency) f /= result.total_weight;
  return result;
}

double MaxAbsCladeDifference(const CladeFrequencies& a,
                             const CladeFrequencies& b) {
  double worst = 0.0;
  for (const auto& [clade, f] : a.frequency) {
    worst = std::max(worst, std::abs(f - b.Of(clade)));
  }
  for (const auto& [clade, f] : b.frequency) {
    worst = std::max(worst, std::abs(f - a.Of(clade)));
  }
  return worst;
}

absl::StatusOr<Asdsf> AverageSdOfSplitFrequencies(
    absl::Span<const CladeFrequencies> chains, double min_frequency) {
  if (chains.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ASDSF needs at least 2 chains, got ", chains.size()));
  }
  std::set<Clade> qualifying;
  for (const CladeFrequencies& chain : chains) {
    for (const auto& [clade, f] : chain.frequency) {
      if (f >= min_frequency) qualifying.insert(clade);
    }
  }
  Asdsf result;
  double sum_sd = 0.0;
  const double c = static_cast<double>(chains.size());
  for (Clade clade : qualifying) {
    double mean = 0.0;
    for (const CladeFrequencies& chain : chains) mean += chain.Of(clade);
    mean /= c;
    double squares = 0.0;
    for (const CladeFrequencies& chain : chains) {
      squares += (chain.Of(clade) - mean) * (chain.Of(clade) - mean);
    }
    const double sd = std::sqrt(squares / (c - 1.0));
    sum_sd += sd;
    result.max_sd = std::max(result.max_sd, sd);
  }
  result.num_clades = static_cast<int64_t>(qualifying.size());
  result.value = qualifying.empty() ? 0.0 : sum_sd / result.num_clades;
  return result;
}

}  // namespace epgfn
