// epgfn_client: the daemon a data-holding institution runs. It fetches the
// federation's spec, trains a local GFlowNet on its private reward, uploads
// only the weights and the (alpha, beta) diagnostics, then waits for the
// global model that aggregates its upload, downloads and verifies it, and
// keeps it under --state_dir.
//
//   epgfn_client --server=host:port --client_id=client-2
//     --tls_ca=ca.pem --tls_cert=client-2.pem --tls_key=client-2.key
//     --state_dir=/var/lib/epgfn/client-2 --reward=client:index=2,count=4
#include <glog/logging.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/core/channel.h"
#include "client/core/federation_client.h"
#include "client/core/local_training.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/model/spec_conversion.h"
#include "common/train/progress_reporter.h"
#include "common/util/device.h"
#include "common/util/event_log.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "server/core/directory_lock.h"
#include "common/util/tls_files.h"
#include "server/core/federation_config.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "Address (host:port) of the federation server.");
ABSL_FLAG(std::string, client_id, "",
          "This client's id; must be listed in the federation spec and, with "
          "mutual TLS, be the common name of --tls_cert.");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of this client's certificate (mutual TLS).");
ABSL_FLAG(std::string, tls_key, "",
          "PEM file of this client's private key (mutual TLS).");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name to check the server certificate against, when it differs "
          "from the host in --server.");
ABSL_FLAG(bool, insecure, false,
          "Use a plaintext channel (testing only); excludes the --tls_* "
          "flags.");
ABSL_FLAG(std::string, state_dir, "",
          "Directory for the trained local model (reused on restart) and the "
          "downloaded global models.");
ABSL_FLAG(std::string, reward, "",
          "This client's private reward on the federation's environment, "
          "e.g. 'client:index=2,count=4'. Never sent to the server.");
ABSL_FLAG(std::string, device, "cpu", "Training device: cpu or cuda.");
ABSL_FLAG(int32_t, threads, 1,
          "Intra-op threads for LibTorch (set explicitly; the default is 1).");
ABSL_FLAG(int64_t, iterations, 0,
          "Overrides the spec's local training iterations (0: the spec's).");
ABSL_FLAG(int64_t, batch_size, 0,
          "Overrides the spec's local training batch size (0: the spec's).");
ABSL_FLAG(int64_t, diagnostics_trajectories, 4096,
          "On-policy trajectories for the (alpha, beta) diagnostics.");
ABSL_FLAG(int64_t, wait_seconds, 1800,
          "How long to wait for a global model that includes this client's "
          "upload.");
ABSL_FLAG(int32_t, rpc_attempts, 6,
          "Attempts per RPC when the server is unreachable: gRPC's own retry "
          "policy for unary calls (at most 5), exponential backoff with "
          "jitter between attempts of the streams.");
ABSL_FLAG(double, progress_seconds, 10,
          "Print a progress line of local training (iteration/total, loss, "
          "elapsed, ETA) on stderr at most this often, and at its end; 0: "
          "none.");
ABSL_FLAG(bool, check_config, false,
          "Check this client's setup and exit without training: the TLS "
          "files, then the federation's spec (from --spec_file, else fetched "
          "from --server), membership of --client_id, and the environment, "
          "reward (reading its data files) and policy built from it; prints "
          "what would run, exits 1 naming the first problem.");
ABSL_FLAG(std::string, spec_file, "",
          "With --check_config: the federation's FederationSpec textproto "
          "(as the server operator distributes it), to check offline "
          "instead of asking the server.");
ABSL_FLAG(double, connect_timeout_seconds, 5.0,
          "How long one attempt of a stream waits for the connection and TLS "
          "handshake; unary calls wait --rpc_attempts times this in all.");

