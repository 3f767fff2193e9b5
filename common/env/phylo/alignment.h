#ifndef EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_H_
#define EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Nucleotide states as 4-bit masks: bit 0 = A, 1 = C, 2 = G, 3 = T (or U).
// Ambiguous characters set every bit they allow, so a mask is directly the
// tip's partial likelihood vector (1 for each possible state).
constexpr int64_t kNucleotideA = 1;
constexpr int64_t kNucleotideC = 2;
constexpr int64_t kNucleotideG = 4;
constexpr int64_t kNucleotideT = 8;
constexpr int64_t kNucleotideUnknown = 15;

// The mask of one alignment character (case-insensitive): A, C, G, T, U;
// IUPAC ambiguity codes R Y S W K M B D H V as the sets they stand for; N, ?
// and the gap '-' as unknown (all four). 0 for anything else.
int64_t NucleotideMask(char c);

// A DNA alignment.
struct Alignment {
  std::vector<std::string> taxa;
  // [num_taxa, num_sites] int64 4-bit masks (see NucleotideMask), CPU.
  at::Tensor states;

  int64_t num_taxa() const { return static_cast<int64_t>(taxa.size()); }
  int64_t num_sites() const { return states.size(1); }
};

// The first DATA or CHARACTERS block of a NEXUS file (DNA/RNA/NUCLEOTIDE;
// sequential or interleaved MATRIX; [comments], quoted names, MATCHCHAR and
// MISSING/GAP symbols; NTAX may come from a TAXA block). Errors are
// InvalidArgument naming the line and the problem.
absl::StatusOr<Alignment> ParseNexusAlignment(absl::string_view text);
// ">name" header lines each followed by sequence lines; all sequences must
// have the same length.
absl::StatusOr<Alignment> ParseFastaAlignment(absl::string_view text);
// NEXUS when the text starts with #NEXUS, FASTA when with '>'.
absl::StatusOr<Alignment> ParseAlignment(absl::string_view text);
// Reads and parses a file; errors name the path.
absl::StatusOr<Alignment> ReadAlignment(const std::string& path);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_H_
