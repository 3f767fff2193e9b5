#ifndef EPGFN_CLIENT_CORE_CLIENT_DAEMON_H_
#define EPGFN_CLIENT_CORE_CLIENT_DAEMON_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/core/channel.h"
#include "client/core/federation_client.h"
#include "client/core/local_training.h"
#include "common/train/learning_rate_schedule.h"
#include "common/util/directory_lock.h"
#include "common/util/event_log.h"

namespace epgfn {

// Reads a FederationSpec textproto as the server reads its --config. The
// server's validation lives in server/core, which client/core does not
// depend on: the binary passes it in.
using SpecFileLoader =
    std::function<absl::StatusOr<SpecResult>(const std::string& path)>;

// Everything epgfn_client is told (its flags), in one place.
struct ClientDaemonOptions {
  std::string client_id;  // must be listed in the federation's spec
  // The trained local model (reused on restart) and the downloaded global
  // models; locked while the daemon lives.
  std::string state_dir;
  // This client's private reward, e.g. "client:index=2,count=4".
  std::string reward;
  // The reward config of NEW data only, applied as a streaming update on the
  // last accepted local model (--update_reward); empty: none.
  std::string update_reward;
  // How that update trains (LocalTrainingOptions' defaults: cosine decay to
  // a tenth, no replay).
  LearningRateSchedule update_learning_rate_schedule =
      LearningRateSchedule::kCosine;
  double update_learning_rate_floor = 0.1;
  double update_replay_fraction = 0.0;
  // Make the kept round `rollback_to_round` the current local model again
  // (as a new round) before uploading; 0: no rollback.
  int64_t rollback_to_round = 0;
  std::string device = "cpu";
  int threads = 1;  // LibTorch intra-op threads
  // Overrides of the spec's local training (0: the spec's).
  int64_t iterations = 0;
  int64_t batch_size = 0;
  int64_t diagnostics_trajectories = 4096;
  // Pool of the FCS of a freshly trained model against the private reward,
  // uploaded with the diagnostics (LocalTrainingOptions::fcs_samples); 0:
  // none.
  int64_t fcs_samples = 1024;
  // The same FCS during training, every 100 iterations (the
  // training_progress event's pace) and at the last, on pools of this many
  // (LocalTrainingOptions::progress_fcs_samples); 0: none.
  int64_t progress_fcs_samples = 0;
  // How long to wait for a global model that includes this client's upload.
  absl::Duration wait_timeout = absl::Seconds(1800);
  // One progress line of local training on stderr per period; 0: none.
  absl::Duration progress_period = absl::Seconds(10);
  // Address, TLS files and RPC attempts.
  ChannelFlags channel;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Check the setup and stop before training (--check_config), with the
  // spec read from `spec_file` through `load_spec_file` when it is set.
  bool check_config = false;
  std::string spec_file;
  SpecFileLoader load_spec_file;
  // Sleep between stream attempts; tests inject one that returns at once.
  SleepFunction sleep;
  // Where the SUMMARY line and the --check_config report go.
  std::FILE* out = stdout;

  absl::Status Validate() const;
};

// What one run did: the fields of the SUMMARY line.
struct ClientRunResult {
  int64_t round = 0;
  bool reused = false;  // the local model of an earlier run, not retrained
  double training_seconds = 0.0;
  bool upload_skipped = false;  // the server already held this round
  int64_t upload_bytes = 0;
  double upload_seconds = 0.0;
  double wait_seconds = 0.0;
  int64_t version = 0;
  int64_t download_bytes = 0;
  double download_seconds = 0.0;
  std::string global_model_path;
  // The local model's FCS against this client's own reward, as uploaded in
  // its diagnostics (the SUMMARY line prints 3 significant digits); absent when
  // it was not computed (fcs_samples = 0, a streaming update, too few distinct
  // objects).
  std::optional<double> fcs;
};

// "SUMMARY client=... round=... fcs=... model=...": one machine-readable line
// for scripts (deploy/run_demo.sh, the e2e tests), newline-terminated.
std::string SummaryLine(const std::string& client_id,
                        const ClientRunResult& result);

// The client daemon's workflow: fetch the federation's spec, check
// membership, train the local model on the private reward (or reuse the one
// an earlier run left), upload it unless the server already holds its
// round, wait for a global model that aggregates it, download and verify
// it, and keep it under the state directory. Every step logs an event line
// (event=spec_received ... event=downloaded). Thread-compatible.
class ClientDaemon {
 public:
  // Validates the options, sets the LibTorch threads, locks the state
  // directory (unless checking the configuration) and builds the channel.
  static absl::StatusOr<std::unique_ptr<ClientDaemon>> Create(
      ClientDaemonOptions options);

  // The whole workflow; prints the SUMMARY line to options.out.
  absl::StatusOr<ClientRunResult> Run();

  // --check_config: the TLS files, the spec (offline or fetched), membership
  // and everything training would build, reported on options.out; nothing
  // trained, written or sent.
  absl::Status CheckConfig();

 private:
  ClientDaemon(ClientDaemonOptions options, torch::Device device,
               std::unique_ptr<DirectoryLock> state_lock,
               std::unique_ptr<FederationClient> client);

  // The steps of Run(), in order.
  absl::StatusOr<SpecResult> FetchSpec();
  absl::StatusOr<LocalTrainingResult> TrainOrReuse(const SpecResult& spec);
  absl::Status UploadUnlessAccepted(const SpecResult& spec,
                                    const LocalTrainingResult& trained,
                                    ClientRunResult& result);
  absl::StatusOr<v1::GlobalModelAnnouncement> WaitForGlobalModel(
      int64_t round, ClientRunResult& result);
  absl::Status DownloadAndKeep(const SpecResult& spec,
                               const v1::GlobalModelAnnouncement& announcement,
                               ClientRunResult& result);

  LocalTrainingOptions TrainingOptions() const;
  // An event line naming the federation (once the spec is known) and this
  // client.
  Event MakeEvent(absl::string_view name) const;
  // The events that say which local model this run has and what it holds.
  void LogLocalModel(const LocalTrainingResult& trained) const;

  const ClientDaemonOptions options_;
  const torch::Device device_;
  // Held for the daemon's life: two daemons on one state directory would
  // train and upload over each other's files.
  const std::unique_ptr<DirectoryLock> state_lock_;
  const std::unique_ptr<FederationClient> client_;
  std::string federation_name_;
};

// Creates the daemon and runs it, or checks its configuration when
// options.check_config: what epgfn_client's main() calls.
absl::Status RunClientDaemon(ClientDaemonOptions options);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_CLIENT_DAEMON_H_
