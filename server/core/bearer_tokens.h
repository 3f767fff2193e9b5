#ifndef EPGFN_SERVER_CORE_BEARER_TOKENS_H_
#define EPGFN_SERVER_CORE_BEARER_TOKENS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Bearer tokens ("authorization: Bearer <token>" metadata), as the Sampler's
// callers and the server's operators (admin tokens) present them. Only each
// token's SHA-256 is kept, so every comparison is over equal-length strings
// and the token's length does not leak through timing.
struct BearerToken {
  std::string caller;
  std::string sha256_hex;
};

// Tokens are at least this long (e.g. `openssl rand -hex 32` gives 64).
inline constexpr int kMinBearerTokenLength = 32;

// Parses a tokens file: one "<caller-name>:<token>" per line; blank lines and
// lines starting with '#' are ignored. Caller names are [A-Za-z0-9._-]+ and
// unique; tokens are printable ASCII without spaces, at least
// kMinBearerTokenLength long, and unique. Errors name the line (never the
// token). `source` names the file in messages.
absl::StatusOr<std::vector<BearerToken>> ParseBearerTokens(
    absl::string_view text, absl::string_view source);
// `what` names the file's role in messages, e.g. "sampler tokens file".
absl::StatusOr<std::vector<BearerToken>> LoadBearerTokens(
    const std::string& path, absl::string_view what);

// What the RPC layer extracted from one call.
struct CallCredentials {
  // Every value of the "authorization" metadata key.
  std::vector<std::string> authorization;
  // Identity of the verified client certificate; nullopt without one.
  std::optional<std::string> certificate_identity;
  // For logs only, e.g. "ipv4:127.0.0.1:5555".
  std::string peer_address;
};

// Refusal reasons of a bearer check.
inline constexpr char kBearerMissing[] = "missing_token";
inline constexpr char kBearerMalformed[] = "malformed_authorization";
inline constexpr char kBearerWrong[] = "wrong_token";

// The outcome of matching a call's authorization against `tokens`: the
// matching entry, or why there is none (a reason above and a message without
// the token).
struct BearerMatch {
  const BearerToken* token = nullptr;
  const char* reason = nullptr;
  std::string message;
};
// Every entry is compared in constant time, so the time does not tell which
// one matched. `tokens` must outlive the result.
BearerMatch MatchBearerToken(const std::vector<std::string>& authorization,
                             const std::vector<BearerToken>& tokens);

// True when `a` and `b` are equal; for equal lengths, the time taken does
// not depend on where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_BEARER_TOKENS_H_
