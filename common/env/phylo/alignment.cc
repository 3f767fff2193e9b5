#include "common/env/phylo/alignment.h"

#include <torch/types.h>
#include <zlib.h>

#include <cctype>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/env/phylo/alignment_internal.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Alignment files (after decompression) of a few hundred MB are far beyond
// what the environment can use (at most 64 taxa).
constexpr int64_t kMaxAlignmentBytes = 256 << 20;

using alignment_internal::AppendSymbols;
using alignment_internal::LineError;
using alignment_internal::Row;
using alignment_internal::RowsToAlignment;

}  // namespace

int64_t NucleotideMask(char c) {
  switch (std::toupper(static_cast<unsigned char>(c))) {
    case 'A':
      return kNucleotideA;
    case 'C':
      return kNucleotideC;
    case 'G':
      return kNucleotideG;
    case 'T':
    case 'U':
      return kNucleotideT;
    case 'R':
      return kNucleotideA | kNucleotideG;
    case 'Y':
      return kNucleotideC | kNucleotideT;
    case 'S':
      return kNucleotideC | kNucleotideG;
    case 'W':
      return kNucleotideA | kNucleotideT;
    case 'K':
      return kNucleotideG | kNucleotideT;
    case 'M':
      return kNucleotideA | kNucleotideC;
    case 'B':
      return kNucleotideC | kNucleotideG | kNucleotideT;
    case 'D':
      return kNucleotideA | kNucleotideG | kNucleotideT;
    case 'H':
      return kNucleotideA | kNucleotideC | kNucleotideT;
    case 'V':
      return kNucleotideA | kNucleotideC | kNucleotideG;
    case 'N':
    case '?':
    case '-':
      return kNucleotideUnknown;
    default:
      return 0;
  }
}

absl::StatusOr<Alignment> ParseFastaAlignment(absl::string_view text) {
  std::vector<Row> rows;
  int line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    absl::string_view line =
        absl::StripAsciiWhitespace(text.substr(start, end - start));
    ++line_number;
    start = end + 1;
    if (line.empty() || line[0] == ';') continue;  // ';' lines are comments
    if (line[0] == '>') {
      absl::string_view name = absl::StripAsciiWhitespace(line.substr(1));
      // The name is the first word; the rest is a free description.
      name = name.substr(0, name.find_first_of(" \t"));
      if (name.empty()) return LineError(line_number, "'>' without a name");
      rows.push_back(Row{std::string(name), "", line_number});
      continue;
    }
    if (rows.empty()) {
      return LineError(line_number, "sequence before the first '>' header");
    }
    RETURN_IF_ERROR(AppendSymbols(line, line_number, &rows.back()));
  }
  if (rows.empty()) {
    return absl::InvalidArgumentError("no '>' header in the FASTA text");
  }
  return RowsToAlignment(rows);
}

namespace alignment_internal {

absl::Status LineError(int line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", what));
}

absl::Status AppendSymbols(absl::string_view text, int line, Row* row) {
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (NucleotideMask(c) == 0) {
      return LineError(
          line, absl::StrCat("character '", std::string(1, c), "' of taxon '",
                             row->name, "' at site ", row->sequence.size() + 1,
                             " is not a DNA symbol (A C G T U, IUPAC codes, "
                             "N ? -)"));
    }
    row->sequence.push_back(c);
  }
  return absl::OkStatus();
}

