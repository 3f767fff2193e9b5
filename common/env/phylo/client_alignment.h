#ifndef EPGFN_COMMON_ENV_PHYLO_CLIENT_ALIGNMENT_H_
#define EPGFN_COMMON_ENV_PHYLO_CLIENT_ALIGNMENT_H_

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/phylo/alignment.h"

namespace epgfn {

// One client's own alignment with its rows put in the order of the
// federation's taxa (the environment's), matched by name. The data never
// leave the client: the federation spec names the taxa only.
struct ClientAlignment {
  // [n, S] int64 4-bit masks (alignment.h), row k for taxa[k].
  at::Tensor masks;
  // Taxa of the spec that the file lacks: their rows are all-ambiguous
  // (missing data, as when a lab did not sequence that gene for a species).
  std::vector<std::string> missing;
  // Taxa of the file that the spec does not name: ignored.
  std::vector<std::string> ignored;
};

// Matches `alignment` (read from `path`, named in messages) to `taxa`.
// Refuses a file that holds none of the taxa.
absl::StatusOr<ClientAlignment> MatchAlignmentToTaxa(
    const Alignment& alignment, const std::vector<std::string>& taxa,
    const std::string& path);

// ReadAlignment(path) then MatchAlignmentToTaxa; logs (INFO) one line per
// missing and per ignored taxon, naming the taxon and the file.
absl::StatusOr<ClientAlignment> ReadClientAlignment(
    const std::string& path, const std::vector<std::string>& taxa);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_CLIENT_ALIGNMENT_H_
