#ifndef EPGFN_SERVER_RPC_METRICS_INTERCEPTOR_H_
#define EPGFN_SERVER_RPC_METRICS_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace epgfn {

// Counts every gRPC call by service, method and status code, and records its
// latency (ServerMetrics rpc_requests / rpc_duration_seconds), without the
// handlers knowing. A call that ends without sending a status (the client
// went away) counts as CANCELLED.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory();

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_METRICS_INTERCEPTOR_H_
