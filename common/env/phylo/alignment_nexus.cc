// The NEXUS reader (DATA or CHARACTERS block with a DNA MATRIX; TAXA block
// dimensions), split from alignment.cc so that each format reader is one file.
#include <cctype>
#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/alignment_internal.h"
#include "common/env/phylo/nexus_tokens.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

using alignment_internal::LineError;
using alignment_internal::Row;
using alignment_internal::RowsToAlignment;
using nexus_internal::Command;
using nexus_internal::Is;
using nexus_internal::Option;
using nexus_internal::ParseOptions;
using nexus_internal::PositiveCount;
using nexus_internal::SplitCommands;
using nexus_internal::Token;
using nexus_internal::Tokenize;

// What the DATA/CHARACTERS block's FORMAT says about the characters.
struct MatrixFormat {
  bool interleave = false;
  char missing = '?';
  char gap = '-';
  char match = '\0';  // none
};

// Appends the characters of `token` to `sequence`, resolving MATCHCHAR
// against `first` (the first taxon's sequence) and checking each symbol.
absl::Status AppendCharacters(const Token& token, const MatrixFormat& format,
                              const std::string& taxon,
                              const std::string* first, std::string* sequence) {
  for (char c : token.text) {
    if (format.match != '\0' && c == format.match) {
      if (first == nullptr || first->size() <= sequence->size()) {
        return LineError(token.line,
                         absl::StrCat("match character '", std::string(1, c),
                                      "' for taxon '", taxon,
                                      "' has no first-taxon character to "
                                      "copy at site ",
                                      sequence->size() + 1));
      }
      c = (*first)[sequence->size()];
    } else if (c == format.missing || c == format.gap) {
      c = '?';
    }
    if (NucleotideMask(c) == 0) {
      return LineError(
          token.line,
          absl::StrCat("character '", std::string(1, c), "' of taxon '", taxon,
                       "' at site ", sequence->size() + 1,
                       " is not a DNA symbol (A C G T U, IUPAC codes, N ? -)"));
    }
    sequence->push_back(c);
  }
  return absl::OkStatus();
}

// The taxa of a MATRIX as it is read: rows in the order their names first
// appear, each with the characters read so far.
class MatrixRows {
 public:
  MatrixRows(const MatrixFormat& format, int64_t ntax, int64_t nchar)
      : format_(format), ntax_(ntax), nchar_(nchar) {}

  // The row of the taxon `name`, added on its first appearance.
  absl::StatusOr<size_t> RowOf(const Token& name) {
    auto it = index_.find(name.text);
    if (it != index_.end()) return it->second;
    if (static_cast<int64_t>(rows_.size()) == ntax_) {
      return LineError(name.line, absl::StrCat("taxon '", name.text,
                                               "' is one more than NTAX=",
                                               ntax_, " (or a misspelt name)"));
    }
    index_[name.text] = rows_.size();
    rows_.push_back(Row{name.text, "", name.line});
    return rows_.size() - 1;
  }
  bool Seen(const Token& name) const { return index_.count(name.text) > 0; }
  int64_t Length(size_t k) const { return rows_[k].sequence.size(); }

  // Appends a word of characters to row k.
  absl::Status Append(size_t k, const Token& token) {
    const std::string* first = k == 0 ? nullptr : &rows_[0].sequence;
    return AppendCharacters(token, format_, rows_[k].name, first,
                            &rows_[k].sequence);
  }
  // An error naming `line` when row k has grown past NCHAR.
  absl::Status CheckNotLonger(size_t k, int line) const {
    if (Length(k) <= nchar_) return absl::OkStatus();
    return LineError(line,
                     absl::StrCat("taxon '", rows_[k].name, "' has ", Length(k),
                                  " characters, more than NCHAR=", nchar_));
  }

  // Every taxon of NTAX with exactly NCHAR characters.
  absl::StatusOr<Alignment> Finish(int end_line) const {
    if (static_cast<int64_t>(rows_.size()) != ntax_) {
      return LineError(end_line, absl::StrCat("MATRIX has ", rows_.size(),
                                              " taxa but NTAX=", ntax_));
    }
    for (const Row& row : rows_) {
      if (static_cast<int64_t>(row.sequence.size()) != nchar_) {
        return LineError(
            end_line,
            absl::StrCat("taxon '", row.name, "' has ", row.sequence.size(),
                         " characters but NCHAR=", nchar_));
      }
    }
    return RowsToAlignment(rows_);
  }

