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

// One NEXUS token: a word, a quoted string, or one of the punctuation
// characters ';' and '='.
struct Token {
  std::string text;
  int line = 0;
  bool quoted = false;
};

bool IsPunctuation(char c) { return c == ';' || c == '='; }

// Splits NEXUS text into tokens, dropping [comments] (which may nest).
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  int line = 1;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '[') {
      const int start = line;
      int depth = 0;
      for (; i < text.size(); ++i) {
        if (text[i] == '\n') ++line;
        if (text[i] == '[') ++depth;
        if (text[i] == ']' && --depth == 0) break;
      }
      if (i == text.size()) {
        return LineError(start, "comment '[' is never closed with ']'");
      }
      ++i;
    } else if (c == ']') {
      return LineError(line, "']' without an opening '['");
    } else if (c == '\'' || c == '"') {
      // Quoted word; a doubled quote stands for the quote itself.
      Token token{"", line, true};
      ++i;
      for (;; ++i) {
        if (i == text.size()) {
          return LineError(token.line,
                           absl::StrCat("quoted word starting with ",
                                        std::string(1, c), " is never closed"));
        }
        if (text[i] == c) {
          if (i + 1 < text.size() && text[i + 1] == c) {
            token.text.push_back(c);
            ++i;
            continue;
          }
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        token.text.push_back(text[i]);
      }
      tokens.push_back(std::move(token));
    } else if (IsPunctuation(c)) {
      tokens.push_back(Token{std::string(1, c), line, false});
      ++i;
    } else {
      Token token{"", line, false};
      while (i < text.size() &&
             !std::isspace(static_cast<unsigned char>(text[i])) &&
             !IsPunctuation(text[i]) && text[i] != '[' && text[i] != '\'' &&
             text[i] != '"') {
        token.text.push_back(text[i]);
        ++i;
      }
      tokens.push_back(std::move(token));
    }
  }
  return tokens;
}

bool Is(const Token& token, absl::string_view word) {
  return !token.quoted && absl::EqualsIgnoreCase(token.text, word);
}

// A command: its tokens up to (not including) the ';' and the line of that
// ';' (or of the last token when the file ends first).
struct Command {
  std::vector<Token> tokens;
  int end_line = 0;
  bool terminated = false;
};

std::vector<Command> SplitCommands(const std::vector<Token>& tokens) {
  std::vector<Command> commands;
  Command current;
  for (const Token& token : tokens) {
    if (Is(token, ";")) {
      current.end_line = token.line;
      current.terminated = true;
      commands.push_back(std::move(current));
      current = Command();
    } else {
      current.tokens.push_back(token);
    }
  }
  if (!current.tokens.empty()) {
    current.end_line = current.tokens.back().line;
    commands.push_back(std::move(current));
  }
  return commands;
}

// key[=value] options of DIMENSIONS and FORMAT, keys upper-cased. A key
// without '=' maps to "" (e.g. a bare INTERLEAVE).
struct Option {
  std::string value;
  int line = 0;
};

absl::StatusOr<std::map<std::string, Option>> ParseOptions(
    const Command& command) {
  std::map<std::string, Option> options;
  const std::vector<Token>& t = command.tokens;
  for (size_t i = 1; i < t.size(); ++i) {
    if (Is(t[i], "=")) return LineError(t[i].line, "'=' without a key");
    Option option{"", t[i].line};
    if (i + 1 < t.size() && Is(t[i + 1], "=")) {
      if (i + 2 >= t.size() || Is(t[i + 2], "=")) {
        return LineError(t[i].line,
                         absl::StrCat("no value after '", t[i].text, "='"));
      }
      option.value = t[i + 2].text;
      options[absl::AsciiStrToUpper(t[i].text)] = option;
      i += 2;
    } else {
      options[absl::AsciiStrToUpper(t[i].text)] = option;
    }
  }
  return options;
}

absl::StatusOr<int64_t> PositiveCount(const Option& option,
                                      absl::string_view key) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(option.value, &value) || value <= 0) {
    return LineError(option.line, absl::StrCat(key,
                                               " must be a positive "
                                               "integer, got '",
                                               option.value, "'"));
  }
  return value;
}

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

