#ifndef EPGFN_SERVER_RPC_TLS_FILES_H_
#define EPGFN_SERVER_RPC_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace epgfn {

// The server's PEM files, read and checked with OpenSSL before gRPC sees
// them: gRPC only reports a bad key or a key that does not belong to the
// certificate as a failure to listen.
struct ServerTlsFiles {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // empty without mutual TLS
};

// InvalidArgument naming the file and the fault: not a PEM certificate, not
// a PEM private key, a key that does not match the certificate's public key,
// a client CA without a certificate. `client_ca_path` may be empty.
absl::StatusOr<ServerTlsFiles> LoadServerTlsFiles(
    const std::string& cert_path, const std::string& key_path,
    const std::string& client_ca_path);

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_TLS_FILES_H_
