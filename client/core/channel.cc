#include "client/core/channel.h"

#include <algorithm>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <future>

#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// PEM files are a few KiB; anything larger is not what the flag meant.
constexpr int64_t kMaxPemBytes = 1 << 20;

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
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
  if (unary_max_attempts < 1 || unary_initial_backoff <= absl::ZeroDuration() ||
      unary_max_backoff < unary_initial_backoff ||
      !(unary_backoff_multiplier >= 1)) {
    return absl::InvalidArgumentError(
        "unary retry: attempts >= 1, 0 < initial backoff <= max backoff, "
        "multiplier >= 1");
  }
  return absl::OkStatus();
}

absl::StatusOr<ChannelOptions> ChannelOptionsFromFlags(
    const ChannelFlags& flags) {
  ChannelOptions options;
  options.target = flags.server;
  options.insecure = flags.insecure;
  options.ca_pem_path = flags.tls_ca;
  options.cert_pem_path = flags.tls_cert;
  options.key_pem_path = flags.tls_key;
  options.tls_server_name = flags.tls_server_name;
  if (flags.rpc_attempts < 1) {
    return absl::InvalidArgumentError("--rpc_attempts must be >= 1");
  }
  options.unary_max_attempts = std::min(flags.rpc_attempts, 5);
  RETURN_IF_ERROR(options.Validate());
  return options;
}

std::string UnaryServiceConfigJson(const ChannelOptions& options) {
  auto seconds = [](absl::Duration d) {
    return absl::StrFormat("\"%.3fs\"", absl::ToDoubleSeconds(d));
  };
  std::string retry;
  if (options.unary_max_attempts >= 2) {
    retry = absl::StrCat(
        ",\"retryPolicy\":{\"maxAttempts\":",
        std::min(options.unary_max_attempts, 5),
        ",\"initialBackoff\":", seconds(options.unary_initial_backoff),
        ",\"maxBackoff\":", seconds(options.unary_max_backoff),
        ",\"backoffMultiplier\":", options.unary_backoff_multiplier,
        ",\"retryableStatusCodes\":[\"UNAVAILABLE\"]}");
  }
  return absl::StrCat(
      "{\"methodConfig\":[{\"name\":["
      "{\"service\":\"epgfn.v1.Federation\",\"method\":\"GetSpec\"},"
      "{\"service\":\"epgfn.v1.Federation\",\"method\":\"GetStatus\"},"
      "{\"service\":\"epgfn.v1.Sampler\",\"method\":\"ListModels\"}],"
      "\"waitForReady\":true",
      retry, "}]}");
}

absl::StatusOr<std::string> ReadBearerTokenFile(const std::string& path,
                                                const std::string& what) {
  absl::StatusOr<std::string> text = ReadFileToString(path, 64 << 10);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read the ", what, " ", path, ": ",
                                     text.status().message()));
  }
  const std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " ", path, " is empty"));
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return absl::InvalidArgumentError(absl::StrCat(
          "the ", what, " ", path,
          " must hold one token of printable characters without spaces"));
    }
  }
  return token;
}

absl::Status UnaryCallStatus(grpc::Channel& channel, absl::Status status) {
  if (absl::IsDeadlineExceeded(status) &&
      channel.GetState(false) != GRPC_CHANNEL_READY) {
    return absl::UnavailableError(absl::StrCat(
        "not connected before the deadline (server down, wrong address, or "
        "TLS handshake refused): ",
        status.message()));
  }
  return status;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(
    const ChannelOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_message_bytes);
  arguments.SetMaxSendMessageSize(options.max_message_bytes);
  arguments.SetServiceConfigJSON(UnaryServiceConfigJson(options));
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

namespace {

// The last connection error of a channel that is not connected: a call made
// without wait_for_ready fails at once with it (e.g. "failed to connect to
// all addresses; last error: ... Ssl handshake failed: ...
// CERTIFICATE_VERIFY_FAILED"). The method need not exist: the call never
// leaves the client.
std::string LastConnectionError(grpc::Channel& channel) {
  grpc::GenericStub stub(channel.shared_from_this());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  // An empty message; a ByteBuffer without a slice is no message at all.
  grpc::Slice empty("", 0);
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/epgfn.v1.ConnectionProbe/Probe", {}, &request,
                 &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  const grpc::Status status = done.get_future().get();
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return "";
  return status.error_message();
}

}  // namespace

std::string PermanentTlsFailure(absl::string_view message) {
  // BoringSSL and OpenSSL 1.1 say CERTIFICATE_VERIFY_FAILED, OpenSSL 3
  // (Debian 12) "certificate verify failed".
  if (absl::StrContains(message, "CERTIFICATE_VERIFY_FAILED") ||
      absl::StrContains(message, "certificate verify failed")) {
    return "the server's certificate is not signed by the CA of --tls_ca "
           "(TLS: certificate verify failed); use the CA file of this "
           "federation";
  }
  if (absl::StrContains(message, "not in peer certificate")) {
    return "the server's certificate does not name the host in --server "
           "(TLS: peer name not in the certificate); connect by a name it "
           "lists or set --tls_server_name";
  }
  if (absl::StrContains(message, "ALERT_UNKNOWN_CA") ||
      absl::StrContains(message, "ALERT_BAD_CERTIFICATE") ||
      absl::StrContains(message, "ALERT_CERTIFICATE_REQUIRED") ||
      absl::StrContains(message, "ALERT_HANDSHAKE_FAILURE")) {
    return "the server refused this client's certificate (TLS alert from "
           "the server); use the certificate the federation issued "
           "(--tls_cert, --tls_key)";
  }
  return "";
}

absl::Status WaitForChannel(grpc::Channel& channel, absl::Duration timeout) {
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
  // Rather than WaitForConnected: each failed attempt is looked at as it
  // happens, so a permanent TLS failure ends the wait at once.
  std::string error;
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      error = LastConnectionError(channel);
      if (const std::string tls = PermanentTlsFailure(error); !tls.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("cannot connect: ", tls, " [", error, "]"));
      }
    }
    if (!channel.WaitForStateChange(state, deadline)) break;
    state = channel.GetState(/*try_to_connect=*/true);
  }
  if (state == GRPC_CHANNEL_READY) return absl::OkStatus();
  if (error.empty()) error = LastConnectionError(channel);
  return absl::UnavailableError(
      absl::StrCat("not connected within ", absl::FormatDuration(timeout),
                   error.empty() ? " (server down or wrong address)"
                                 : absl::StrCat(": ", error)));
}

}  // namespace epgfn
