#include "server/core/server_metrics.h"

namespace epgfn {

const ServerMetrics& GetServerMetrics() {
  static const ServerMetrics* metrics = [] {
    MetricsRegistry& registry = MetricsRegistry::Default();
    return new ServerMetrics{
        registry.AddCounter("epgfn_uploads_accepted_total",
                            "Uploads accepted and stored, by client.",
                            {"client"}),
        registry.AddCounter("epgfn_uploads_refused_total",
                            "Uploads refused, by reason.", {"reason"}),
        registry.AddCounter(
            "epgfn_aggregation_runs_total",
            "Aggregation runs that ended, by result (published, failed, "
            "abandoned).",
            {"result"}),
        registry
            .AddGauge("epgfn_aggregation_running",
                      "1 while an aggregation runs, else 0.")
            .Get(),
        registry
            .AddGauge("epgfn_aggregation_iteration",
                      "Iteration of the running (or last) aggregation at "
                      "its last progress report.")
            .Get(),
        registry
            .AddGauge("epgfn_aggregation_total_iterations",
                      "Iterations of the running (or last) aggregation.")
            .Get(),
        registry
            .AddGauge("epgfn_aggregation_loss",
                      "Aggregating balance loss at the last progress "
                      "report.")
            .Get(),
        registry
            .AddGauge("epgfn_published_version",
                      "Latest published global model version (0: none).")
            .Get(),
        registry
            .AddCounter("epgfn_samples_served_total",
                        "Objects streamed by the Sampler service.")
            .Get(),
        registry.AddCounter("epgfn_rpc_requests_total",
                            "gRPC calls finished, by service, method and "
                            "status code.",
                            {"service", "method", "code"}),
        registry.AddHistogram("epgfn_rpc_duration_seconds",
                              "gRPC call latency from start to status, by "
                              "service and method.",
                              LatencyBucketsSeconds(), {"service", "method"}),
    };
  }();
  return *metrics;
}

}  // namespace epgfn