 private:
  const MatrixFormat format_;
  const int64_t ntax_;
  const int64_t nchar_;
  std::vector<Row> rows_;
  std::map<std::string, size_t> index_;
};

// Interleaved: each line is a name followed by a chunk of that taxon's
// sequence.
absl::Status ReadInterleaved(const std::vector<Token>& t, MatrixRows& rows) {
  size_t i = 1;  // t[0] is MATRIX
  while (i < t.size()) {
    const int line = t[i].line;
    ASSIGN_OR_RETURN(const size_t k, rows.RowOf(t[i]));
    for (++i; i < t.size() && t[i].line == line; ++i) {
      RETURN_IF_ERROR(rows.Append(k, t[i]));
    }
    RETURN_IF_ERROR(rows.CheckNotLonger(k, line));
  }
  return absl::OkStatus();
}

// Sequential: a name, then words (over any number of lines) until NCHAR
// characters.
absl::Status ReadSequential(const std::vector<Token>& t, int64_t nchar,
                            MatrixRows& rows) {
  size_t i = 1;  // t[0] is MATRIX
  while (i < t.size()) {
    const Token& name = t[i];
    if (rows.Seen(name)) {
      return LineError(name.line, absl::StrCat("taxon '", name.text,
                                               "' appears twice in a "
                                               "sequential matrix"));
    }
    ASSIGN_OR_RETURN(const size_t k, rows.RowOf(name));
    for (++i; i < t.size() && rows.Length(k) < nchar; ++i) {
      RETURN_IF_ERROR(rows.Append(k, t[i]));
      RETURN_IF_ERROR(rows.CheckNotLonger(k, t[i].line));
    }
  }
  return absl::OkStatus();
}

// Parses the MATRIX command (its tokens after the MATRIX keyword).
absl::StatusOr<Alignment> ParseMatrix(const Command& command,
                                      const MatrixFormat& format, int64_t ntax,
                                      int64_t nchar) {
  MatrixRows rows(format, ntax, nchar);
  if (format.interleave) {
    RETURN_IF_ERROR(ReadInterleaved(command.tokens, rows));
  } else {
    RETURN_IF_ERROR(ReadSequential(command.tokens, nchar, rows));
  }
  return rows.Finish(command.end_line);
}

absl::StatusOr<char> SymbolOption(const Option& option, absl::string_view key) {
  if (option.value.size() != 1) {
    return LineError(option.line, absl::StrCat(key,
                                               " must be one character, "
                                               "got '",
                                               option.value, "'"));
  }
  return option.value[0];
}

