#ifndef EPGFN_COMMON_UTIL_METRICS_HTTP_SERVER_H_
#define EPGFN_COMMON_UTIL_METRICS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace epgfn {

// A minimal HTTP/1.1 server for Prometheus scrapes: one thread, one
// connection at a time, `GET /metrics` (or HEAD) answers 200 with the text
// that `render` returns; any other path 404, other methods 405, malformed or
// oversized requests 400. Every response closes its connection. A client
// that does not send its request within 5 seconds is dropped, so a stuck
// scraper delays the next one by at most that long. No TLS and no
// authentication: bind it to an address only the monitoring system reaches.
class MetricsHttpServer {
 public:
  // Listening when this returns. `listen_address` is host:port ("[::1]:0"
  // for IPv6; port 0 picks a free port). `render` is called on the server's
  // thread for every scrape.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen_address, std::function<std::string()> render);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Stops accepting, drops a connection being served and joins the thread.
  // Idempotent.
  void Shutdown();

 private:
  MetricsHttpServer(int listen_fd, int wake_read_fd, int wake_write_fd,
                    int port, std::function<std::string()> render);
  void Loop();
  void Serve(int connection_fd);

  const int listen_fd_;
  // Writing a byte to the pipe wakes the loop for shutdown.
  const int wake_read_fd_;
  const int wake_write_fd_;
  const int port_;
  const std::function<std::string()> render_;
  std::thread thread_;
  bool shut_down_ = false;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_METRICS_HTTP_SERVER_H_
