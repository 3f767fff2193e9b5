#include "server/rpc/peer_identity.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_context.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

std::vector<std::string> Values(const grpc::AuthContext& auth,
                                const char* property) {
  std::vector<std::string> values;
  for (const grpc::string_ref& value : auth.FindPropertyValues(property)) {
    values.emplace_back(value.data(), value.size());
  }
  return values;
}

}  // namespace

absl::StatusOr<std::string> CertificateIdentity(
    const std::vector<std::string>& common_names,
    const std::vector<std::string>& dns_names) {
  if (common_names.size() > 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client certificate has ", common_names.size(),
                     " common names; expected one"));
  }
  if (common_names.size() == 1 && !common_names[0].empty()) {
    return common_names[0];
  }
  for (const std::string& name : dns_names) {
    if (!name.empty()) return name;
  }
  return absl::UnauthenticatedError(
      "the client certificate has neither a common name nor a DNS subject "
      "alternative name");
}

absl::StatusOr<std::string> PeerIdentity(const grpc::ServerContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("the call carries no client certificate");
  }
  return CertificateIdentity(Values(*auth, GRPC_X509_CN_PROPERTY_NAME),
                             Values(*auth, GRPC_PEER_DNS_PROPERTY_NAME));
}

CallCredentials CallCredentialsOf(const grpc::ServerContext& context) {
  CallCredentials credentials;
  const auto range = context.client_metadata().equal_range("authorization");
  for (auto it = range.first; it != range.second; ++it) {
    credentials.authorization.emplace_back(it->second.data(),
                                           it->second.size());
  }
  absl::StatusOr<std::string> identity = PeerIdentity(context);
  if (identity.ok()) credentials.certificate_identity = *std::move(identity);
  credentials.peer_address = context.peer();
  return credentials;
}

}  // namespace epgfn