absl::StatusOr<Alignment> RowsToAlignment(const std::vector<Row>& rows) {
  if (rows.empty()) return absl::InvalidArgumentError("no taxon");
  std::map<std::string, int> first_line;
  for (const Row& row : rows) {
    auto [it, inserted] = first_line.emplace(row.name, row.line);
    if (!inserted) {
      return LineError(row.line, absl::StrCat("taxon '", row.name,
                                              "' appears twice (first on line ",
                                              it->second, ")"));
    }
  }
  const size_t length = rows[0].sequence.size();
  if (length == 0) {
    return LineError(rows[0].line,
                     absl::StrCat("taxon '", rows[0].name, "' has no site"));
  }
  for (const Row& row : rows) {
    if (row.sequence.size() != length) {
      return LineError(
          row.line,
          absl::StrCat("taxon '", row.name, "' has ", row.sequence.size(),
                       " characters but '", rows[0].name, "' has ", length,
                       " (sequences must have equal lengths)"));
    }
  }
  Alignment alignment;
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t sites = static_cast<int64_t>(length);
  alignment.states = torch::empty({n, sites}, torch::kInt64);
  auto states = alignment.states.accessor<int64_t, 2>();
  for (int64_t k = 0; k < n; ++k) {
    alignment.taxa.push_back(rows[k].name);
    for (int64_t s = 0; s < sites; ++s) {
      states[k][s] = NucleotideMask(rows[k].sequence[s]);
    }
  }
  return alignment;
}

}  // namespace alignment_internal

namespace {

bool IsGzip(absl::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Inflates a gzip stream (zlib), refusing more than max_bytes of output.
absl::StatusOr<std::string> Gunzip(absl::string_view bytes, int64_t max_bytes) {
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buffer[1 << 16];
  int code = Z_OK;
  while (code != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    code = inflate(&stream, Z_NO_FLUSH);
    if (code != Z_OK && code != Z_STREAM_END) {
      inflateEnd(&stream);
      return absl::InvalidArgumentError(absl::StrCat(
          "corrupt or truncated gzip data (zlib code ", code, ")"));
    }
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (static_cast<int64_t>(out.size()) > max_bytes) {
      inflateEnd(&stream);
      return absl::InvalidArgumentError(
          absl::StrCat("decompresses to more than ", max_bytes, " bytes"));
    }
  }
  inflateEnd(&stream);
  return out;
}

// The relaxed-PHYLIP header "ntax nchar" on the first non-empty line.
bool LooksLikePhylip(absl::string_view text) {
  absl::string_view first = text.substr(0, text.find('\n'));
  std::vector<absl::string_view> words =
      absl::StrSplit(first, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  int64_t value = 0;
  return words.size() >= 2 && absl::SimpleAtoi(words[0], &value) &&
         absl::SimpleAtoi(words[1], &value);
}

}  // namespace

absl::StatusOr<Alignment> ParseAlignment(absl::string_view text) {
  absl::string_view start = absl::StripLeadingAsciiWhitespace(text);
  if (start.empty()) return absl::InvalidArgumentError("the file is empty");
  if (absl::StartsWithIgnoreCase(start, "#NEXUS")) {
    return ParseNexusAlignment(text);
  }
  if (absl::StartsWith(start, ">")) return ParseFastaAlignment(text);
  if (absl::StartsWith(start, "<")) return ParseBeastXmlAlignment(text);
  if (LooksLikePhylip(start)) return ParsePhylipAlignment(text);
  return absl::InvalidArgumentError(
      "alignment format not recognised: expected NEXUS (starts with #NEXUS), "
      "FASTA (starts with '>'), BEAST XML (starts with '<') or relaxed PHYLIP "
      "(starts with 'ntax nchar')");
}

absl::StatusOr<Alignment> ReadAlignment(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text,
                   ReadFileToString(path, kMaxAlignmentBytes));
  if (IsGzip(text)) {
    absl::StatusOr<std::string> inflated = Gunzip(text, kMaxAlignmentBytes);
    if (!inflated.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", inflated.status().message()));
    }
    text = *std::move(inflated);
  }
  absl::StatusOr<Alignment> alignment = ParseAlignment(text);
  if (!alignment.ok()) {
    return absl::Status(alignment.status().code(),
                        absl::StrCat(path, ": ", alignment.status().message()));
  }
  return alignment;
}

}  // namespace epgfn
