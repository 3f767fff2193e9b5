#ifndef EPGFN_CLIENT_CHANNEL_FLAGS_H_
#define EPGFN_CLIENT_CHANNEL_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "client/core/channel.h"

// The address and TLS flags of the client binaries (epgfn_client,
// epgfn_sample, epgfn_admin, epgfn_health_probe), defined once in
// channel_flags.cc so that every binary has the same flags, help texts and
// mapping onto the channel.
ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(bool, insecure);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_server_name);

namespace epgfn {

// The flags above as ChannelFlags. --rpc_attempts is the caller's: not every
// binary has it, and its default differs between those that do.
ChannelFlags ChannelFlagsFromCommandLine(int rpc_attempts);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CHANNEL_FLAGS_H_
