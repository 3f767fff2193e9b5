#include "server/core/metrics_endpoint.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/util/metrics_http_server.h"
#include "common/util/status_macros.h"

namespace epgfn {

MetricsEndpoint::MetricsEndpoint(std::unique_ptr<MetricsHttpServer> server,
                                 std::shared_ptr<prometheus::Registry> registry,
                                 std::string address)
    : server_(std::move(server)),
      registry_(std::move(registry)),
      address_(std::move(address)) {}

MetricsEndpoint::~MetricsEndpoint() {
  if (server_ != nullptr) server_->Shutdown();
}

int MetricsEndpoint::port() const { return server_->port(); }

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen_address,
    std::shared_ptr<prometheus::Registry> registry) {
  if (registry == nullptr) {
    return absl::InvalidArgumentError("no metrics registry");
  }
  prometheus::Registry* collected = registry.get();
  // prometheus-cpp renders the registry (its TextSerializer); the transport
  // is MetricsHttpServer, see common/util/BUILD for why not its Exposer.
  absl::StatusOr<std::unique_ptr<MetricsHttpServer>> server =
      MetricsHttpServer::Start(listen_address, [collected] {
        return prometheus::TextSerializer().Serialize(collected->Collect());
      });
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("cannot serve metrics on ", listen_address,
                                     ": ", server.status().message()));
  }
  std::string address = absl::StrCat(
      listen_address.substr(0, listen_address.rfind(':') + 1), (*server)->port());
  return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(
      *std::move(server), std::move(registry), std::move(address)));
}

}  // namespace epgfn
