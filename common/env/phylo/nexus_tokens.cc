#include "common/env/phylo/nexus_tokens.h"

#include <cctype>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/env/phylo/alignment_internal.h"

namespace epgfn {
namespace nexus_internal {

using alignment_internal::LineError;

namespace {

bool IsPunctuation(char c) { return c == ';' || c == '='; }

}  // namespace

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

}  // namespace nexus_internal
}  // namespace epgfn
