#ifndef EPGFN_COMMON_ENV_PHYLO_NEWICK_READER_H_
#define EPGFN_COMMON_ENV_PHYLO_NEWICK_READER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/phylo/phylo_clades.h"

namespace epgfn {
namespace phylo_internal {

// Minimal Newick reader for TerminalStateFromNewick: rooted binary trees,
// names bare or 'quoted', optional internal labels and :branch lengths
// (both ignored).
class NewickReader {
 public:
  NewickReader(absl::string_view text,
               const std::map<std::string, int64_t>& leaf_of)
      : text_(text), leaf_of_(leaf_of) {}

  // The clades of the internal nodes, in post-order.
  absl::StatusOr<std::vector<Clade>> Read();

 private:
  absl::Status Error(absl::string_view what) const;
  void SkipSpace();
  std::string Label();
  void SkipBranchLength();
  absl::StatusOr<Clade> Node(std::vector<Clade>* clades);

  absl::string_view text_;
  const std::map<std::string, int64_t>& leaf_of_;
  size_t pos_ = 0;
};

}  // namespace phylo_internal
}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_NEWICK_READER_H_
