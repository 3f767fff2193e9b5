#ifndef EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_INTERNAL_H_
#define EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_INTERNAL_H_

// Shared by the alignment format readers (alignment*.cc); not a public API.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/phylo/alignment.h"

namespace epgfn {
namespace alignment_internal {

// InvalidArgument "line L: what".
absl::Status LineError(int line, absl::string_view what);

// One parsed row: the taxon's name, its characters and the line that named
// it (for error messages).
struct Row {
  std::string name;
  std::string sequence;
  int line = 0;
};

// Checks the rows (at least one, distinct names, at least one site, equal
// lengths; errors name the line and the taxon) and turns the characters into
// masks. Every character must already be a valid symbol.
absl::StatusOr<Alignment> RowsToAlignment(const std::vector<Row>& rows);

// Appends the non-space characters of `text` to row->sequence; an error
// naming `line` and the taxon for a character that is not a DNA symbol.
absl::Status AppendSymbols(absl::string_view text, int line, Row* row);

}  // namespace alignment_internal
}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_INTERNAL_H_
