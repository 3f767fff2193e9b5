#ifndef EPGFN_COMMON_EVAL_PHYLO_DNAPARS_H_
#define EPGFN_COMMON_EVAL_PHYLO_DNAPARS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// An external check on tree search: PHYLIP's dnapars (Debian package
// `phylip`) searches for most-parsimonious unrooted trees. Fitch scores do
// not depend on the root, so its best score is the best over rooted
// topologies too, and it is directly comparable with the phylo
// environment's parsimony reward.

// The IUPAC letter of a 4-bit nucleotide mask (bit 0 = A, 1 = C, 2 = G,
// 3 = T, as in common/env/phylo/alignment.h): A C G T, the ambiguity codes,
// and N for all four. The environment reads gaps as all four, so they are
// written as N, which dnapars also reads as "any base" (its '-' would be a
// fifth state and change the score).
char IupacOfMask(int64_t mask);

// A PHYLIP sequential DNA alignment of [n, S] masks, taxon k named t<k>
// (PHYLIP allows 10-character names only).
absl::StatusOr<std::string> PhylipAlignment(const at::Tensor& masks);

// Every "requires a total of X" score in a dnapars outfile (one per tree
// kept); InvalidArgument when there is none.
absl::StatusOr<std::vector<double>> ParseDnaparsScores(
    absl::string_view outfile);

struct DnaparsOptions {
  std::string binary = "/usr/lib/phylip/bin/dnapars";
  // Times to jumble the species' addition order (menu option J); 0 keeps
  // the input order once. seed is made odd, as dnapars requires.
  int jumbles = 0;
  uint64_t seed = 1;
  int timeout_seconds = 600;
};
struct DnaparsResult {
  double best_score = 0.0;
  int trees_found = 0;  // equally parsimonious trees in the outfile
  double seconds = 0.0;
};
// Writes the alignment as `infile` in a fresh temporary folder, answers
// dnapars's menu on stdin, and parses its outfile. FailedPrecondition when
// the binary is missing (install Debian's phylip), Internal when it fails.
absl::StatusOr<DnaparsResult> RunDnapars(const std::string& phylip_alignment,
                                         const DnaparsOptions& options);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_PHYLO_DNAPARS_H_
