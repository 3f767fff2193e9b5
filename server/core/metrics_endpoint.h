#ifndef EPGFN_SERVER_CORE_METRICS_ENDPOINT_H_
#define EPGFN_SERVER_CORE_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace epgfn {

class MetricsHttpServer;

// Prometheus' pull endpoint for a registry: GET /metrics answers with the
// registry in the text exposition format (prometheus-cpp's TextSerializer);
// other paths 404. The transport is MetricsHttpServer, not prometheus-cpp's
// Exposer, which cannot start in a process that loads Debian's LibTorch. No TLS and no authentication: bind it
// to an address only the monitoring system reaches (e.g. 127.0.0.1).
class MetricsEndpoint {
 public:
  // Listening when this returns. `listen_address` is host:port (port 0 picks
  // a free port). Fails with the address named when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen_address,
      std::shared_ptr<prometheus::Registry> registry);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const;
  // host:port with the bound port.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint(std::unique_ptr<MetricsHttpServer> server,
                  std::shared_ptr<prometheus::Registry> registry,
                  std::string address);

  std::unique_ptr<MetricsHttpServer> server_;
  std::shared_ptr<prometheus::Registry> registry_;  // what it renders
  std::string address_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_METRICS_ENDPOINT_H_
