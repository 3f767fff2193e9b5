#include "client/core/client_daemon.h"

#include <glog/logging.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/core/global_model_check.h"
#include "common/model/model_codec.h"
#include "common/spec/spec_conversion.h"
#include "common/train/progress_reporter.h"
#include "common/util/device.h"
#include "common/util/status_macros.h"
#include "common/util/tls_files.h"

namespace epgfn {
namespace {

// The training_progress event's pace, in iterations; the FCS at progress is
// measured at the same iterations.
constexpr int64_t kProgressEventEvery = 100;

double MegabytesPerSecond(int64_t bytes, double seconds) {
  return seconds > 0 ? bytes / 1e6 / seconds : 0.0;
}

absl::Status CheckMembership(const v1::FederationSpec& spec,
                             const std::string& client_id) {
  const auto& ids = spec.client_ids();
  if (std::find(ids.begin(), ids.end(), client_id) != ids.end()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("client id '", client_id,
                   "' is not a member of federation '", spec.name(), "'"));
}

FederationClientOptions ClientOptions(const ClientDaemonOptions& options) {
  FederationClientOptions client_options;
  client_options.retry.max_attempts = options.channel.rpc_attempts;
  client_options.connect_timeout = options.connect_timeout;
  // A unary call waits for the connection (waitForReady) as long as the
  // attempts of a stream would in all.
  client_options.rpc_timeout =
      options.connect_timeout * std::max(1, options.channel.rpc_attempts);
  client_options.sleep = options.sleep;
  return client_options;
}

}  // namespace

std::string SummaryLine(const std::string& client_id,
                        const ClientRunResult& result) {
  return absl::StrFormat(
      "SUMMARY client=%s round=%d reused=%d train_s=%.3f upload_bytes=%d "
      "upload_s=%.4f wait_s=%.3f version=%d download_bytes=%d "
      "download_s=%.4f fcs=%s model=%s\n",
      client_id, result.round, result.reused ? 1 : 0, result.training_seconds,
      result.upload_bytes, result.upload_seconds, result.wait_seconds,
      result.version, result.download_bytes, result.download_seconds,
      result.fcs.has_value() ? absl::StrFormat("%.3g", *result.fcs) : "none",
      result.global_model_path);
}

absl::StatusOr<std::unique_ptr<ClientDaemon>> ClientDaemon::Create(
    ClientDaemonOptions options) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(const torch::Device device, ParseDevice(options.device));
  RETURN_IF_ERROR(SetIntraOpThreads(options.threads));
  std::unique_ptr<DirectoryLock> state_lock;
  if (!options.check_config) {
    ASSIGN_OR_RETURN(state_lock,
                     DirectoryLock::Acquire(options.state_dir, "epgfn_client"));
  }
  ASSIGN_OR_RETURN(const ChannelOptions channel_options,
                   ChannelOptionsFromFlags(options.channel));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   MakeChannel(channel_options));
  auto client =
      std::make_unique<FederationClient>(channel, ClientOptions(options));
  return std::unique_ptr<ClientDaemon>(new ClientDaemon(
      std::move(options), device, std::move(state_lock), std::move(client)));
}

ClientDaemon::ClientDaemon(ClientDaemonOptions options, torch::Device device,
                           std::unique_ptr<DirectoryLock> state_lock,
                           std::unique_ptr<FederationClient> client)
    : options_(std::move(options)),
      device_(device),
      state_lock_(std::move(state_lock)),
      client_(std::move(client)) {}

Event ClientDaemon::MakeEvent(absl::string_view name) const {
  Event line(name);
  line.With("federation", federation_name_).With("client", options_.client_id);
  return line;
}