namespace epgfn {
namespace {

bool Includes(const v1::GlobalModelAnnouncement& announcement,
              const std::string& client_id) {
  for (const std::string& id : announcement.client_ids()) {
    if (id == client_id) return true;
  }
  return false;
}

double MegabytesPerSecond(int64_t bytes, double seconds) {
  return seconds > 0 ? bytes / 1e6 / seconds : 0.0;
}

// --check_config: everything up to training, nothing trained or sent.
absl::Status CheckConfig(FederationClient& client,
                         const LocalTrainingOptions& training_options) {
  const std::string client_id = absl::GetFlag(FLAGS_client_id);
  if (!absl::GetFlag(FLAGS_insecure)) {
    ASSIGN_OR_RETURN(const std::string tls,
                     CheckTlsFiles(absl::GetFlag(FLAGS_tls_cert),
                                   absl::GetFlag(FLAGS_tls_key),
                                   absl::GetFlag(FLAGS_tls_ca)));
    std::printf("TLS:\n%s", tls.c_str());
  }
  SpecResult spec;
  if (const std::string path = absl::GetFlag(FLAGS_spec_file); !path.empty()) {
    // Validated as the server validates its --config.
    ASSIGN_OR_RETURN(std::shared_ptr<const FederationConfig> config,
                     LoadFederationConfig(path));
    spec.spec = config->spec;
    spec.spec_digest = config->spec_digest;
    std::printf("spec: %s (offline)\n", path.c_str());
  } else {
    ASSIGN_OR_RETURN(spec, client.GetSpec(client_id));
    std::printf("spec: fetched from %s\n", absl::GetFlag(FLAGS_server).c_str());
  }
  bool listed = false;
  for (const std::string& id : spec.spec.client_ids())
    listed |= id == client_id;
  if (!listed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client id '", client_id, "' is not a member of federation '",
        spec.spec.name(), "'"));
  }
  ASSIGN_OR_RETURN(const std::string report,
                   CheckLocalTraining(spec.spec, training_options));
  std::printf("federation '%s', spec digest %s\nclient: %s\n%s",
              spec.spec.name().c_str(), spec.spec_digest.c_str(),
              client_id.c_str(), report.c_str());
  std::printf("configuration OK\n");
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string client_id = absl::GetFlag(FLAGS_client_id);
  const std::string state_dir = absl::GetFlag(FLAGS_state_dir);
  const std::string reward = absl::GetFlag(FLAGS_reward);
  if (client_id.empty() || state_dir.empty() || reward.empty()) {
    return absl::InvalidArgumentError(
        "--client_id, --state_dir and --reward are required");
  }
  ASSIGN_OR_RETURN(const torch::Device device,
                   ParseDevice(absl::GetFlag(FLAGS_device)));
  RETURN_IF_ERROR(SetIntraOpThreads(absl::GetFlag(FLAGS_threads)));
  // Held until the process exits: two daemons on one state directory would
  // train and upload over each other's files.
  std::unique_ptr<DirectoryLock> state_lock;
  if (!absl::GetFlag(FLAGS_check_config)) {
    ASSIGN_OR_RETURN(state_lock,
                     DirectoryLock::Acquire(state_dir, "epgfn_client"));
  }

