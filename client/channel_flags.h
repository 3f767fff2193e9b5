#ifndef EPGFN_CLIENT_CHANNEL_FLAGS_H_
#define EPGFN_CLIENT_CHANNEL_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "client/core/channel.h"

// The address and TLS flags of the client binaries. Each binary defines
// them itself (ABSL_FLAG in its main.cc), because their help texts say what
// the server and the certificate are to that binary (the federation server
// and this client's certificate; the server to probe and a certificate the
// server accepts); what the flags mean to the channel is mapped here once.
ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(bool, insecure);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_server_name);

namespace epgfn {

// The flags above as ChannelFlags. --rpc_attempts is the caller's: not every
// binary has it, and its default differs between those that do.
inline ChannelFlags ChannelFlagsFromCommandLine(int rpc_attempts) {
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

#endif  // EPGFN_CLIENT_CHANNEL_FLAGS_H_
