#ifndef EPGFN_SERVER_CORE_SERVER_METRICS_H_
#define EPGFN_SERVER_CORE_SERVER_METRICS_H_

#include "common/util/metrics.h"

namespace epgfn {

// The server's metrics, in MetricsRegistry::Default() (exposed by
// `epgfn_server --metrics_listen`). Names and labels are documented in
// server/README.md; keep the two in step.
struct ServerMetrics {
  // {client}: only federation members can be accepted, so the label set is
  // bounded by the spec.
  MetricFamily<Counter>& uploads_accepted;
  // {reason}: the refusal reasons of GetStatus.refused_uploads.
  MetricFamily<Counter>& uploads_refused;
  // {result}: published, failed or abandoned (shutdown).
  MetricFamily<Counter>& aggregation_runs;
  Gauge& aggregation_running;
  Gauge& aggregation_iteration;
  Gauge& aggregation_total_iterations;
  Gauge& aggregation_loss;
  Gauge& published_version;
  Counter& samples_served;
  // {service, method, code}: every gRPC call, as the interceptor sees it.
  MetricFamily<Counter>& rpc_requests;
  // {service, method}: from the call's start to its status.
  MetricFamily<Histogram>& rpc_duration_seconds;
};

const ServerMetrics& GetServerMetrics();

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SERVER_METRICS_H_