  ASSIGN_OR_RETURN(
      const ChannelOptions channel_options,
      ChannelOptionsFromFlags(
          {absl::GetFlag(FLAGS_server), absl::GetFlag(FLAGS_insecure),
           absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
           absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_tls_server_name),
           absl::GetFlag(FLAGS_rpc_attempts)}));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   MakeChannel(channel_options));
  FederationClientOptions client_options;
  client_options.retry.max_attempts = absl::GetFlag(FLAGS_rpc_attempts);
  client_options.connect_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds));
  // A unary call waits for the connection (waitForReady) as long as the
  // attempts of a stream would in all.
  client_options.rpc_timeout = client_options.connect_timeout *
                               std::max(1, absl::GetFlag(FLAGS_rpc_attempts));
  FederationClient client(channel, client_options);
  if (absl::GetFlag(FLAGS_check_config)) {
    LocalTrainingOptions check;
    check.reward = reward;
    check.iterations = absl::GetFlag(FLAGS_iterations);
    check.batch_size = absl::GetFlag(FLAGS_batch_size);
    check.device = device;
    return CheckConfig(client, check);
  }

  // 1. The federation's spec. The server checks here, before any training,
  // that the certificate is this member's (PERMISSION_DENIED otherwise).
  ASSIGN_OR_RETURN(SpecResult spec, client.GetSpec(client_id));
  // Every event line names the federation and this client.
  const auto event = [&](absl::string_view name) {
    Event line(name);
    line.With("federation", spec.spec.name()).With("client", client_id);
    return line;
  };
  LOG(INFO) << event("spec_received")
                   .With("spec", spec.spec_digest.substr(0, 12))
                   .With("environment",
                         EnvironmentConfigFromProto(spec.spec.environment())
                             .ToString())
                   .With("local_architecture",
                         spec.spec.local_architecture().ShortDebugString());
  if (FederationSpecDigest(spec.spec) != spec.spec_digest) {
    LOG(WARNING) << event("spec_digest_differs")
                        .With("detail",
                              "the server's spec digest differs from the one "
                              "computed here; uploads quote the server's");
  }
  bool listed = false;
  for (const std::string& id : spec.spec.client_ids())
    listed |= id == client_id;
  if (!listed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client id '", client_id, "' is not a member of federation '",
        spec.spec.name(), "'"));
  }

  // 2. Local training on the private reward (or the model a previous run
  // left).
  LocalTrainingOptions training_options;
  training_options.reward = reward;
  training_options.state_dir = state_dir;
  training_options.iterations = absl::GetFlag(FLAGS_iterations);
  training_options.batch_size = absl::GetFlag(FLAGS_batch_size);
  training_options.device = device;
  training_options.diagnostics_trajectories =
      absl::GetFlag(FLAGS_diagnostics_trajectories);
  // Callbacks every 10 iterations; the reporter keeps one line per
  // --progress_seconds of them.
  training_options.progress_every = 10;
  ProgressReporter reporter(
      "local training", absl::Seconds(absl::GetFlag(FLAGS_progress_seconds)),
      [](const std::string& line) {
        std::fprintf(stderr, "epgfn_client: %s\n", line.c_str());
      });
  ASSIGN_OR_RETURN(
      LocalTrainingResult trained,
      TrainOrReuseLocalModel(
          spec.spec, spec.spec_digest, training_options,
          [&](const TrainingProgress& progress) {
            reporter.Update({progress.iteration, progress.total_iterations,
                             progress.loss, std::nullopt, std::nullopt});
            if (progress.iteration % 100 != 0 &&
                progress.iteration != progress.total_iterations) {
              return;  // the event log keeps its every-100 pace
            }
            LOG(INFO) << event("training_progress")
                             .With("iteration", progress.iteration)
                             .With("total_iterations",
                                   progress.total_iterations)
                             .With("loss", progress.loss)
                             .With("log_z", progress.log_z)
                             .With("seconds", progress.elapsed_seconds)
                             .With("trajectories", progress.trajectories);
          }));
  if (trained.reused) {
    LOG(INFO) << event("local_model_reused")
                     .With("round", trained.round)
                     .With("path", trained.model_path);
  } else {
    LOG(INFO) << event("local_model_trained")
                     .With("round", trained.round)
                     .With("seconds", trained.training_seconds)
                     .With("path", trained.model_path);
  }
  LOG(INFO) << event("diagnostics")
                   .With("round", trained.round)
                   .With("alpha", trained.diagnostics.alpha())
                   .With("beta", trained.diagnostics.beta())
                   .With("log_z_hat", trained.diagnostics.log_z_estimate())
                   .With("trajectories",
                         trained.diagnostics.num_trajectories());

  // 3. Upload, unless the server already holds this round (a restart after
  // a successful upload).
  // GetSpec told which round the server holds for this client (GetStatus
  // is for the server's operators); the state lock rules out another run of
  // this client uploading since.
  const bool already_accepted = spec.accepted_round >= trained.round;
  int64_t upload_bytes = 0;
  double upload_seconds = 0.0;
  if (already_accepted) {
    LOG(INFO) << event("upload_skipped")
                     .With("round", trained.round)
                     .With("reason", "the server already holds this round");
  } else {
    ASSIGN_OR_RETURN(
        UploadResult upload,
        client.UploadModel(trained.weights, client_id, spec.spec_digest,
                           trained.round, trained.diagnostics));
    upload_bytes = upload.payload_bytes;
    upload_seconds = upload.seconds;
    LOG(INFO) << event("uploaded")
                     .With("round", trained.round)
                     .With("bytes", upload.payload_bytes)
                     .With("chunks", upload.chunks)
                     .With("seconds", upload.seconds)
                     .With("mb_per_s", MegabytesPerSecond(upload.payload_bytes,
                                                          upload.seconds));
  }

  // 4. Wait for a global model that aggregates this client's upload.
  const absl::Time wait_start = absl::Now();
  LOG(INFO) << event("waiting_for_global_model").With("round", trained.round);
  ASSIGN_OR_RETURN(
      v1::GlobalModelAnnouncement announcement,
      client.WaitForVersion(
          0, wait_start + absl::Seconds(absl::GetFlag(FLAGS_wait_seconds)),
          [&](const v1::GlobalModelAnnouncement& a) {
            return Includes(a, client_id);
          }));
  const double wait_seconds = absl::ToDoubleSeconds(absl::Now() - wait_start);
  LOG(INFO) << event("global_model_announced")
                   .With("version", announcement.version())
                   .With("clients", announcement.client_ids_size())
                   .With("waited_seconds", wait_seconds);

  // 5. Download, verify (digest, then that it builds on this state graph),
  // keep.
  ASSIGN_OR_RETURN(DownloadResult download,
                   client.DownloadGlobalModel(announcement.version()));
  if (!announcement.payload_sha256().empty() &&
      download.payload_sha256 != announcement.payload_sha256()) {
    return absl::DataLossError(
        "the downloaded model is not the one announced (digest differs)");
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Environment> environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.spec.environment())));
  RETURN_IF_ERROR(
      ImportModel(download.weights, *environment, torch::kCPU).status());
  const std::string global_path =
      absl::StrCat(state_dir, "/global_v", download.version, ".model");
  RETURN_IF_ERROR(WriteModelFile(global_path, download.weights));
  LOG(INFO) << event("downloaded")
                   .With("version", download.version)
                   .With("bytes", download.payload_bytes)
                   .With("seconds", download.seconds)
                   .With("mb_per_s", MegabytesPerSecond(download.payload_bytes,
                                                        download.seconds))
                   .With("sha256", download.payload_sha256)
                   .With("path", global_path);
  // One machine-readable line for scripts (deploy/run_demo.sh).
  std::printf(
      "SUMMARY client=%s round=%lld reused=%d train_s=%.3f upload_bytes=%lld "
      "upload_s=%.4f wait_s=%.3f version=%lld download_bytes=%lld "
      "download_s=%.4f model=%s\n",
      client_id.c_str(), static_cast<long long>(trained.round),
      trained.reused ? 1 : 0, trained.reused ? 0.0 : trained.training_seconds,
      static_cast<long long>(upload_bytes), upload_seconds, wait_seconds,
      static_cast<long long>(download.version),
      static_cast<long long>(download.payload_bytes), download.seconds,
      global_path.c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Federated GFlowNet client: trains locally on a private reward, "
      "uploads the weights, downloads the aggregated global model.");
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  absl::Status status;
  // No exception (LibTorch's c10::Error, std::bad_alloc) ends the daemon
  // without a message and a non-zero exit.
  try {
    status = epgfn::Run();
  } catch (const std::exception& e) {
    status =
        absl::InternalError(absl::StrCat("unexpected exception: ", e.what()));
  } catch (...) {
    status = absl::InternalError("unexpected exception of unknown type");
  }
  if (!status.ok()) {
    std::fprintf(stderr, "epgfn_client: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
