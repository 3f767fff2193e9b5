// Loopback throughput of the federation's RPC paths, through the real server
// (ServerCore + gRPC) and the real client library:
//  - upload: a ~50 MB local model, end to end (chunking, SHA-256, the
//    server's validation of every tensor, the atomic write with fsync),
//    after a breakdown of its pieces (upload_pieces.h);
//  - sampler: objects/s for K = 10,000 per request, and latency of K = 1.
//
//   bazel run -c opt //tests/bench:rpc_throughput
#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/core/channel.h"
#include "client/core/federation_client.h"
#include "client/core/sampler_client.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/train/trainer.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "server/core/federation_config.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"
#include "tests/bench/upload_pieces.h"

ABSL_FLAG(int64_t, upload_width, 2500,
          "Hidden width of the uploaded model (3 layers: 2500 gives ~50 MB, "
          "2048 ~34 MB).");
ABSL_FLAG(int, upload_repeats, 3, "Uploads timed (rounds 1..n).");
ABSL_FLAG(int, piece_repeats, 5,
          "Runs of each upload piece (the breakdown prints their median); "
          "0 skips the breakdown.");
ABSL_FLAG(int64_t, sample_k, 10000, "Objects per throughput request.");
ABSL_FLAG(int, sample_repeats, 10, "Throughput requests timed.");
ABSL_FLAG(int, latency_requests, 1000, "K = 1 requests timed.");
ABSL_FLAG(int, threads, 1, "LibTorch intra-op threads of the server.");

namespace epgfn {
namespace {

v1::FederationSpec Spec(int64_t width, int clients) {
  v1::FederationSpec spec;
  spec.set_name("rpc-benchmark");
  spec.mutable_environment()->set_kind("hypergrid");
  (*spec.mutable_environment()->mutable_params())["dim"] = "2";
  (*spec.mutable_environment()->mutable_params())["side"] = "8";
  spec.mutable_local_architecture()->set_hidden_width(width);
  spec.mutable_local_architecture()->set_hidden_layers(3);
  spec.mutable_global_architecture()->set_hidden_width(128);
  spec.mutable_global_architecture()->set_hidden_layers(2);
  for (int i = 0; i < clients; ++i)
    spec.add_client_ids(absl::StrCat("client-", i));
  spec.mutable_aggregation()->set_iterations(300);
  spec.mutable_aggregation()->set_batch_size(64);
  return spec;
}

struct Federation {
  std::unique_ptr<ServerCore> core;
  std::unique_ptr<RpcServer> server;
  std::shared_ptr<grpc::Channel> channel;
};

absl::StatusOr<Federation> Start(const v1::FederationSpec& spec,
                                 const std::string& state_dir) {
  Federation federation;
  auto config = FederationConfigFromSpec(spec);
  if (!config.ok()) return config.status();
  auto core_options =
      ServerCoreOptions::Create(state_dir, torch::kCPU, 1 << 20);
  if (!core_options.ok()) return core_options.status();
  auto core = ServerCore::Create(*config, *core_options);
  if (!core.ok()) return core.status();
  federation.core = std::move(core).value();
  RpcServerOptions rpc_options;
  rpc_options.listen_address = "127.0.0.1:0";
  rpc_options.insecure = true;
  rpc_options.max_upload_bytes = int64_t{1} << 30;
  // Plaintext and open: the bare RPC path (sampler_load measures TLS + token).
  rpc_options.sampler_access = SamplerAccessOptions::Open();
  auto server = RpcServer::Start(federation.core.get(), rpc_options);
  if (!server.ok()) return server.status();
  federation.server = std::move(server).value();
  ChannelOptions channel;
  channel.target = absl::StrCat("127.0.0.1:", federation.server->port());
  channel.insecure = true;
  auto made = MakeChannel(channel);
  if (!made.ok()) return made.status();
  federation.channel = *made;
  return federation;
}

double Percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(q * values.size()))];
}

void Stop(Federation& federation) {
  federation.server->Shutdown(absl::Seconds(1));
  federation.core->BeginShutdown();
}