// Parses the MATRIX command (its tokens after the MATRIX keyword).
absl::StatusOr<Alignment> ParseMatrix(const Command& command,
                                      const MatrixFormat& format, int64_t ntax,
                                      int64_t nchar) {
  std::vector<std::string> names;
  std::vector<std::string> sequences;
  std::vector<int> name_lines;
  std::map<std::string, size_t> index;
  const std::vector<Token>& t = command.tokens;
  auto taxon_index = [&](const Token& name) -> absl::StatusOr<size_t> {
    auto it = index.find(name.text);
    if (it != index.end()) return it->second;
    if (static_cast<int64_t>(names.size()) == ntax) {
      return LineError(name.line, absl::StrCat("taxon '", name.text,
                                               "' is one more than NTAX=", ntax,
                                               " (or a misspelt name)"));
    }
    index[name.text] = names.size();
    names.push_back(name.text);
    name_lines.push_back(name.line);
    sequences.emplace_back();
    return names.size() - 1;
  };
  size_t i = 1;  // t[0] is MATRIX
  if (format.interleave) {
    // Each line is a name followed by a chunk of that taxon's sequence.
    while (i < t.size()) {
      const int line = t[i].line;
      ASSIGN_OR_RETURN(const size_t k, taxon_index(t[i]));
      const std::string* first = k == 0 ? nullptr : &sequences[0];
      ++i;
      for (; i < t.size() && t[i].line == line; ++i) {
        RETURN_IF_ERROR(
            AppendCharacters(t[i], format, names[k], first, &sequences[k]));
      }
      if (static_cast<int64_t>(sequences[k].size()) > nchar) {
        return LineError(
            line,
            absl::StrCat("taxon '", names[k], "' has ", sequences[k].size(),
                         " characters, more than NCHAR=", nchar));
      }
    }
  } else {
    // A name, then words (over any number of lines) until NCHAR characters.
    while (i < t.size()) {
      const Token& name = t[i];
      if (index.count(name.text) > 0) {
        return LineError(name.line, absl::StrCat("taxon '", name.text,
                                                 "' appears twice in a "
                                                 "sequential matrix"));
      }
      ASSIGN_OR_RETURN(const size_t k, taxon_index(name));
      const std::string* first = k == 0 ? nullptr : &sequences[0];
      ++i;
      while (i < t.size() &&
             static_cast<int64_t>(sequences[k].size()) < nchar) {
        RETURN_IF_ERROR(
            AppendCharacters(t[i], format, names[k], first, &sequences[k]));
        if (static_cast<int64_t>(sequences[k].size()) > nchar) {
          return LineError(
              t[i].line,
              absl::StrCat("taxon '", names[k], "' has ", sequences[k].size(),
                           " characters, more than NCHAR=", nchar));
        }
        ++i;
      }
    }
  }
  if (static_cast<int64_t>(names.size()) != ntax) {
    return LineError(command.end_line, absl::StrCat("MATRIX has ", names.size(),
                                                    " taxa but NTAX=", ntax));
  }
  for (size_t k = 0; k < names.size(); ++k) {
    if (static_cast<int64_t>(sequences[k].size()) != nchar) {
      return LineError(
          command.end_line,
          absl::StrCat("taxon '", names[k], "' has ", sequences[k].size(),
                       " characters but NCHAR=", nchar));
    }
  }
  std::vector<Row> rows(names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    rows[k] = Row{names[k], std::move(sequences[k]), name_lines[k]};
  }
  return RowsToAlignment(rows);
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

absl::StatusOr<Alignment> ParseNexusAlignment(absl::string_view text) {
  ASSIGN_OR_RETURN(const std::vector<Token> tokens, Tokenize(text));
  if (tokens.empty() || !Is(tokens[0], "#NEXUS")) {
    return LineError(tokens.empty() ? 1 : tokens[0].line,
                     "a NEXUS file must start with #NEXUS");
  }
  std::vector<Token> rest(tokens.begin() + 1, tokens.end());
  const std::vector<Command> commands = SplitCommands(rest);
  int64_t taxa_block_ntax = 0;
  std::string block;  // upper-cased name of the open block, "" outside
  int block_line = 0;
  int64_t ntax = 0;
  int64_t nchar = 0;
  MatrixFormat format;
  for (const Command& command : commands) {
    if (command.tokens.empty()) continue;
    const Token& head = command.tokens[0];
    if (!command.terminated) {
      return LineError(head.line, absl::StrCat("command '", head.text,
                                               "' is not ended by ';'"));
    }
    if (block.empty()) {
      if (!Is(head, "BEGIN") || command.tokens.size() != 2) {
        return LineError(
            head.line,
            absl::StrCat("expected 'BEGIN blockname;', got '", head.text, "'"));
      }
      block = absl::AsciiStrToUpper(command.tokens[1].text);
      block_line = head.line;
      continue;
    }
    if (Is(head, "END") || Is(head, "ENDBLOCK")) {
      block.clear();
      continue;
    }
    if (block == "TAXA" && Is(head, "DIMENSIONS")) {
      ASSIGN_OR_RETURN(auto options, ParseOptions(command));
      if (options.count("NTAX") > 0) {
        ASSIGN_OR_RETURN(taxa_block_ntax,
                         PositiveCount(options["NTAX"], "NTAX"));
      }
      continue;
    }
    if (block != "DATA" && block != "CHARACTERS") continue;
    if (Is(head, "DIMENSIONS")) {
      ASSIGN_OR_RETURN(auto options, ParseOptions(command));
      for (const auto& [key, option] : options) {
        if (key == "NTAX") {
          ASSIGN_OR_RETURN(ntax, PositiveCount(option, "NTAX"));
        } else if (key == "NCHAR") {
          ASSIGN_OR_RETURN(nchar, PositiveCount(option, "NCHAR"));
        } else if (key != "NEWTAXA") {
          return LineError(option.line, absl::StrCat("unknown DIMENSIONS "
                                                     "option '",
                                                     key, "'"));
        }
      }
    } else if (Is(head, "FORMAT")) {
      ASSIGN_OR_RETURN(auto options, ParseOptions(command));
      for (const auto& [key, option] : options) {
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
        // Other options (SYMBOLS, EQUATE, LABELS, ...) do not change how
        // a DNA matrix reads.
      }
    } else if (Is(head, "MATRIX")) {
      if (ntax == 0) ntax = taxa_block_ntax;
      if (ntax == 0) {
        return LineError(head.line,
                         "MATRIX before DIMENSIONS NTAX=... (in this block or "
                         "a TAXA block)");
      }
      if (nchar == 0) {
        return LineError(head.line, "MATRIX before DIMENSIONS NCHAR=...");
      }
      return ParseMatrix(command, format, ntax, nchar);
    }
  }
  if (!block.empty()) {
    return LineError(block_line, absl::StrCat("block '", block,
                                              "' is never closed with END;"));
  }
  return absl::InvalidArgumentError(
      "no DATA or CHARACTERS block with a MATRIX in the NEXUS file");
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
