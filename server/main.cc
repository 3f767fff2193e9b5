// epgfn_server: the federation's aggregation server, e.g.
//
//   epgfn_server --config=deploy/configs/hypergrid_demo.textproto
//     --state_dir=/var/lib/epgfn --tls_cert=server.pem --tls_key=server.key
//     --tls_client_ca=ca.pem
#include <glog/logging.h>
#include <pthread.h>
#include <torch/types.h>

#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/util/device.h"
#include "common/util/status_macros.h"
#include "server/core/config_check.h"
#include "server/core/federation_access.h"
#include "server/core/federation_config.h"
#include "server/core/metrics_endpoint.h"
#include "server/core/sampler_access.h"
#include "server/core/server_core.h"
#include "server/core/server_metrics.h"
#include "server/rpc/rpc_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve on, host:port (port 0 picks a free port).");
ABSL_FLAG(std::string, state_dir, "",
          "Directory for accepted uploads and published global models "
          "(created if missing; recovered on restart). Required.");
ABSL_FLAG(std::string, config, "",
          "FederationSpec textproto (e.g. "
          "deploy/configs/hypergrid_demo.textproto). Required.");
ABSL_FLAG(std::string, tls_cert, "", "Server certificate chain (PEM).");
ABSL_FLAG(std::string, tls_key, "", "Server private key (PEM).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "CA certificate (PEM) that client certificates must chain to; "
          "enables mutual TLS, and uploads must then come from the client "
          "named by the certificate's common name.");
ABSL_FLAG(bool, insecure, false,
          "Serve plaintext without TLS (local testing only).");
ABSL_FLAG(int32_t, threads, 0,
          "LibTorch intra-op threads (0: keep LibTorch's default, 1 here).");
ABSL_FLAG(std::string, device, "cpu",
          "Device for aggregation and sampling: cpu, cuda or cuda:N.");
ABSL_FLAG(int64_t, max_samples_per_request, 100000,
          "Largest num_samples a Sample request may ask for.");
ABSL_FLAG(int64_t, max_upload_bytes, int64_t{256} << 20,
          "Largest model payload an upload may announce, in bytes.");
ABSL_FLAG(std::string, metrics_listen, "",
          "Address (host:port) for Prometheus metrics in the text format "
          "over plain HTTP at /metrics; empty (the default): no metrics "
          "endpoint. Unauthenticated: bind to an address only the "
          "monitoring system reaches.");
ABSL_FLAG(std::string, sampler_auth, "token",
          "Who may call the Sampler service: token (a bearer token from "
          "--sampler_tokens_file in 'authorization: Bearer <token>' "
          "metadata), mtls (any client certificate verified by "
          "--tls_client_ca) or open (anyone; logged as a warning).");
ABSL_FLAG(std::string, sampler_tokens_file, "",
          "With --sampler_auth=token: a file of '<caller-name>:<token>' "
          "lines (tokens of >= 32 characters, e.g. `openssl rand -hex 32`; "
          "'#' comments and blank lines ignored).");
ABSL_FLAG(std::string, admin_tokens_file, "",
          "A file of '<operator-name>:<token>' lines (as "
          "--sampler_tokens_file) whose tokens, sent as 'authorization: "
          "Bearer <token>', allow GetStatus; empty (the default): GetStatus "
          "is refused to everyone. Client certificates never allow it.");
ABSL_FLAG(int64_t, aggregation_checkpoint_every, 500,
          "Write an aggregation checkpoint (under <state_dir>/aggregation/) "
          "every this many aggregation iterations; 0: not by count. A "
          "restarted server resumes an aggregation of the same uploads from "
          "it.");
ABSL_FLAG(int64_t, aggregation_checkpoint_seconds, 60,
          "Also write one when this many seconds passed since the last; 0: "
          "not by time.");