// Upload: two expected clients and only one uploads, so no aggregation
// runs in the background while the uploads are timed.
absl::Status BenchUpload(const std::string& state_dir) {
  v1::FederationSpec spec = Spec(absl::GetFlag(FLAGS_upload_width), 2);
  auto federation = Start(spec, state_dir);
  if (!federation.ok()) return federation.status();
  const Environment& environment = *federation->core->config().environment;
  PolicyNet policy =
      *MakePolicy(environment, federation->core->config().local_architecture, 1,
                  torch::kCPU);
  v1::ModelWeights weights = ExportModel(environment, policy);
  const double megabytes = weights.ByteSizeLong() / 1e6;
  if (absl::GetFlag(FLAGS_piece_repeats) > 0) {
    auto config = FederationConfigFromSpec(spec);
    if (!config.ok()) return config.status();
    RETURN_IF_ERROR(PrintUploadPieces(*config, weights, federation->channel,
                                      state_dir + "/pieces",
                                      absl::GetFlag(FLAGS_piece_repeats)));
  }
  FederationClient client(federation->channel, {});
  auto fetched = client.GetSpec("client-0");
  if (!fetched.ok()) return fetched.status();
  std::printf("| upload | model bytes | seconds | MB/s |\n|---|---|---|---|\n");
  for (int round = 1; round <= absl::GetFlag(FLAGS_upload_repeats); ++round) {
    const auto start = Clock::now();
    auto uploaded = client.UploadModel(weights, "client-0",
                                       fetched->spec_digest, round, {});
    if (!uploaded.ok()) return uploaded.status();
    const double seconds = SecondsSince(start);
    std::printf("| round %d | %.1f MB | %.3f | %.0f |\n", round, megabytes,
                seconds, megabytes / seconds);
  }
  Stop(*federation);
  return absl::OkStatus();
}

// One client uploads one model and waits for the server's version of it.
absl::Status PublishOneVersion(Federation& federation) {
  const Environment& environment = *federation.core->config().environment;
  PolicyNet policy =
      *MakePolicy(environment, federation.core->config().local_architecture, 1,
                  torch::kCPU);
  FederationClient client(federation.channel, {});
  auto fetched = client.GetSpec("client-0");
  if (!fetched.ok()) return fetched.status();
  auto uploaded = client.UploadModel(ExportModel(environment, policy),
                                     "client-0", fetched->spec_digest, 1, {});
  if (!uploaded.ok()) return uploaded.status();
  auto version = client.WaitForVersion(0, absl::Now() + absl::Minutes(5));
  if (!version.ok()) return version.status();
  return absl::OkStatus();
}

// Seconds of each of `repeats` Sample calls of `k` objects, after `warm_up`
// untimed ones.
absl::StatusOr<std::vector<double>> TimeSampleCalls(SamplerClient& sampler,
                                                    int64_t k, int repeats,
                                                    int warm_up) {
  v1::SampleRequest request;
  request.set_num_samples(k);
  std::vector<double> seconds;
  for (int i = 0; i < repeats + warm_up; ++i) {
    const auto start = Clock::now();
    auto result = sampler.Sample(request);
    if (!result.ok()) return result.status();
    if (static_cast<int64_t>(result->objects.size()) != k) {
      return absl::InternalError("sampler returned the wrong count");
    }
    if (i >= warm_up) seconds.push_back(SecondsSince(start));
  }
  return seconds;
}

// Sampler: one client, one published version.
absl::Status BenchSampler(const std::string& state_dir) {
  v1::FederationSpec spec = Spec(128, 1);
  spec.mutable_local_architecture()->set_hidden_layers(2);
  auto federation = Start(spec, state_dir);
  if (!federation.ok()) return federation.status();
  RETURN_IF_ERROR(PublishOneVersion(*federation));
  SamplerClient sampler(federation->channel, {});
  const int64_t k = absl::GetFlag(FLAGS_sample_k);
  auto seconds =
      TimeSampleCalls(sampler, k, absl::GetFlag(FLAGS_sample_repeats), 1);
  if (!seconds.ok()) return seconds.status();
  const double median = Percentile(*seconds, 0.5);
  std::printf("\n| sampler | value |\n|---|---|\n");
  std::printf("| K = %lld, median request | %.1f ms (%.0f objects/s) |\n",
              static_cast<long long>(k), 1e3 * median, k / median);
  auto latencies =
      TimeSampleCalls(sampler, 1, absl::GetFlag(FLAGS_latency_requests), 0);
  if (!latencies.ok()) return latencies.status();
  std::printf(
      "| K = 1 latency p50 | %.3f ms |\n| K = 1 latency p99 | %.3f ms |\n",
      1e3 * Percentile(*latencies, 0.5), 1e3 * Percentile(*latencies, 0.99));
  Stop(*federation);
  return absl::OkStatus();
}

absl::Status Run() {
  // Before the server's thread count is set: the figure is one-thread sgemm.
  std::printf("%s\n\n", MachineReportLine().c_str());
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  const std::string root =
      absl::StrCat(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp",
                   "/epgfn-rpc-bench-", getpid());
  RETURN_IF_ERROR(BenchUpload(root + "/upload"));
  return BenchSampler(root + "/sampler");
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Upload and sampler throughput of the federation over loopback gRPC.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("rpc_throughput", epgfn::Run());
}
