#include "server/core/metrics_endpoint.h"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace epgfn {

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<prometheus::Exposer> exposer,
                                 std::shared_ptr<prometheus::Registry> registry,
                                 int port, std::string address)
    : exposer_(std::move(exposer)),
      registry_(std::move(registry)),
      port_(port),
      address_(std::move(address)) {}

MetricsEndpoint::~MetricsEndpoint() = default;

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen_address,
    std::shared_ptr<prometheus::Registry> registry) {
  const size_t colon = listen_address.rfind(':');
  int requested_port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(listen_address.substr(colon + 1), &requested_port) ||
      requested_port < 0 || requested_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address '", listen_address, "' is not host:port"));
  }
  if (registry == nullptr) {
    return absl::InvalidArgumentError("no metrics registry");
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // One thread: scrapes are rare and cheap.
    exposer = std::make_unique<prometheus::Exposer>(listen_address, 1);
  } catch (const std::exception& error) {
    // civetweb reports every bind failure as "null context".
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen_address,
                     " (address in use or not local?): ", error.what()));
  }
  exposer->RegisterCollectable(registry);
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) {
    return absl::InternalError(
        absl::StrCat("metrics endpoint on ", listen_address, " has no port"));
  }
  std::string address =
      absl::StrCat(listen_address.substr(0, colon + 1), ports[0]);
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(
      std::move(exposer), std::move(registry), ports[0], std::move(address)));
}

}  // namespace epgfn
