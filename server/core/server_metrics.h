#ifndef EPGFN_SERVER_CORE_SERVER_METRICS_H_
#define EPGFN_SERVER_CORE_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

namespace epgfn {

// The server's metrics, as prometheus-cpp families in one registry (exposed
// by `epgfn_server --metrics_listen`, see metrics_endpoint.h). Names, labels
// and buckets are documented in server/README.md; keep the two in step.
// Labelled series are created on first use with Family::Add({{name, value}}),
// which returns the existing series for labels already seen.
struct ServerMetrics {
  // {client}: only federation members can be accepted, so the label set is
  // bounded by the spec.
  prometheus::Family<prometheus::Counter>& uploads_accepted;
  // {reason}: the refusal reasons of GetStatus.refused_uploads.
  prometheus::Family<prometheus::Counter>& uploads_refused;
  // {result}: published, failed or abandoned (shutdown).
  prometheus::Family<prometheus::Counter>& aggregation_runs;
  prometheus::Gauge& aggregation_running;
  prometheus::Gauge& aggregation_iteration;
  prometheus::Gauge& aggregation_total_iterations;
  prometheus::Gauge& aggregation_loss;
  // -1 until the first FCS is computed.
  prometheus::Gauge& aggregation_fcs_to_local_product;
  // {aggregate}: the same for each named aggregate (series created at its
  // first FCS).
  prometheus::Family<prometheus::Gauge>& aggregate_fcs_to_local_product;
  // {client}: the FCS against its own private reward that each member's
  // latest accepted upload reported (LocalDiagnostics::fcs); -1 when that
  // upload reported none. Members only, like uploads_accepted.
  prometheus::Family<prometheus::Gauge>& client_fcs;
  prometheus::Gauge& published_version;
  prometheus::Counter& samples_served;
  // {service, method, code}: every gRPC call, as the interceptor sees it.
  prometheus::Family<prometheus::Counter>& rpc_requests;
  // {service, method}: from the call's start to its status; add series with
  // LatencyBucketsSeconds().
  prometheus::Family<prometheus::Histogram>& rpc_duration_seconds;
};

// The process-wide metrics, registered on first use.
const ServerMetrics& GetServerMetrics();

// The registry they live in (what the Exposer collects).
std::shared_ptr<prometheus::Registry> ServerMetricsRegistry();

// Bucket bounds for latencies in seconds, 1 ms .. 60 s.
prometheus::Histogram::BucketBoundaries LatencyBucketsSeconds();

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SERVER_METRICS_H_
