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
#include "server/core/bearer_tokens.h"

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

// The Sampler's tokens are bearer tokens (see bearer_tokens.h), as the
// operators' admin tokens are.
using SamplerToken = BearerToken;
inline constexpr int kMinSamplerTokenLength = kMinBearerTokenLength;

// See ParseBearerTokens.
absl::StatusOr<std::vector<SamplerToken>> ParseSamplerTokens(
    absl::string_view text, absl::string_view source);
absl::StatusOr<std::vector<SamplerToken>> LoadSamplerTokens(
    const std::string& path);

// What the server's flags say about Sampler access, before it is checked.
struct SamplerAccessFlags {
  // As --sampler_auth: "open", "token" or "mtls".
  std::string auth = "token";
  // As --sampler_tokens_file: required by, and only allowed with, token mode.
  std::string tokens_file;
  // Whether the server verifies client certificates (required by mtls mode).
  bool mutual_tls = false;
};

struct SamplerAccessOptions {
  // Fail-closed default: token mode without tokens refuses every call.
  // Servers built from flags always go through Create, which refuses that.
  SamplerAuthMode mode = SamplerAuthMode::kToken;
  std::vector<SamplerToken> tokens;

  static SamplerAccessOptions Open();
  // Checks `flags` and loads the tokens file.
  static absl::StatusOr<SamplerAccessOptions> Create(
      const SamplerAccessFlags& flags);
};

using SamplerCallCredentials = CallCredentials;

// Refusal reasons, as counted in RefusalCounts() and GetStatus.
inline constexpr const char* kSamplerRefusedMissingToken = kBearerMissing;
inline constexpr const char* kSamplerRefusedMalformedAuthorization =
    kBearerMalformed;
inline constexpr const char* kSamplerRefusedWrongToken = kBearerWrong;
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

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SAMPLER_ACCESS_H_
