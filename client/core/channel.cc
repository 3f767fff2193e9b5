#include "client/core/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// PEM files are a few KiB; anything larger is not what the flag meant.
constexpr int64_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    const char* what) {
  absl::StatusOr<std::string> pem = ReadFileToString(path, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::Status(pem.status().code(),
                        absl::StrCat("reading the ", what, " ", path, ": ",
                                     pem.status().message()));
  }
  return pem;
}

}  // namespace

absl::Status ChannelOptions::Validate() const {
  if (target.empty()) {
    return absl::InvalidArgumentError("no server address given");
  }
  const bool has_cert = !cert_pem_path.empty();
  const bool has_key = !key_pem_path.empty();
  if (insecure) {
    if (!ca_pem_path.empty() || has_cert || has_key) {
      return absl::InvalidArgumentError(
          "an insecure channel takes no CA, certificate or key");
    }
    return absl::OkStatus();
  }
  if (ca_pem_path.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs the CA certificate that signed the server's (or choose an "
        "insecure channel explicitly)");
  }
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "mutual TLS needs both the client certificate and its key");
  }
  if (max_message_bytes <= 0) {
    return absl::InvalidArgumentError("max_message_bytes must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_message_bytes);
  arguments.SetMaxSendMessageSize(options.max_message_bytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.insecure) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPem(options.ca_pem_path, "CA certificate"));
    if (!options.cert_pem_path.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                       ReadPem(options.cert_pem_path, "client certificate"));
      ASSIGN_OR_RETURN(ssl.pem_private_key,
                       ReadPem(options.key_pem_path, "client key"));
    }
    credentials = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      arguments.SetSslTargetNameOverride(options.tls_server_name);
    }
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.target, credentials, arguments);
  if (channel == nullptr) {
    return absl::InternalError(
        absl::StrCat("could not create a channel to ", options.target));
  }
  return channel;
}

absl::Status WaitForChannel(grpc::Channel& channel, absl::Duration timeout) {
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
  if (channel.WaitForConnected(deadline)) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "not connected within ", absl::FormatDuration(timeout),
      " (server down, wrong address, or TLS handshake refused)"));
}

}  // namespace epgfn
