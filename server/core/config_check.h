#ifndef EPGFN_SERVER_CORE_CONFIG_CHECK_H_
#define EPGFN_SERVER_CORE_CONFIG_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server/core/federation_config.h"

namespace epgfn {

// What `epgfn_server --check_config` looks at besides the federation config
// itself (already parsed and validated into a FederationConfig), like
// `nginx -t`: nothing is bound, started or written.
struct ServerSetup {
  std::string listen_address;
  bool insecure = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string metrics_listen;  // empty: none
  std::string state_dir;
  std::string sampler_auth;  // "token", "mtls" or "open"
  int64_t sampler_tokens = 0;
  std::string device;
};

// Checks the TLS files (they parse, the key matches, nothing expired), the
// addresses (host:port) and the state directory (a directory, or absent and
// creatable), and describes what would run: the spec digest, the
// environment and its size, the clients, quorum and deadline, both
// architectures, the aggregation, TLS, sampler access and metrics. The first
// problem is the error, naming the file or flag.
absl::StatusOr<std::string> CheckServerSetup(const FederationConfig& config,
                                             const ServerSetup& setup);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_CONFIG_CHECK_H_
