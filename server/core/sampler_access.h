#ifndef EPGFN_SERVER_CORE_SAMPLER_ACCESS_H_
#define EPGFN_SERVER_CORE_SAMPLER_ACCESS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace epgfn {

// Who may call the Sampler service.
enum class SamplerAuthMode {
  // Anyone who can reach the port (logged as a warning at start).
  kOpen,
  // A bearer token from the tokens file in the "authorization" metadata.
  kToken,
  // A client certificate verified against the server's client CA.
  kMutualTls,
};

// "open", "token" or "mtls".
absl::StatusOr<SamplerAuthMode> ParseSamplerAuthMode(absl::string_view name);
absl::string_view SamplerAuthModeName(SamplerAuthMode mode);

// One accepted token. Only its SHA-256 is kept, so every comparison is over
// equal-length strings and the token's length does not leak through timing.
struct SamplerToken {
  std::string caller;
  std::string sha256_hex;
};

// Tokens are at least this long (e.g. `openssl rand -hex 32` gives 64).
inline constexpr int kMinSamplerTokenLength = 32;

// Parses a tokens file: one "<caller-name>:<token>" per line; blank lines and
// lines starting with '#' are ignored. Caller names are [A-Za-z0-9._-]+ and
// unique; tokens are printable ASCII without spaces, at least
// kMinSamplerTokenLength long, and unique. Errors name the line (never the
// token). `source` names the file in messages.
absl::StatusOr<std::vector<SamplerToken>> ParseSamplerTokens(
    absl::string_view text, absl::string_view source);
absl::StatusOr<std::vector<SamplerToken>> LoadSamplerTokens(
    const std::string& path);

struct SamplerAccessOptions {
  // Fail-closed default: token mode without tokens refuses every call.
  // Servers built from flags always go through Create, which refuses that.
  SamplerAuthMode mode = SamplerAuthMode::kToken;
  std::vector<SamplerToken> tokens;

  static SamplerAccessOptions Open();
  // From the server's flags: `mode_name` as --sampler_auth, `tokens_file` as
  // --sampler_tokens_file (required by, and only allowed with, token mode);
  // `mutual_tls` whether the server verifies client certificates (required
  // by mtls mode).
  static absl::StatusOr<SamplerAccessOptions> Create(
      absl::string_view mode_name, const std::string& tokens_file,
      bool mutual_tls);
};

// What the RPC layer extracted from one call.
struct SamplerCallCredentials {
  // Every value of the "authorization" metadata key.
  std::vector<std::string> authorization;
  // Identity of the verified client certificate; nullopt without one.
  std::optional<std::string> certificate_identity;
  // For logs only, e.g. "ipv4:127.0.0.1:5555".
  std::string peer_address;
};

// Refusal reasons, as counted in RefusalCounts() and GetStatus.
inline constexpr char kSamplerRefusedMissingToken[] = "missing_token";
inline constexpr char kSamplerRefusedMalformedAuthorization[] =
    "malformed_authorization";
inline constexpr char kSamplerRefusedWrongToken[] = "wrong_token";
inline constexpr char kSamplerRefusedNoCertificate[] = "no_client_certificate";
inline constexpr char kSamplerRefusedNotConfigured[] = "no_tokens_configured";

// The Sampler's access decision, without gRPC: the handlers pass what the
// call carries and get the caller's name or UNAUTHENTICATED. Refusals are
// logged (without the token) and counted. Thread-safe.
class SamplerAccess {
 public:
  explicit SamplerAccess(SamplerAccessOptions options);

  // The caller's name: the token's caller, the certificate identity, or
  // "anonymous" in open mode.
  absl::StatusOr<std::string> Authorize(
      const SamplerCallCredentials& credentials);

  SamplerAuthMode mode() const { return options_.mode; }
  std::map<std::string, int64_t> RefusalCounts() const;

 private:
  absl::Status Refuse(const char* reason, absl::string_view message,
                      const SamplerCallCredentials& credentials);
  void NoteCaller(const std::string& caller,
                  const SamplerCallCredentials& credentials);

  const SamplerAccessOptions options_;
  mutable absl::Mutex mutex_;
  std::map<std::string, int64_t> refusals_ ABSL_GUARDED_BY(mutex_);
  // Callers already logged; each is logged once, not per call.
  std::set<std::string> seen_callers_ ABSL_GUARDED_BY(mutex_);
};

// True when `a` and `b` are equal; for equal lengths, the time taken does
// not depend on where they differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SAMPLER_ACCESS_H_