LocalTrainingOptions ClientDaemon::TrainingOptions() const {
  LocalTrainingOptions training;
  training.reward = options_.reward;
  training.update_reward = options_.update_reward;
  training.update_learning_rate_schedule =
      options_.update_learning_rate_schedule;
  training.update_learning_rate_floor = options_.update_learning_rate_floor;
  training.update_replay_fraction = options_.update_replay_fraction;
  training.state_dir = options_.state_dir;
  training.iterations = options_.iterations;
  training.batch_size = options_.batch_size;
  training.device = device_;
  training.diagnostics_trajectories = options_.diagnostics_trajectories;
  training.fcs_samples = options_.fcs_samples;
  training.progress_fcs_samples = options_.progress_fcs_samples;
  training.progress_fcs_every = kProgressEventEvery;
  // Callbacks every 10 iterations; the reporter keeps one line per
  // progress period of them.
  training.progress_every = 10;
  return training;
}

absl::Status ClientDaemon::CheckConfig() {
  const std::string& client_id = options_.client_id;
  if (!options_.channel.insecure) {
    ASSIGN_OR_RETURN(
        const std::string tls,
        CheckTlsFiles(options_.channel.tls_cert, options_.channel.tls_key,
                      options_.channel.tls_ca));
    std::fprintf(options_.out, "TLS:\n%s", tls.c_str());
  }
  SpecResult spec;
  if (!options_.spec_file.empty()) {
    // Validated as the server validates its --config.
    ASSIGN_OR_RETURN(spec, options_.load_spec_file(options_.spec_file));
    std::fprintf(options_.out, "spec: %s (offline)\n",
                 options_.spec_file.c_str());
  } else {
    ASSIGN_OR_RETURN(spec, client_->GetSpec(client_id));
    std::fprintf(options_.out, "spec: fetched from %s\n",
                 options_.channel.server.c_str());
  }
  RETURN_IF_ERROR(CheckMembership(spec.spec, client_id));
  LocalTrainingOptions check = TrainingOptions();
  check.state_dir.clear();  // nothing is read or written there
  ASSIGN_OR_RETURN(const std::string report,
                   CheckLocalTraining(spec.spec, check));
  std::fprintf(options_.out, "federation '%s', spec digest %s\nclient: %s\n%s",
               spec.spec.name().c_str(), spec.spec_digest.c_str(),
               client_id.c_str(), report.c_str());
  std::fprintf(options_.out, "configuration OK\n");
  return absl::OkStatus();
}

absl::StatusOr<ClientRunResult> ClientDaemon::Run() {
  // 1. The federation's spec. The server checks here, before any training,
  // that the certificate is this member's (PERMISSION_DENIED otherwise).
  ASSIGN_OR_RETURN(const SpecResult spec, FetchSpec());
  // 2. Local training on the private reward (or the model a previous run
  // left).
  ASSIGN_OR_RETURN(const LocalTrainingResult trained, TrainOrReuse(spec));
  ClientRunResult result;
  result.round = trained.round;
  result.reused = trained.reused;
  result.training_seconds = trained.reused ? 0.0 : trained.training_seconds;
  if (trained.diagnostics.has_fcs()) result.fcs = trained.diagnostics.fcs();
  // 3. Upload, unless the server already holds this round.
  RETURN_IF_ERROR(UploadUnlessAccepted(spec, trained, result));
  // 4. Wait for a global model that aggregates this client's upload.
  ASSIGN_OR_RETURN(const v1::GlobalModelAnnouncement announcement,
                   WaitForGlobalModel(trained.round, result));
  // 5. Download, verify, keep.
  RETURN_IF_ERROR(DownloadAndKeep(spec, announcement, result));
  std::fputs(SummaryLine(options_.client_id, result).c_str(), options_.out);
  std::fflush(options_.out);
  return result;
}

absl::StatusOr<SpecResult> ClientDaemon::FetchSpec() {
  ASSIGN_OR_RETURN(SpecResult spec, client_->GetSpec(options_.client_id));
  // Every event line from here on names the federation.
  federation_name_ = spec.spec.name();
  LOG(INFO) << MakeEvent("spec_received")
                   .With("spec", spec.spec_digest.substr(0, 12))
                   .With("environment",
                         EnvironmentConfigFromProto(spec.spec.environment())
                             .ToString())
                   .With("local_architecture",
                         spec.spec.local_architecture().ShortDebugString());
  if (FederationSpecDigest(spec.spec) != spec.spec_digest) {
    LOG(WARNING) << MakeEvent("spec_digest_differs")
                        .With("detail",
                              "the server's spec digest differs from the one "
                              "computed here; uploads quote the server's");
  }
  RETURN_IF_ERROR(CheckMembership(spec.spec, options_.client_id));
  return spec;
}

