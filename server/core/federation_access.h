#ifndef EPGFN_SERVER_CORE_FEDERATION_ACCESS_H_
#define EPGFN_SERVER_CORE_FEDERATION_ACCESS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/core/bearer_tokens.h"

namespace epgfn {

// Who may call the Federation service, by role:
//   member   (GetSpec, UploadModel, WatchGlobalModel, DownloadGlobalModel):
//            with mutual TLS, a client certificate whose identity (CN, else
//            first DNS SAN) is one of the spec's client_ids. Any other
//            certificate of the CA (a sampler user's, say) is refused.
//            Without mutual TLS nobody is authenticated: every caller is
//            let in (the server warns at start).
//   operator (GetStatus: every member's rounds and diagnostics): an admin
//            token from --admin_tokens_file as 'authorization: Bearer ...';
//            no token file, no operator.
// The Sampler service has its own access (SamplerAccess).
// What the server's flags say about Federation access, before it is loaded.
struct FederationAccessFlags {
  // As --admin_tokens_file; may be empty: GetStatus is then refused to
  // everyone.
  std::string admin_tokens_file;
  // Whether the server verifies client certificates (members then need one).
  bool mutual_tls = false;
};

struct FederationAccessOptions {
  // Mutual TLS: calls carry a verified certificate identity.
  bool require_member_certificate = false;
  std::vector<BearerToken> admin_tokens;

  // Loads the admin tokens file, if any.
  static absl::StatusOr<FederationAccessOptions> Create(
      const FederationAccessFlags& flags);
};

// The Federation service's access decisions, without gRPC. Refusals are
// logged as event lines (never with a token). Thread-safe (immutable).
class FederationAccess {
 public:
  FederationAccess(FederationAccessOptions options, std::string federation,
                   const std::vector<std::string>& member_ids);

  // The caller's client id. `claimed_client_id`, when not empty, is the id
  // the call names (GetSpec's client_id): with a certificate it must be the
  // certificate's. UNAUTHENTICATED without a certificate, PERMISSION_DENIED
  // for a non-member or a claim of another id. `method` names the RPC in
  // the log line.
  absl::StatusOr<std::string> AuthorizeMember(
      const CallCredentials& credentials, absl::string_view claimed_client_id,
      absl::string_view method) const;

  // The operator's name. PERMISSION_DENIED when no admin token is
  // configured, UNAUTHENTICATED for a missing, malformed or wrong token.
  absl::StatusOr<std::string> AuthorizeOperator(
      const CallCredentials& credentials, absl::string_view method) const;

  bool has_admin_tokens() const { return !options_.admin_tokens.empty(); }

 private:
  absl::Status Refuse(absl::Status status, absl::string_view reason,
                      absl::string_view method,
                      const CallCredentials& credentials) const;

  const FederationAccessOptions options_;
  const std::string federation_;
  const std::set<std::string> members_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_FEDERATION_ACCESS_H_
