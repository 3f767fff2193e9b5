#include "common/util/metrics_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
// The MIME type of the Prometheus text exposition format.
namespace epgfn {
namespace {
constexpr char kMetricsContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";
}  // namespace
}  // namespace epgfn

namespace epgfn {
namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(5);
// A scrape request is one short line plus a few headers.
constexpr size_t kMaxRequestBytes = 8192;

absl::Status ErrnoError(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Splits "host:port" / "[v6]:port"; an empty host means every interface.
absl::Status SplitHostPort(const std::string& address, std::string* host,
                           std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "' is not host:port"));
  }
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  int number = 0;
  if (!absl::SimpleAtoi(*port, &number) || number < 0 || number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "' has no valid port"));
  }
  return absl::OkStatus();
}

void SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // the client went away; nothing to do
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

std::string Response(int code, absl::string_view reason,
                     absl::string_view content_type, absl::string_view body,
                     bool include_body, absl::string_view extra_headers = "") {
  return absl::StrCat(
      "HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", content_type,
      "\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
      "Connection: close\r\n\r\n", include_body ? body : absl::string_view());
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& listen_address, std::function<std::string()> render) {
  std::string host, port;
  if (absl::Status status = SplitHostPort(listen_address, &host, &port);
      !status.ok()) {
    return status;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* addresses = nullptr;
  const int resolved = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                   port.c_str(), &hints, &addresses);
  if (resolved != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve metrics address '", listen_address,
                     "': ", gai_strerror(resolved)));
  }
  int listen_fd = -1;
  absl::Status last_error = absl::UnavailableError("no address to bind");
  for (addrinfo* address = addresses; address != nullptr;
       address = address->ai_next) {
    const int fd =
        socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC,
               address->ai_protocol);
    if (fd < 0) {
      last_error = ErrnoError("socket");
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, address->ai_addr, address->ai_addrlen) != 0 ||
        listen(fd, 16) != 0) {
      last_error = ErrnoError(
          absl::StrCat("cannot listen on metrics address ", listen_address));
      close(fd);
      continue;
    }
    listen_fd = fd;
    break;
  }
  freeaddrinfo(addresses);
  if (listen_fd < 0) return last_error;

  sockaddr_storage bound{};
  socklen_t bound_size = sizeof(bound);
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
  const int bound_port =
      bound.ss_family == AF_INET6
          ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
          : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    absl::Status error = ErrnoError("pipe");
    close(listen_fd);
    return error;
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(
      listen_fd, wake[0], wake[1], bound_port, std::move(render)));
  server->thread_ = std::thread([raw = server.get()] { raw->Loop(); });
  return server;
}

MetricsHttpServer::MetricsHttpServer(int listen_fd, int wake_read_fd,
                                     int wake_write_fd, int port,
                                     std::function<std::string()> render)
    : listen_fd_(listen_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      port_(port),
      render_(std::move(render)) {}

MetricsHttpServer::~MetricsHttpServer() {
  Shutdown();
  close(listen_fd_);
  close(wake_read_fd_);
  close(wake_write_fd_);
}

void MetricsHttpServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  const char byte = 0;
  while (write(wake_write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
}

void MetricsHttpServer::Loop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int connection = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) {
      // Out of descriptors: back off instead of spinning on a ready socket.
      if (errno == EMFILE || errno == ENFILE) {
        poll(fds + 1, 1, 100);
      }
      continue;
    }
    Serve(connection);
    // Half-close, then discard whatever the client sent beyond the request,
    // so that closing does not reset the connection under the response.
    shutdown(connection, SHUT_WR);
    char discard[1024];
    while (recv(connection, discard, sizeof(discard), MSG_DONTWAIT) > 0) {
    }
    close(connection);
  }
}

void MetricsHttpServer::Serve(int connection) {
  const auto deadline = std::chrono::steady_clock::now() + kRequestTimeout;
  std::string request;
  char buffer[1024];
  bool complete = false;
  while (!complete && request.size() <= kMaxRequestBytes) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd fds[2] = {{connection, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || fds[1].revents != 0) return;
    const ssize_t received = recv(connection, buffer, sizeof(buffer), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0) break;
    request.append(buffer, static_cast<size_t>(received));
    complete = absl::StrContains(request, "\r\n\r\n") ||
               absl::StrContains(request, "\n\n");
  }
  const std::string bad_request =
      Response(400, "Bad Request", "text/plain", "bad request\n", true);
  if (!complete) {
    if (!request.empty()) SendAll(connection, bad_request);
    return;
  }
  // Request line: METHOD SP TARGET SP HTTP/1.x
  const absl::string_view line =
      absl::string_view(request).substr(0, request.find_first_of("\r\n"));
  const std::vector<absl::string_view> parts =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.")) {
    SendAll(connection, bad_request);
    return;
  }
  const absl::string_view method = parts[0];
  absl::string_view path = parts[1];
  path = path.substr(0, path.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    SendAll(connection,
            Response(405, "Method Not Allowed", "text/plain",
                     "only GET and HEAD\n", true, "Allow: GET, HEAD\r\n"));
    return;
  }
  if (path != "/metrics") {
    SendAll(connection, Response(404, "Not Found", "text/plain",
                                 "not found; try /metrics\n", !head));
    return;
  }
  SendAll(connection,
          Response(200, "OK", kMetricsContentType, render_(), !head));
}

}  // namespace epgfn
