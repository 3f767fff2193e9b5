// Relaxed PHYLIP (as RAxML and IQ-TREE write it): a header "ntax nchar",
// then each taxon's name (any non-blank word) followed by its sequence,
// either sequential (a taxon's characters may continue on following lines)
// or interleaved (later blocks repeat the taxa in order, without names).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/alignment_internal.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

using alignment_internal::AppendSymbols;
using alignment_internal::LineError;
using alignment_internal::Row;
using alignment_internal::RowsToAlignment;

struct Line {
  absl::string_view text;  // stripped, non-empty
  int number = 0;
};

// "name rest": the first word and the remainder.
std::pair<absl::string_view, absl::string_view> SplitName(
    absl::string_view text) {
  const size_t end = text.find_first_of(" \t");
  if (end == absl::string_view::npos) return {text, ""};
  return {text.substr(0, end), text.substr(end)};
}

absl::StatusOr<std::vector<Row>> ParseSequential(const std::vector<Line>& lines,
                                                 int64_t ntax, int64_t nchar) {
  std::vector<Row> rows;
  size_t i = 0;
  while (i < lines.size()) {
    if (static_cast<int64_t>(rows.size()) == ntax) {
      return LineError(
          lines[i].number,
          absl::StrCat("more rows than the header's ", ntax, " taxa"));
    }
    auto [name, rest] = SplitName(lines[i].text);
    rows.push_back(Row{std::string(name), "", lines[i].number});
    RETURN_IF_ERROR(AppendSymbols(rest, lines[i].number, &rows.back()));
    ++i;
    while (i < lines.size() &&
           static_cast<int64_t>(rows.back().sequence.size()) < nchar) {
      RETURN_IF_ERROR(
          AppendSymbols(lines[i].text, lines[i].number, &rows.back()));
      ++i;
    }
  }
  return rows;
}

absl::StatusOr<std::vector<Row>> ParseInterleaved(
    const std::vector<Line>& lines, int64_t ntax) {
  std::vector<Row> rows;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (static_cast<int64_t>(i) < ntax) {
      auto [name, rest] = SplitName(lines[i].text);
      rows.push_back(Row{std::string(name), "", lines[i].number});
      RETURN_IF_ERROR(AppendSymbols(rest, lines[i].number, &rows.back()));
    } else {
      RETURN_IF_ERROR(
          AppendSymbols(lines[i].text, lines[i].number, &rows[i % ntax]));
    }
  }
  return rows;
}

}  // namespace

absl::StatusOr<Alignment> ParsePhylipAlignment(absl::string_view text) {
  std::vector<Line> lines;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (!line.empty()) lines.push_back(Line{line, number});
  }
  if (lines.empty()) return absl::InvalidArgumentError("the file is empty");
  std::vector<absl::string_view> header =
      absl::StrSplit(lines[0].text, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  int64_t ntax = 0;
  int64_t nchar = 0;
  if (header.size() < 2 || !absl::SimpleAtoi(header[0], &ntax) ||
      !absl::SimpleAtoi(header[1], &nchar) || ntax <= 0 || nchar <= 0) {
    return LineError(lines[0].number,
                     "a PHYLIP header must be two positive integers "
                     "'ntax nchar' (a file with no taxon or no site?)");
  }
  lines.erase(lines.begin());
  if (lines.empty()) {
    return LineError(number, absl::StrCat("the header announces ", ntax,
                                          " taxa but no row follows"));
  }
  // Sequential when that reading fits the header exactly, else interleaved.
  absl::StatusOr<std::vector<Row>> rows = ParseSequential(lines, ntax, nchar);
  const bool sequential =
      rows.ok() && static_cast<int64_t>(rows->size()) == ntax &&
      static_cast<int64_t>(rows->back().sequence.size()) == nchar;
  if (!sequential) {
    absl::StatusOr<std::vector<Row>> interleaved =
        ParseInterleaved(lines, ntax);
    if (interleaved.ok() || !rows.ok()) rows = std::move(interleaved);
  }
  if (!rows.ok()) return rows.status();
  if (static_cast<int64_t>(rows->size()) != ntax) {
    return LineError(lines.back().number,
                     absl::StrCat("the header announces ", ntax,
                                  " taxa but the file has ", rows->size()));
  }
  for (const Row& row : *rows) {
    if (static_cast<int64_t>(row.sequence.size()) != nchar) {
      return LineError(
          row.line,
          absl::StrCat("taxon '", row.name, "' has ", row.sequence.size(),
                       " characters but the header announces ", nchar,
                       " sites"));
    }
  }
  return RowsToAlignment(*rows);
}

}  // namespace epgfn
