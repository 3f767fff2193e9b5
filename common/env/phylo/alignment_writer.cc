#include "common/env/phylo/alignment_writer.h"

#include <torch/types.h>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

// The IUPAC letter of each 4-bit mask (alignment.h); 15 prints as '?'.
constexpr char kLetters[] = "?ACMGRSVTWYHKDB?";

std::string Sequence(const Alignment& alignment, int64_t taxon) {
  const at::Tensor row = alignment.states[taxon].contiguous();
  const int64_t* masks = row.data_ptr<int64_t>();
  std::string text(alignment.num_sites(), '?');
  for (int64_t s = 0; s < alignment.num_sites(); ++s) {
    text[s] = kLetters[masks[s] & 15];
  }
  return text;
}

}  // namespace

absl::StatusOr<AlignmentFormat> ParseAlignmentFormat(absl::string_view name) {
  if (name == "fasta") return AlignmentFormat::kFasta;
  if (name == "nexus") return AlignmentFormat::kNexus;
  if (name == "phylip") return AlignmentFormat::kPhylip;
  return absl::InvalidArgumentError(absl::StrCat(
      "alignment format '", name, "' is not fasta, nexus or phylip"));
}

std::string AlignmentExtension(AlignmentFormat format) {
  switch (format) {
    case AlignmentFormat::kFasta:
      return "fasta";
    case AlignmentFormat::kNexus:
      return "nex";
    case AlignmentFormat::kPhylip:
      return "phy";
  }
  return "txt";
}

std::string FormatAlignment(const Alignment& alignment,
                            AlignmentFormat format) {
  std::string text;
  switch (format) {
    case AlignmentFormat::kFasta:
      for (int64_t k = 0; k < alignment.num_taxa(); ++k) {
        absl::StrAppend(&text, ">", alignment.taxa[k], "\n",
                        Sequence(alignment, k), "\n");
      }
      break;
    case AlignmentFormat::kNexus:
      absl::StrAppend(&text, "#NEXUS\nbegin data;\n  dimensions ntax=",
                      alignment.num_taxa(), " nchar=", alignment.num_sites(),
                      ";\n  format datatype=dna missing=? gap=-;\n  matrix\n");
      for (int64_t k = 0; k < alignment.num_taxa(); ++k) {
        absl::StrAppend(&text, "  '", alignment.taxa[k], "' ",
                        Sequence(alignment, k), "\n");
      }
      absl::StrAppend(&text, "  ;\nend;\n");
      break;
    case AlignmentFormat::kPhylip:
      absl::StrAppend(&text, alignment.num_taxa(), " ", alignment.num_sites(),
                      "\n");
      for (int64_t k = 0; k < alignment.num_taxa(); ++k) {
        absl::StrAppend(&text, alignment.taxa[k], " ", Sequence(alignment, k),
                        "\n");
      }
      break;
  }
  return text;
}

}  // namespace epgfn
