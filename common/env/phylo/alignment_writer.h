#ifndef EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_WRITER_H_
#define EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_WRITER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/phylo/alignment.h"

namespace epgfn {

enum class AlignmentFormat { kFasta, kNexus, kPhylip };

// "fasta", "nexus" or "phylip".
absl::StatusOr<AlignmentFormat> ParseAlignmentFormat(absl::string_view name);
// The file name extension of a format ("fasta", "nex", "phy").
std::string AlignmentExtension(AlignmentFormat format);

// The alignment as text that ReadAlignment reads back to the same taxa and
// masks (each mask as its IUPAC letter, unknown as '?'). Used to cut one
// alignment into per-client files for the demo, the tests and benchmarks.
std::string FormatAlignment(const Alignment& alignment, AlignmentFormat format);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_WRITER_H_
