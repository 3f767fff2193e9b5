// Cuts one alignment into per-client files of contiguous site regions (the
// "gene regions" each party holds privately in the demo, the end-to-end
// test and the DS1 benchmark):
//
//   split_alignment --input=primates.nex --output_dir=DIR --parts=4
//     --formats=fasta,nexus,phylip --taxa=Homo_sapiens;Pan;...
//     --drop=3:Gorilla --full_output=DIR/full.fasta
//
// writes DIR/part<i>.<ext> (formats cycled over the parts) and prints their
// paths, one per line. --drop=i:TAXON leaves TAXON out of part i (that
// client lacks it: missing data); --full_output writes the whole alignment
// with those cells as '?', whose posterior is the exact full-data reference.
#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/alignment_writer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

ABSL_FLAG(std::string, input, "", "Alignment to cut (any readable format).");
ABSL_FLAG(std::string, output_dir, "", "Directory for the part files.");
ABSL_FLAG(int, parts, 4, "Number of contiguous site regions.");
ABSL_FLAG(std::string, formats, "fasta",
          "Comma-separated formats (fasta, nexus, phylip), cycled over the "
          "parts.");
ABSL_FLAG(std::string, taxa, "",
          "Taxa to keep, separated by ';' (default: all).");
ABSL_FLAG(std::string, drop, "",
          "Comma-separated PART:TAXON entries: TAXON is left out of that "
          "part's file.");
ABSL_FLAG(std::string, full_output, "",
          "Optional FASTA of the whole (kept-taxa) alignment with the dropped "
          "cells unknown.");

namespace epgfn {
namespace {

// Keeps the rows of the ';'-separated `taxa`, in that order.
absl::Status KeepTaxa(const std::string& taxa, Alignment* alignment) {
  std::vector<int64_t> rows;
  std::vector<std::string> names;
  const std::vector<std::string> wanted = absl::StrSplit(taxa, ';');
  for (const std::string& name : wanted) {
    auto it = std::find(alignment->taxa.begin(), alignment->taxa.end(), name);
    if (it == alignment->taxa.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--taxa: '", name, "' is not in the input"));
    }
    rows.push_back(it - alignment->taxa.begin());
    names.push_back(name);
  }
  alignment->states =
      alignment->states.index_select(0, torch::tensor(rows, torch::kInt64));
  alignment->taxa = names;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AlignmentFormat>> ParseFormats(
    const std::string& list) {
  std::vector<AlignmentFormat> formats;
  for (absl::string_view name : absl::StrSplit(list, ',')) {
    ASSIGN_OR_RETURN(AlignmentFormat format, ParseAlignmentFormat(name));
    formats.push_back(format);
  }
  return formats;
}

// --drop's PART:TAXON entries as the taxa each of the `parts` leaves out.
absl::StatusOr<std::vector<std::vector<std::string>>> ParseDrops(
    const std::string& list, int parts) {
  std::vector<std::vector<std::string>> dropped(parts);
  if (list.empty()) return dropped;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    std::vector<std::string> fields = absl::StrSplit(entry, ':');
    int part = 0;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &part) || part < 0 ||
        part >= parts) {
      return absl::InvalidArgumentError(
          absl::StrCat("--drop entry '", entry, "' is not PART:TAXON"));
    }
    dropped[part].push_back(fields[1]);
  }
  return dropped;
}

// Part i of `parts`: its sites of `alignment` without the `dropped` taxa,
// whose cells of those sites become unknown in `full`.
Alignment CutPart(const Alignment& alignment, int i, int parts,
                  const std::vector<std::string>& dropped, Alignment* full) {
  const int64_t sites = alignment.num_sites();
  const int64_t begin = i * sites / parts;
  const int64_t end = (i + 1) * sites / parts;
  Alignment part;
  std::vector<int64_t> rows;
  for (int64_t k = 0; k < alignment.num_taxa(); ++k) {
    if (std::find(dropped.begin(), dropped.end(), alignment.taxa[k]) !=
        dropped.end()) {
      full->states[k].narrow(0, begin, end - begin).fill_(kNucleotideUnknown);
      continue;
    }
    rows.push_back(k);
    part.taxa.push_back(alignment.taxa[k]);
  }
  part.states = alignment.states.narrow(1, begin, end - begin)
                    .index_select(0, torch::tensor(rows, torch::kInt64));
  return part;
}

absl::Status WriteFullOutput(const std::string& full_output,
                             const Alignment& full) {
  if (const size_t slash = full_output.rfind('/');
      slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(MakeDirectories(full_output.substr(0, slash)));
  }
  return WriteFileAtomically(full_output,
                             FormatAlignment(full, AlignmentFormat::kFasta));
}

absl::Status Run() {
  ASSIGN_OR_RETURN(Alignment alignment,
                   ReadAlignment(absl::GetFlag(FLAGS_input)));
  if (!absl::GetFlag(FLAGS_taxa).empty()) {
    RETURN_IF_ERROR(KeepTaxa(absl::GetFlag(FLAGS_taxa), &alignment));
  }
  const int parts = absl::GetFlag(FLAGS_parts);
  if (parts < 1 || parts > alignment.num_sites()) {
    return absl::InvalidArgumentError("--parts must be in 1..sites");
  }
  ASSIGN_OR_RETURN(const std::vector<AlignmentFormat> formats,
                   ParseFormats(absl::GetFlag(FLAGS_formats)));
  ASSIGN_OR_RETURN(const std::vector<std::vector<std::string>> dropped,
                   ParseDrops(absl::GetFlag(FLAGS_drop), parts));
  const std::string dir = absl::GetFlag(FLAGS_output_dir);
  RETURN_IF_ERROR(MakeDirectories(dir));
  Alignment full = alignment;
  full.states = alignment.states.clone();
  for (int i = 0; i < parts; ++i) {
    const Alignment part = CutPart(alignment, i, parts, dropped[i], &full);
    const AlignmentFormat format = formats[i % formats.size()];
    const std::string path =
        absl::StrCat(dir, "/part", i, ".", AlignmentExtension(format));
    RETURN_IF_ERROR(WriteFileAtomically(path, FormatAlignment(part, format)));
    std::printf("%s\n", path.c_str());
  }
  if (const std::string full_output = absl::GetFlag(FLAGS_full_output);
      !full_output.empty()) {
    RETURN_IF_ERROR(WriteFullOutput(full_output, full));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = epgfn::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "split_alignment: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
