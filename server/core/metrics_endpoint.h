#ifndef EPGFN_SERVER_CORE_METRICS_ENDPOINT_H_
#define EPGFN_SERVER_CORE_METRICS_ENDPOINT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace epgfn {

// Prometheus' pull endpoint for a registry: prometheus-cpp's Exposer (an
// embedded civetweb HTTP server) answering GET /metrics with the text
// exposition format; other paths 404. No TLS and no authentication: bind it
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

  int port() const { return port_; }
  // host:port with the bound port.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer,
                  std::shared_ptr<prometheus::Registry> registry, int port,
                  std::string address);

  std::unique_ptr<prometheus::Exposer> exposer_;
  // The Exposer holds the registry weakly; keep it alive while serving.
  std::shared_ptr<prometheus::Registry> registry_;
  int port_;
  std::string address_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_METRICS_ENDPOINT_H_