absl::StatusOr<LocalTrainingResult> ClientDaemon::TrainOrReuse(
    const SpecResult& spec) {
  ProgressReporter reporter(
      "local training", options_.progress_period, [](const std::string& line) {
        std::fprintf(stderr, "epgfn_client: %s\n", line.c_str());
      });
  if (options_.rollback_to_round > 0) {
    ASSIGN_OR_RETURN(
        LocalTrainingResult rolled,
        RollBackLocalModel(spec.spec, spec.spec_digest, options_.state_dir,
                           options_.rollback_to_round));
    LOG(INFO) << MakeEvent("local_model_rolled_back")
                     .With("to_round", options_.rollback_to_round)
                     .With("round", rolled.round)
                     .With("data", absl::StrJoin(rolled.data, ";"));
    return rolled;
  }
  const auto train = options_.update_reward.empty()
                         ? &TrainOrReuseLocalModel
                         : &TrainOrReuseStreamingUpdate;
  ProgressPoint last;
  ASSIGN_OR_RETURN(
      LocalTrainingResult trained,
      train(spec.spec, spec.spec_digest, TrainingOptions(),
            [&](const LocalTrainingProgress& report) {
              const TrainingProgress& progress = report.training;
              // The line between measurements shows the latest FCS.
              last = {progress.iteration, progress.total_iterations,
                      progress.loss, std::nullopt,
                      report.fcs ? report.fcs : last.fcs};
              reporter.Update(last);
              if (progress.iteration % kProgressEventEvery != 0 &&
                  progress.iteration != progress.total_iterations) {
                return;  // the event log keeps its every-100 pace
              }
              Event event = MakeEvent("training_progress");
              event.With("iteration", progress.iteration)
                  .With("total_iterations", progress.total_iterations)
                  .With("loss", progress.loss)
                  .With("log_z", progress.log_z)
                  .With("seconds", progress.elapsed_seconds)
                  .With("trajectories", progress.trajectories);
              if (report.fcs) event.With("fcs", *report.fcs);
              LOG(INFO) << event;
            }));
  if (!trained.reused && trained.diagnostics.has_fcs()) {
    // Measured after the last iteration: one more final line carries it.
    last.fcs = trained.diagnostics.fcs();
    reporter.Update(last);
  }
  LogLocalModel(trained);
  return trained;
}

// The events that say which local model this run has and what it holds.
void ClientDaemon::LogLocalModel(const LocalTrainingResult& trained) const {
  if (trained.reused) {
    LOG(INFO) << MakeEvent("local_model_reused")
                     .With("round", trained.round)
                     .With("path", trained.model_path);
    if (!trained.ignored_update_options.empty()) {
      LOG(WARNING) << MakeEvent("update_options_ignored")
                          .With("round", trained.round)
                          .With("reason", trained.ignored_update_options);
    }
  } else {
    LOG(INFO) << MakeEvent("local_model_trained")
                     .With("round", trained.round)
                     .With("base_round", trained.base_round)
                     .With("seconds", trained.training_seconds)
                     .With("path", trained.model_path);
  }
  LOG(INFO) << MakeEvent("local_model_data")
                   .With("round", trained.round)
                   .With("data", absl::StrJoin(trained.data, ";"));
  Event diagnostics = MakeEvent("diagnostics");
  diagnostics.With("round", trained.round)
      .With("alpha", trained.diagnostics.alpha())
      .With("beta", trained.diagnostics.beta())
      .With("log_z_hat", trained.diagnostics.log_z_estimate())
      .With("trajectories", trained.diagnostics.num_trajectories());
  if (trained.diagnostics.has_fcs()) {
    diagnostics.With("fcs", trained.diagnostics.fcs());
  } else if (!trained.fcs_not_computed.empty()) {
    diagnostics.With("fcs_not_computed", trained.fcs_not_computed);
  }
  LOG(INFO) << diagnostics;
}

