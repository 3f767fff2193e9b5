#ifndef EPGFN_COMMON_ENV_PHYLO_NEXUS_TOKENS_H_
#define EPGFN_COMMON_ENV_PHYLO_NEXUS_TOKENS_H_

// The NEXUS file's lexical layer (tokens, ';'-ended commands, key=value
// options), under the DNA-matrix reader of alignment_nexus.cc; not a public
// API.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {
namespace nexus_internal {

// One NEXUS token: a word, a quoted string, or one of the punctuation
// characters ';' and '='.
struct Token {
  std::string text;
  int line = 0;
  bool quoted = false;
};

// Splits NEXUS text into tokens, dropping [comments] (which may nest).
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text);

// An unquoted token equal to `word`, ignoring case.
bool Is(const Token& token, absl::string_view word);

// A command: its tokens up to (not including) the ';' and the line of that
// ';' (or of the last token when the file ends first).
struct Command {
  std::vector<Token> tokens;
  int end_line = 0;
  bool terminated = false;
};

std::vector<Command> SplitCommands(const std::vector<Token>& tokens);

// key[=value] options of DIMENSIONS and FORMAT, keys upper-cased. A key
// without '=' maps to "" (e.g. a bare INTERLEAVE).
struct Option {
  std::string value;
  int line = 0;
};

absl::StatusOr<std::map<std::string, Option>> ParseOptions(
    const Command& command);

// The option's value as an integer > 0; an error naming `key` otherwise.
absl::StatusOr<int64_t> PositiveCount(const Option& option,
                                      absl::string_view key);

}  // namespace nexus_internal
}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_NEXUS_TOKENS_H_
