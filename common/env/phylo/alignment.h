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
// Relaxed PHYLIP: "ntax nchar", then name and sequence per taxon,
// sequential or interleaved (alignment_phylip.cc).
absl::StatusOr<Alignment> ParsePhylipAlignment(absl::string_view text);
// The <sequence> elements of a BEAST 1 or 2 XML file (alignment_beast.cc).
absl::StatusOr<Alignment> ParseBeastXmlAlignment(absl::string_view text);
// The format from the content: NEXUS when the text starts with #NEXUS, FASTA
// with '>', BEAST XML with '<', relaxed PHYLIP with two integers.
// Every format refuses a duplicated taxon, an empty text, no site and
// sequences of unequal length, naming the line and the taxon.
absl::StatusOr<Alignment> ParseAlignment(absl::string_view text);
// Reads and parses a file, gzip-compressed or not (detected from its first
// bytes, so DS1's testHKY336.xml.gz reads as shipped); errors name the path.
absl::StatusOr<Alignment> ReadAlignment(const std::string& path);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_ALIGNMENT_H_