absl::Status ClientDaemon::UploadUnlessAccepted(
    const SpecResult& spec, const LocalTrainingResult& trained,
    ClientRunResult& result) {
  // GetSpec told which round the server holds for this client (a restart
  // after a successful upload); the state lock rules out another run of
  // this client uploading since.
  if (spec.accepted_round >= trained.round) {
    result.upload_skipped = true;
    LOG(INFO) << MakeEvent("upload_skipped")
                     .With("round", trained.round)
                     .With("reason", "the server already holds this round");
    return absl::OkStatus();
  }
  std::optional<v1::LocalDiagnostics> diagnostics = trained.diagnostics;
  if (const std::string why = DiagnosticsUnsendable(trained.diagnostics);
      !why.empty()) {
    LOG(WARNING) << MakeEvent("diagnostics_withheld")
                        .With("round", trained.round)
                        .With("reason", why);
    diagnostics.reset();
  }
  ASSIGN_OR_RETURN(const UploadResult upload,
                   client_->UploadModel(trained.weights, options_.client_id,
                                        spec.spec_digest, trained.round,
                                        diagnostics, trained.base_round));
  result.upload_bytes = upload.payload_bytes;
  result.upload_seconds = upload.seconds;
  LOG(INFO) << MakeEvent("uploaded")
                   .With("round", trained.round)
                   .With("base_round", trained.base_round)
                   .With("bytes", upload.payload_bytes)
                   .With("chunks", upload.chunks)
                   .With("seconds", upload.seconds)
                   .With("mb_per_s", MegabytesPerSecond(upload.payload_bytes,
                                                        upload.seconds));
  return absl::OkStatus();
}

absl::StatusOr<v1::GlobalModelAnnouncement> ClientDaemon::WaitForGlobalModel(
    int64_t round, ClientRunResult& result) {
  const absl::Time wait_start = absl::Now();
  LOG(INFO) << MakeEvent("waiting_for_global_model").With("round", round);
  ASSIGN_OR_RETURN(
      v1::GlobalModelAnnouncement announcement,
      client_->WaitForVersion(0, wait_start + options_.wait_timeout,
                              [&](const v1::GlobalModelAnnouncement& a) {
                                return AnnouncementIncludes(
                                    a, options_.client_id, round);
                              }));
  result.wait_seconds = absl::ToDoubleSeconds(absl::Now() - wait_start);
  LOG(INFO) << MakeEvent("global_model_announced")
                   .With("version", announcement.version())
                   .With("clients", announcement.client_ids_size())
                   .With("waited_seconds", result.wait_seconds);
  return announcement;
}

absl::Status ClientDaemon::DownloadAndKeep(
    const SpecResult& spec, const v1::GlobalModelAnnouncement& announcement,
    ClientRunResult& result) {
  ASSIGN_OR_RETURN(const DownloadResult download,
                   client_->DownloadGlobalModel(announcement.version()));
  // The digest, then that it builds on this state graph.
  RETURN_IF_ERROR(VerifyGlobalModel(announcement, download, spec.spec));
  const std::string path =
      GlobalModelPath(options_.state_dir, download.version);
  RETURN_IF_ERROR(WriteModelFile(path, download.weights));
  result.version = download.version;
  result.download_bytes = download.payload_bytes;
  result.download_seconds = download.seconds;
  result.global_model_path = path;
  LOG(INFO) << MakeEvent("downloaded")
                   .With("version", download.version)
                   .With("bytes", download.payload_bytes)
                   .With("seconds", download.seconds)
                   .With("mb_per_s", MegabytesPerSecond(download.payload_bytes,
                                                        download.seconds))
                   .With("sha256", download.payload_sha256)
                   .With("path", path);
  return absl::OkStatus();
}

absl::Status RunClientDaemon(ClientDaemonOptions options) {
  const bool check_config = options.check_config;
  ASSIGN_OR_RETURN(std::unique_ptr<ClientDaemon> daemon,
                   ClientDaemon::Create(std::move(options)));
  if (check_config) return daemon->CheckConfig();
  return daemon->Run().status();
}

}  // namespace epgfn