ABSL_FLAG(double, aggregation_settle_seconds, 0,
          "After the first version, start a re-aggregation only when no "
          "upload has been accepted for this many seconds, so that streaming "
          "updates of several clients arriving within it make one new "
          "version instead of one each; 0: re-aggregate at once.");
ABSL_FLAG(int64_t, aggregation_fcs_samples, 512,
          "At the end of each aggregation, before publication, compute the "
          "global model's FCS (Flow Consistency in Subgraphs) against the "
          "product of the local models' terminal distributions on a pool of "
          "this many of its own samples (16 backward samples per object, 256 "
          "subsets of 8; no reward is evaluated), shown by GetStatus, the "
          "metrics and the version_published line; 0: not computed.");
ABSL_FLAG(int64_t, aggregation_progress_fcs_samples, 0,
          "The same FCS at every aggregation progress report, on a pool of "
          "this many samples (each report pays for it: keep it small); 0: "
          "not at progress.");
ABSL_FLAG(int64_t, aggregation_stop_window, 0,
          "Stop an aggregation before its iteration budget once converged: "
          "the moving average of its loss over this many progress reports "
          "(one every 50 iterations) has not improved "
          "by --aggregation_stop_tolerance for --aggregation_stop_patience "
          "reports; GetStatus says why each run stopped. 0 (the default): "
          "every aggregation trains its whole budget.");
ABSL_FLAG(int64_t, aggregation_stop_patience, 4,
          "Progress reports in a row without an improvement after which the "
          "stopping rule (--aggregation_stop_window) stops an aggregation.");
ABSL_FLAG(double, aggregation_stop_tolerance, 0.05,
          "Relative improvement of the loss's moving average that the "
          "stopping rule (--aggregation_stop_window) counts as progress.");
ABSL_FLAG(double, aggregation_stop_absolute_tolerance, 0.001,
          "Absolute improvement of the loss's moving average that the "
          "stopping rule (--aggregation_stop_window) also requires (the loss "
          "decays towards 0, so a relative test alone may never fire).");
ABSL_FLAG(std::string, first_aggregation_warm_start, "none",
          "Where the first aggregation's global model starts (later ones "
          "start from the latest version): 'none', a fresh initialisation "
          "from the aggregation seed; 'client', a copy of the included "
          "client's upload with the largest weight (the first client id on "
          "a tie), which needs equal local and global architectures and "
          "stops sooner at an equal or better TV to the local product.");
ABSL_FLAG(double, progress_seconds, 10,
          "Log a progress line of a running aggregation (iteration/total, "
          "loss, TV to the local product where exact, elapsed, ETA) at most "
          "this often, and at its end; 0: none.");
ABSL_FLAG(bool, check_config, false,
          "Check the configuration and exit (like nginx -t): parse and "
          "validate --config, the TLS files, the sampler tokens, the "
          "addresses and --state_dir, print the spec digest and what would "
          "run; exit 1 naming the first problem. Nothing is bound or "
          "written.");
ABSL_FLAG(int32_t, shutdown_grace_seconds, 10,
          "On SIGTERM/SIGINT, how long in-flight calls may take to finish.");

