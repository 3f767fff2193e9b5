#include "server/core/bearer_tokens.h"

#include <openssl/crypto.h>

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxTokensFileBytes = 1 << 20;

bool IsCallerName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsTokenText(absl::string_view token) {
  for (char c : token) {
    // Printable ASCII without the space: what fits in an HTTP header value
    // and cannot be confused with the surrounding whitespace.
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::vector<BearerToken>> ParseBearerTokens(
    absl::string_view text, absl::string_view source) {
  std::vector<BearerToken> tokens;
  std::set<std::string> callers;
  std::set<std::string> digests;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " line ", line_number, ": ", what));
    };
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) {
      return error("expected <caller-name>:<token>");
    }
    const absl::string_view caller = line.substr(0, colon);
    const absl::string_view token = line.substr(colon + 1);
    if (!IsCallerName(caller)) {
      return error(absl::StrCat("caller name '", absl::CEscape(caller),
                                "' must be non-empty [A-Za-z0-9._-]"));
    }
    if (!IsTokenText(token)) {
      return error(absl::StrCat("the token of '", caller,
                                "' must be printable ASCII without spaces"));
    }
    if (token.size() < static_cast<size_t>(kMinBearerTokenLength)) {
      return error(absl::StrCat("the token of '", caller, "' has ",
                                token.size(), " characters, fewer than ",
                                kMinBearerTokenLength));
    }
    if (!callers.insert(std::string(caller)).second) {
      return error(absl::StrCat("caller '", caller, "' is listed twice"));
    }
    BearerToken entry{std::string(caller), Sha256Hex(token)};
    if (!digests.insert(entry.sha256_hex).second) {
      return error(absl::StrCat("the token of '", caller,
                                "' is also given to another caller"));
    }
    tokens.push_back(std::move(entry));
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, " lists no tokens"));
  }
  return tokens;
}

absl::StatusOr<std::vector<BearerToken>> LoadBearerTokens(
    const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> text =
      ReadFileToString(path, kMaxTokensFileBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read the ", what, " ", path, ": ",
                                     text.status().message()));
  }
  return ParseBearerTokens(*text, path);
}

BearerMatch MatchBearerToken(const std::vector<std::string>& authorization,
                             const std::vector<BearerToken>& tokens) {
  BearerMatch match;
  if (authorization.empty()) {
    match.reason = kBearerMissing;
    match.message = "the call needs 'authorization: Bearer <token>' metadata";
    return match;
  }
  if (authorization.size() != 1) {
    match.reason = kBearerMalformed;
    match.message = "the call carries more than one authorization value";
    return match;
  }
  // "Bearer" is case-insensitive (RFC 6750 via RFC 7235).
  absl::string_view value = authorization[0];
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    match.reason = kBearerMalformed;
    match.message = "the authorization metadata must be 'Bearer <token>'";
    return match;
  }
  const std::string presented =
      Sha256Hex(absl::StripAsciiWhitespace(value.substr(kScheme.size())));
  for (const BearerToken& token : tokens) {
    if (ConstantTimeEquals(presented, token.sha256_hex)) match.token = &token;
  }
  if (match.token == nullptr) {
    match.reason = kBearerWrong;
    match.message = "the token is not valid";
  }
  return match;
}

}  // namespace epgfn