// DIMENSIONS of a DATA or CHARACTERS block.
absl::Status ApplyDataDimensions(const Command& command, int64_t& ntax,
                                 int64_t& nchar) {
  ASSIGN_OR_RETURN(auto options, ParseOptions(command));
  for (const auto& [key, option] : options) {
    if (key == "NTAX") {
      ASSIGN_OR_RETURN(ntax, PositiveCount(option, "NTAX"));
    } else if (key == "NCHAR") {
      ASSIGN_OR_RETURN(nchar, PositiveCount(option, "NCHAR"));
    } else if (key != "NEWTAXA") {
      return LineError(option.line,
                       absl::StrCat("unknown DIMENSIONS option '", key, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyFormatOption(const std::string& key, const Option& option,
                               MatrixFormat& format) {
  if (key == "DATATYPE") {
    const std::string type = absl::AsciiStrToUpper(option.value);
    if (type != "DNA" && type != "RNA" && type != "NUCLEOTIDE") {
      return LineError(option.line,
                       absl::StrCat("DATATYPE=", option.value,
                                    " is not supported (only DNA, RNA, "
                                    "NUCLEOTIDE)"));
    }
  } else if (key == "INTERLEAVE") {
    const std::string value = absl::AsciiStrToUpper(option.value);
    if (value.empty() || value == "YES") {
      format.interleave = true;
    } else if (value == "NO") {
      format.interleave = false;
    } else {
      return LineError(option.line,
                       absl::StrCat("INTERLEAVE must be yes or no, got '",
                                    option.value, "'"));
    }
  } else if (key == "MISSING") {
    ASSIGN_OR_RETURN(format.missing, SymbolOption(option, "MISSING"));
  } else if (key == "GAP") {
    ASSIGN_OR_RETURN(format.gap, SymbolOption(option, "GAP"));
  } else if (key == "MATCHCHAR") {
    ASSIGN_OR_RETURN(format.match, SymbolOption(option, "MATCHCHAR"));
  } else if (key == "TRANSPOSE") {
    return LineError(option.line, "TRANSPOSE matrices are not supported");
  }
  // Other options (SYMBOLS, EQUATE, LABELS, ...) do not change how a DNA
  // matrix reads.
  return absl::OkStatus();
}

// What the commands read so far say, while walking the file's blocks.
struct NexusReader {
  std::string block;  // upper-cased name of the open block, "" outside
  int block_line = 0;
  int64_t taxa_block_ntax = 0;
  int64_t ntax = 0;
  int64_t nchar = 0;
  MatrixFormat format;
};

// BEGIN name; outside a block, END; inside one.
absl::Status OpenOrCloseBlock(const Command& command, NexusReader& reader) {
  const Token& head = command.tokens[0];
  if (reader.block.empty()) {
    if (!Is(head, "BEGIN") || command.tokens.size() != 2) {
      return LineError(head.line, absl::StrCat("expected 'BEGIN blockname;', "
                                               "got '",
                                               head.text, "'"));
    }
    reader.block = absl::AsciiStrToUpper(command.tokens[1].text);
    reader.block_line = head.line;
  } else {
    reader.block.clear();  // END or ENDBLOCK
  }
  return absl::OkStatus();
}

absl::StatusOr<Alignment> ReadMatrix(const Command& command,
                                     NexusReader& reader) {
  const Token& head = command.tokens[0];
  if (reader.ntax == 0) reader.ntax = reader.taxa_block_ntax;
  if (reader.ntax == 0) {
    return LineError(head.line,
                     "MATRIX before DIMENSIONS NTAX=... (in this block or a "
                     "TAXA block)");
  }
  if (reader.nchar == 0) {
    return LineError(head.line, "MATRIX before DIMENSIONS NCHAR=...");
  }
  return ParseMatrix(command, reader.format, reader.ntax, reader.nchar);
}

}  // namespace

absl::StatusOr<Alignment> ParseNexusAlignment(absl::string_view text) {
  ASSIGN_OR_RETURN(const std::vector<Token> tokens, Tokenize(text));
  if (tokens.empty() || !Is(tokens[0], "#NEXUS")) {
    return LineError(tokens.empty() ? 1 : tokens[0].line,
                     "a NEXUS file must start with #NEXUS");
  }
  std::vector<Token> rest(tokens.begin() + 1, tokens.end());
  NexusReader reader;
  for (const Command& command : SplitCommands(rest)) {
    if (command.tokens.empty()) continue;
    const Token& head = command.tokens[0];
    if (!command.terminated) {
      return LineError(head.line, absl::StrCat("command '", head.text,
                                               "' is not ended by ';'"));
    }
    if (reader.block.empty() || Is(head, "END") || Is(head, "ENDBLOCK")) {
      RETURN_IF_ERROR(OpenOrCloseBlock(command, reader));
    } else if (reader.block == "TAXA" && Is(head, "DIMENSIONS")) {
      ASSIGN_OR_RETURN(auto options, ParseOptions(command));
      if (options.count("NTAX") > 0) {
        ASSIGN_OR_RETURN(reader.taxa_block_ntax,
                         PositiveCount(options["NTAX"], "NTAX"));
      }
    } else if (reader.block != "DATA" && reader.block != "CHARACTERS") {
      continue;
    } else if (Is(head, "DIMENSIONS")) {
      RETURN_IF_ERROR(ApplyDataDimensions(command, reader.ntax, reader.nchar));
    } else if (Is(head, "FORMAT")) {
      ASSIGN_OR_RETURN(auto options, ParseOptions(command));
      for (const auto& [key, option] : options) {
        RETURN_IF_ERROR(ApplyFormatOption(key, option, reader.format));
      }
    } else if (Is(head, "MATRIX")) {
      return ReadMatrix(command, reader);
    }
  }
  if (!reader.block.empty()) {
    return LineError(
        reader.block_line,
        absl::StrCat("block '", reader.block, "' is never closed with END;"));
  }
  return absl::InvalidArgumentError(
      "no DATA or CHARACTERS block with a MATRIX in the NEXUS file");
}

}  // namespace epgfn
