#include "server/core/server_metrics.h"

namespace epgfn {
namespace {

prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry& registry, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

// A gauge without labels: its one series exists (at 0) from the start, so a
// scrape shows it before anything happened.
prometheus::Gauge& PlainGauge(prometheus::Registry& registry, const char* name,
                              const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(
      {});
}

// A gauge whose 0 would read as a perfect score: -1 until first set.
prometheus::Gauge& NotYetGauge(prometheus::Registry& registry, const char* name,
                               const char* help) {
  prometheus::Gauge& gauge = PlainGauge(registry, name, help);
  gauge.Set(-1);
  return gauge;
}

}  // namespace

std::shared_ptr<prometheus::Registry> ServerMetricsRegistry() {
  static const auto* registry = new std::shared_ptr<prometheus::Registry>(
      std::make_shared<prometheus::Registry>());
  return *registry;
}

prometheus::Histogram::BucketBoundaries LatencyBucketsSeconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1,      2.5,   5,    10,    30,   60};
}

const ServerMetrics& GetServerMetrics() {
  static const ServerMetrics* metrics = [] {
    prometheus::Registry& registry = *ServerMetricsRegistry();
    return new ServerMetrics{
        CounterFamily(registry, "epgfn_uploads_accepted_total",
                      "Uploads accepted and stored, by client."),
        CounterFamily(registry, "epgfn_uploads_refused_total",
                      "Uploads refused, by reason."),
        CounterFamily(registry, "epgfn_aggregation_runs_total",
                      "Aggregation runs that ended, by result (published, "
                      "failed, abandoned)."),
        PlainGauge(registry, "epgfn_aggregation_running",
                   "1 while an aggregation runs, else 0."),
        PlainGauge(registry, "epgfn_aggregation_iteration",
                   "Iteration of the running (or last) aggregation at its "
                   "last progress report."),
        PlainGauge(registry, "epgfn_aggregation_total_iterations",
                   "Iterations of the running (or last) aggregation."),
        PlainGauge(registry, "epgfn_aggregation_loss",
                   "Aggregating balance loss at the last progress report."),
        NotYetGauge(registry, "epgfn_aggregation_fcs_to_local_product",
                    "FCS (0 best, 1 worst) of the last global model against "
                    "the product of the local models' terminal "
                    "distributions, estimated on its own samples; -1 until "
                    "computed."),
        GaugeFamily(registry, "epgfn_aggregate_fcs_to_local_product",
                    "epgfn_aggregation_fcs_to_local_product of each named "
                    "aggregate, by aggregate."),
        GaugeFamily(registry, "epgfn_client_fcs",
                    "FCS (0 best, 1 worst) of each client's local model "
                    "against its own private reward, as its latest accepted "
                    "upload reported it (not checked by the server); -1 when "
                    "that upload reported none. By client."),
        PlainGauge(registry, "epgfn_published_version",
                   "Latest published global model version (0: none)."),
        CounterFamily(registry, "epgfn_samples_served_total",
                      "Objects streamed by the Sampler service.")
            .Add({}),
        CounterFamily(registry, "epgfn_rpc_requests_total",
                      "gRPC calls finished, by service, method and status "
                      "code."),
        prometheus::BuildHistogram()
            .Name("epgfn_rpc_duration_seconds")
            .Help("gRPC call latency from start to status, by service and "
                  "method.")
            .Register(registry),
    };
  }();
  return *metrics;
}

}  // namespace epgfn
