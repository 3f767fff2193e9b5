#ifndef EPGFN_COMMON_UTIL_TLS_FILES_H_
#define EPGFN_COMMON_UTIL_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"

namespace epgfn {

// Checks PEM files the way a TLS handshake would need them, before any
// handshake (for --check_config): every path given must hold what it should.
//  - `cert_path`: a certificate chain, the first certificate valid now;
//  - `key_path`: a private key that matches that certificate (needs both);
//  - `ca_path`: one or more CA certificates, each valid now.
// Empty paths are skipped. Returns one line per file describing it (subject,
// expiry); the first problem names the file.
absl::StatusOr<std::string> CheckTlsFiles(const std::string& cert_path,
                                          const std::string& key_path,
                                          const std::string& ca_path);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_TLS_FILES_H_
