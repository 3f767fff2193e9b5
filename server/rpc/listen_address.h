#ifndef EPGFN_SERVER_RPC_LISTEN_ADDRESS_H_
#define EPGFN_SERVER_RPC_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// A validated "host:port" to listen on. gRPC itself takes any number after
// the colon modulo 2^16 (":99999" listened on 34463), so the port is checked
// here: 1..65535, or 0 for "pick a free port" (RpcServer::port() tells which).
struct ListenAddress {
  std::string host;  // without brackets, e.g. "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;

  // "host:port" as gRPC takes it (IPv6 hosts in brackets).
  std::string ToString() const;

  // "127.0.0.1:50051", "[::]:0", "localhost:8080". InvalidArgument naming
  // `flag` and what is wrong (missing or empty host, port not a number or
  // outside 0..65535, IPv6 without brackets).
  static absl::StatusOr<ListenAddress> Parse(absl::string_view text,
                                             absl::string_view flag);
};

// Why binding `address` fails, found by binding a plain socket the way gRPC
// does (without SO_REUSEPORT): "already in use", "not an address of this
// host", ... Used to explain a server that did not start; OK when the bind
// succeeds now.
absl::Status DiagnoseBind(const ListenAddress& address);

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_LISTEN_ADDRESS_H_
