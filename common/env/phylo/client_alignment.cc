#include "common/env/phylo/client_alignment.h"

#include <glog/logging.h>
#include <torch/types.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<ClientAlignment> MatchAlignmentToTaxa(
    const Alignment& alignment, const std::vector<std::string>& taxa,
    const std::string& path) {
  std::map<std::string, int64_t> row_of;
  for (int64_t k = 0; k < alignment.num_taxa(); ++k) {
    row_of[alignment.taxa[k]] = k;
  }
  ClientAlignment result;
  const int64_t n = static_cast<int64_t>(taxa.size());
  result.masks = torch::full({n, alignment.num_sites()}, kNucleotideUnknown,
                             torch::kInt64);
  std::map<std::string, bool> in_spec;
  for (int64_t k = 0; k < n; ++k) {
    in_spec[taxa[k]] = true;
    auto it = row_of.find(taxa[k]);
    if (it == row_of.end()) {
      result.missing.push_back(taxa[k]);
    } else {
      result.masks[k].copy_(alignment.states[it->second]);
    }
  }
  for (const std::string& name : alignment.taxa) {
    if (in_spec.count(name) == 0) result.ignored.push_back(name);
  }
  if (static_cast<int64_t>(result.missing.size()) == n) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": holds none of the federation's taxa (",
                     absl::StrJoin(taxa, ";"), "); its taxa are ",
                     absl::StrJoin(alignment.taxa, ";")));
  }
  return result;
}

absl::StatusOr<ClientAlignment> ReadClientAlignment(
    const std::string& path, const std::vector<std::string>& taxa) {
  ASSIGN_OR_RETURN(const Alignment alignment, ReadAlignment(path));
  ASSIGN_OR_RETURN(ClientAlignment result,
                   MatchAlignmentToTaxa(alignment, taxa, path));
  for (const std::string& name : result.missing) {
    LOG(INFO) << "phylo: taxon '" << name << "' is not in " << path << "; its "
              << alignment.num_sites()
              << " sites count as missing data (all-ambiguous)";
  }
  for (const std::string& name : result.ignored) {
    LOG(INFO) << "phylo: taxon '" << name << "' of " << path
              << " is not a taxon of the federation; ignored";
  }
  return result;
}

}  // namespace epgfn
