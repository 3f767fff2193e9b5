#ifndef EPGFN_COMMON_UTIL_SHA256_H_
#define EPGFN_COMMON_UTIL_SHA256_H_

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace epgfn {

// Incremental SHA-256 (OpenSSL), for payloads that arrive in chunks.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Lower-case hex digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_SHA256_H_
