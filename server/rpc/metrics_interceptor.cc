#include "server/rpc/metrics_interceptor.h"

#include <glog/logging.h>

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "common/util/event_log.h"
#include "server/core/server_metrics.h"

namespace epgfn {
namespace {

// gRPC's canonical code name ("INVALID_ARGUMENT"), the metric's label value.
// gRPC's codes are numerically absl's; absl names an unknown code "", which
// the label spells "UNKNOWN" as gRPC does.
std::string CodeName(grpc::StatusCode code) {
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MetricsInterceptor(grpc::experimental::ServerRpcInfo* info)
      : start_(std::chrono::steady_clock::now()) {
    // "/epgfn.v1.Sampler/Sample" -> service, method.
    const std::string full = info->method() != nullptr ? info->method() : "";
    const size_t slash = full.rfind('/');
    if (full.size() > 1 && full[0] == '/' && slash != 0 &&
        slash != std::string::npos) {
      service_ = full.substr(1, slash - 1);
      method_ = full.substr(slash + 1);
    } else {
      service_ = "unknown";
      method_ = full.empty() ? "unknown" : full;
    }
  }

  ~MetricsInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    const ServerMetrics& metrics = GetServerMetrics();
    metrics.rpc_requests
        .Add({{"service", service_},
              {"method", method_},
              {"code", CodeName(code)}})
        .Increment();
    metrics.rpc_duration_seconds
        .Add({{"service", service_}, {"method", method_}},
             LatencyBucketsSeconds())
        .Observe(seconds);
    VLOG(1) << Event("rpc_finished")
                   .With("service", service_)
                   .With("method", method_)
                   .With("code", CodeName(code))
                   .With("seconds", seconds);
  }

  const std::chrono::steady_clock::time_point start_;
  std::string service_;
  std::string method_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeMetricsInterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>();
}

}  // namespace epgfn