namespace epgfn {
namespace {

int Fail(const absl::Status& status) {
  LOG(ERROR) << status;
  std::cerr << "epgfn_server: " << status.message() << std::endl;
  return 1;
}

// Blocked before any thread starts, so every thread inherits the mask and
// the signals are only ever taken by sigwait in WaitForShutdownSignal.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

absl::StatusOr<RpcServerOptions> RpcOptionsFromFlags() {
  RpcServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.max_upload_bytes = absl::GetFlag(FLAGS_max_upload_bytes);
  RETURN_IF_ERROR(options.Validate());
  SamplerAccessFlags sampler;
  sampler.auth = absl::GetFlag(FLAGS_sampler_auth);
  sampler.tokens_file = absl::GetFlag(FLAGS_sampler_tokens_file);
  sampler.mutual_tls = options.mutual_tls();
  ASSIGN_OR_RETURN(options.sampler_access,
                   SamplerAccessOptions::Create(sampler));
  FederationAccessFlags federation;
  federation.admin_tokens_file = absl::GetFlag(FLAGS_admin_tokens_file);
  federation.mutual_tls = options.mutual_tls();
  ASSIGN_OR_RETURN(options.federation_access,
                   FederationAccessOptions::Create(federation));
  return options;
}

absl::StatusOr<ServerCore::Options> CoreOptionsFromFlags(torch::Device device) {
  ASSIGN_OR_RETURN(ServerCore::Options options,
                   ServerCore::Options::Create(
                       absl::GetFlag(FLAGS_state_dir), device,
                       absl::GetFlag(FLAGS_max_samples_per_request)));
  CoordinatorOptions& coordinator = options.coordinator;
  coordinator.checkpoint_every_iterations =
      absl::GetFlag(FLAGS_aggregation_checkpoint_every);
  coordinator.checkpoint_interval =
      absl::Seconds(absl::GetFlag(FLAGS_aggregation_checkpoint_seconds));
  coordinator.progress_interval =
      absl::Seconds(absl::GetFlag(FLAGS_progress_seconds));
  coordinator.settle_window =
      absl::Seconds(absl::GetFlag(FLAGS_aggregation_settle_seconds));
  coordinator.fcs_to_local_product.num_samples =
      absl::GetFlag(FLAGS_aggregation_fcs_samples);
  coordinator.fcs_progress_samples =
      absl::GetFlag(FLAGS_aggregation_progress_fcs_samples);
  coordinator.stopping.window = absl::GetFlag(FLAGS_aggregation_stop_window);
  coordinator.stopping.patience =
      absl::GetFlag(FLAGS_aggregation_stop_patience);
  coordinator.stopping.relative_tolerance =
      absl::GetFlag(FLAGS_aggregation_stop_tolerance);
  coordinator.stopping.absolute_tolerance =
      absl::GetFlag(FLAGS_aggregation_stop_absolute_tolerance);
  ASSIGN_OR_RETURN(coordinator.first_aggregation_warm_start,
                   ParseAggregationWarmStart(
                       absl::GetFlag(FLAGS_first_aggregation_warm_start)));
  RETURN_IF_ERROR(options.Validate());
  return options;
}

// --check_config: what would run, or the first problem.
int CheckConfig(const FederationConfig& config,
                const ServerCore::Options& core_options,
                const RpcServerOptions& rpc_options) {
  if (absl::Status status = core_options.coordinator.ValidateFor(config);
      !status.ok()) {
    return Fail(status);
  }
  absl::StatusOr<std::string> report = CheckServerSetup(
      config,
      {absl::GetFlag(FLAGS_listen), absl::GetFlag(FLAGS_insecure),
       absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
       absl::GetFlag(FLAGS_tls_client_ca), absl::GetFlag(FLAGS_metrics_listen),
       absl::GetFlag(FLAGS_state_dir), absl::GetFlag(FLAGS_sampler_auth),
       static_cast<int64_t>(rpc_options.sampler_access.tokens.size()),
       absl::GetFlag(FLAGS_device)});
  if (!report.ok()) return Fail(report.status());
  std::cout << *report << absl::GetFlag(FLAGS_config) << ": configuration OK"
            << std::endl;
  return 0;
}

void WarnAboutTransport(const RpcServerOptions& options) {
  if (options.insecure) {
    LOG(WARNING) << "*** WARNING: serving WITHOUT TLS (--insecure): uploads, "
                    "models and client ids travel in plaintext and anyone "
                    "who can reach the port can upload as any client. ***";
  } else if (!options.mutual_tls()) {
    LOG(WARNING) << "TLS without client certificates (no --tls_client_ca): "
                    "clients are not authenticated.";
  }
}

// --metrics_listen's endpoint; null when the flag is empty.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsFromFlags() {
  const std::string address = absl::GetFlag(FLAGS_metrics_listen);
  if (address.empty()) return std::unique_ptr<MetricsEndpoint>();
  ASSIGN_OR_RETURN(std::unique_ptr<MetricsEndpoint> endpoint,
                   MetricsEndpoint::Start(address, ServerMetricsRegistry()));
  LOG(INFO) << "metrics on http://" << endpoint->address() << "/metrics";
  std::cout << "metrics listening on " << endpoint->address() << std::endl;
  return endpoint;
}

// The listen address with the port actually bound (port 0 picks one).
std::string BoundAddress(const RpcServerOptions& options, int port) {
  std::string address = options.listen_address;
  const size_t colon = address.rfind(':');
  if (colon != std::string::npos) {
    address = absl::StrCat(address.substr(0, colon + 1), port);
  }
  return address;
}

void WaitForShutdownSignal(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG(INFO) << "received " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down";
}

// Serves until SIGTERM or SIGINT, then shuts down in order: the RPC server
// (in-flight calls get the grace period), the metrics, the core.
int Serve(std::shared_ptr<const FederationConfig> config,
          const ServerCore::Options& core_options,
          const RpcServerOptions& rpc_options, const sigset_t& signals) {
  absl::StatusOr<std::unique_ptr<ServerCore>> core =
      ServerCore::Create(config, core_options);
  if (!core.ok()) return Fail(core.status());
  absl::StatusOr<std::unique_ptr<RpcServer>> server =
      RpcServer::Start(core->get(), rpc_options);
  if (!server.ok()) return Fail(server.status());
  WarnAboutTransport(rpc_options);
  const std::string address = BoundAddress(rpc_options, (*server)->port());
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> metrics_endpoint =
      StartMetricsFromFlags();
  if (!metrics_endpoint.ok()) return Fail(metrics_endpoint.status());
  LOG(INFO) << "listening on " << address;
  std::cout << "listening on " << address << std::endl;

  WaitForShutdownSignal(signals);
  (*server)->Shutdown(
      absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  server->reset();
  metrics_endpoint->reset();
  core->reset();
  LOG(INFO) << "shut down";
  return 0;
}

int Run() {
  const sigset_t signals = BlockShutdownSignals();
  if (absl::GetFlag(FLAGS_config).empty()) {
    return Fail(absl::InvalidArgumentError("--config is required"));
  }
  absl::StatusOr<torch::Device> device =
      ParseDevice(absl::GetFlag(FLAGS_device));
  if (!device.ok()) return Fail(device.status());
  if (absl::GetFlag(FLAGS_threads) != 0) {
    if (absl::Status status = SetIntraOpThreads(absl::GetFlag(FLAGS_threads));
        !status.ok()) {
      return Fail(status);
    }
  }
  absl::StatusOr<RpcServerOptions> rpc_options = RpcOptionsFromFlags();
  if (!rpc_options.ok()) return Fail(rpc_options.status());
  absl::StatusOr<ServerCore::Options> core_options =
      CoreOptionsFromFlags(*device);
  if (!core_options.ok()) return Fail(core_options.status());
  absl::StatusOr<std::shared_ptr<const FederationConfig>> config =
      LoadFederationConfig(absl::GetFlag(FLAGS_config));
  if (!config.ok()) return Fail(config.status());
  if (absl::GetFlag(FLAGS_check_config)) {
    return CheckConfig(**config, *core_options, *rpc_options);
  }
  LOG(INFO) << "federation '" << (*config)->spec.name()
            << "': " << (*config)->num_clients() << " clients, environment "
            << (*config)->environment->config().ToString() << ", spec digest "
            << (*config)->spec_digest;
  return Serve(*config, *core_options, *rpc_options, signals);
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The EP-GFlowNet federation's aggregation server: accepts local models "
      "from the federation's clients, aggregates them into a global model and "
      "serves it (Federation and Sampler gRPC services).");
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return epgfn::Run();
}
