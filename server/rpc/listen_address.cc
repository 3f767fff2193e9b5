#include "server/rpc/listen_address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace epgfn {

std::string ListenAddress::ToString() const {
  if (host.find(':') != std::string::npos) {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<ListenAddress> ListenAddress::Parse(absl::string_view text,
                                                   absl::string_view flag) {
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "='", text, "': ", what,
                     " (expected host:port, port 1..65535, or 0 to pick a "
                     "free port)"));
  };
  ListenAddress address;
  absl::string_view port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return error("an IPv6 host is written [address]:port");
    }
    address.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) return error("no port");
    address.host = std::string(text.substr(0, colon));
    if (address.host.find(':') != std::string::npos) {
      return error("an IPv6 host goes in brackets, e.g. [::1]:50051");
    }
    port = text.substr(colon + 1);
  }
  if (address.host.empty()) {
    return error("no host (use 0.0.0.0 or [::] for every interface)");
  }
  int64_t number = -1;
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &number) || number > 65535) {
    return error(absl::StrCat("port '", port, "' is not in 0..65535"));
  }
  address.port = static_cast<int>(number);
  return address;
}

absl::Status DiagnoseBind(const ListenAddress& address) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  const std::string port = absl::StrCat(address.port);
  if (const int code =
          getaddrinfo(address.host.c_str(), port.c_str(), &hints, &results);
      code != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve the listen host '", address.host,
                     "': ", gai_strerror(code)));
  }
  absl::Status status;
  for (addrinfo* info = results; info != nullptr; info = info->ai_next) {
    const int fd = socket(info->ai_family, info->ai_socktype | SOCK_CLOEXEC,
                          info->ai_protocol);
    if (fd < 0) continue;
    // As gRPC: SO_REUSEADDR (TIME_WAIT does not block a restart), and no
    // SO_REUSEPORT, which would let two servers share the port.
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const int result = bind(fd, info->ai_addr, info->ai_addrlen);
    const int error = errno;
    close(fd);
    if (result == 0) continue;
    const std::string where = address.ToString();
    switch (error) {
      case EADDRINUSE:
        status = absl::FailedPreconditionError(
            absl::StrCat(where,
                         " is already in use (another epgfn_server, or another "
                         "program, listens there); stop it or choose another "
                         "--listen port"));
        break;
      case EADDRNOTAVAIL:
        status = absl::InvalidArgumentError(absl::StrCat(
            where, ": '", address.host, "' is not an address of this host"));
        break;
      case EACCES:
        status = absl::PermissionDeniedError(absl::StrCat(
            where, ": permission denied (ports below 1024 need privileges)"));
        break;
      default:
        status = absl::UnavailableError(
            absl::StrCat("cannot bind ", where, ": ", std::strerror(error)));
    }
    break;
  }
  freeaddrinfo(results);
  return status;
}

}  // namespace epgfn
