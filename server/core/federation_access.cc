#include "server/core/federation_access.h"

#include <glog/logging.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/util/event_log.h"

namespace epgfn {

absl::StatusOr<FederationAccessOptions> FederationAccessOptions::Create(
    const FederationAccessFlags& flags) {
  FederationAccessOptions options;
  options.require_member_certificate = flags.mutual_tls;
  if (!flags.admin_tokens_file.empty()) {
    absl::StatusOr<std::vector<BearerToken>> tokens =
        LoadBearerTokens(flags.admin_tokens_file, "admin tokens file");
    if (!tokens.ok()) return tokens.status();
    options.admin_tokens = *std::move(tokens);
  }
  return options;
}

FederationAccess::FederationAccess(FederationAccessOptions options,
                                   std::string federation,
                                   const std::vector<std::string>& member_ids)
    : options_(std::move(options)),
      federation_(std::move(federation)),
      members_(member_ids.begin(), member_ids.end()) {}

absl::StatusOr<std::string> FederationAccess::AuthorizeMember(
    const CallCredentials& credentials, absl::string_view claimed_client_id,
    absl::string_view method) const {
  if (!options_.require_member_certificate) {
    return std::string(claimed_client_id);
  }
  if (!credentials.certificate_identity.has_value()) {
    return Refuse(absl::UnauthenticatedError(absl::StrCat(
                      method,
                      " needs the client certificate of a member of "
                      "federation '",
                      federation_, "'")),
                  "no_client_certificate", method, credentials);
  }
  const std::string& identity = *credentials.certificate_identity;
  if (members_.count(identity) == 0) {
    return Refuse(absl::PermissionDeniedError(absl::StrCat(
                      "the client certificate names '", identity,
                      "', which is not a member of federation '", federation_,
                      "': ", method, " is for its clients only")),
                  "not_a_member", method, credentials);
  }
  if (!claimed_client_id.empty() && claimed_client_id != identity) {
    return Refuse(absl::PermissionDeniedError(absl::StrCat(
                      "the client certificate names '", identity,
                      "' but the call is made as client '", claimed_client_id,
                      "'; run the client with --client_id=", identity,
                      " or with that client's certificate")),
                  "identity_mismatch", method, credentials);
  }
  return identity;
}

absl::StatusOr<std::string> FederationAccess::AuthorizeOperator(
    const CallCredentials& credentials, absl::string_view method) const {
  if (options_.admin_tokens.empty()) {
    return Refuse(absl::PermissionDeniedError(absl::StrCat(
                      method,
                      " is for the server's operators, and this server has no "
                      "admin tokens (--admin_tokens_file)")),
                  "no_admin_tokens_configured", method, credentials);
  }
  const BearerMatch match =
      MatchBearerToken(credentials.authorization, options_.admin_tokens);
  if (match.token == nullptr) {
    return Refuse(absl::UnauthenticatedError(absl::StrCat(
                      method, " needs an admin token: ", match.message)),
                  match.reason, method, credentials);
  }
  return match.token->caller;
}

absl::Status FederationAccess::Refuse(
    absl::Status status, absl::string_view reason, absl::string_view method,
    const CallCredentials& credentials) const {
  LOG(WARNING) << Event("call_refused")
                      .With("federation", federation_)
                      .With("method", method)
                      .With("reason", reason)
                      .With("identity",
                            credentials.certificate_identity.value_or(""))
                      .With("peer", credentials.peer_address)
                      .WithStatus(status);
  return status;
}

}  // namespace epgfn
