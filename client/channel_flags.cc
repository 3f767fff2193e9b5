#include "client/channel_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "Address (host:port) of the federation server.");
ABSL_FLAG(bool, insecure, false,
          "Use a plaintext channel, to a server started with --insecure "
          "(testing only); excludes the --tls_* flags.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of the client certificate, for servers that require one "
          "(mutual TLS); epgfn_client's names its --client_id. Next to the "
          "server, epgfn_health_probe may use the server's own.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM file of the private key of --tls_cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to check the server certificate against, when it differs "
          "from the host in --server (e.g. reaching it by 127.0.0.1).");

namespace epgfn {

ChannelFlags ChannelFlagsFromCommandLine(int rpc_attempts) {
  ChannelFlags flags;
  flags.server = absl::GetFlag(FLAGS_server);
  flags.insecure = absl::GetFlag(FLAGS_insecure);
  flags.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  flags.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  flags.tls_key = absl::GetFlag(FLAGS_tls_key);
  flags.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  flags.rpc_attempts = rpc_attempts;
  return flags;
}

}  // namespace epgfn
