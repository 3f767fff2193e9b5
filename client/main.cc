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

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/channel_flags.h"
#include "client/core/client_daemon.h"
#include "common/train/learning_rate_schedule.h"
#include "common/util/guarded_run.h"
#include "common/util/status_macros.h"
#include "server/core/federation_config.h"

ABSL_FLAG(std::string, client_id, "",
          "This client's id; must be listed in the federation spec and, with "
          "mutual TLS, be the common name of --tls_cert.");
ABSL_FLAG(std::string, state_dir, "",
          "Directory for the trained local model (reused on restart) and the "
          "downloaded global models.");
ABSL_FLAG(std::string, reward, "",
          "This client's private reward on the federation's environment, "
          "e.g. 'client:index=2,count=4'. Never sent to the server.");
ABSL_FLAG(std::string, update_reward, "",
          "The reward config of NEW data only, e.g. "
          "'jc69:alignment=new_genes.nex', applied as a streaming update on "
          "the last accepted local model (which serves as the prior; old data "
          "are not read again) and uploaded as the next round. --reward stays "
          "the first reward. Restarting with the same value reuses the "
          "trained update. Every round's model is kept under --state_dir.");
ABSL_FLAG(epgfn::LearningRateSchedule, update_lr_schedule,
          epgfn::LearningRateSchedule::kCosine,
          "Learning-rate schedule of a streaming update (--update_reward): "
          "constant, linear or cosine; it decays from the spec's learning "
          "rate to --update_lr_floor times it at the last iteration. Cosine "
          "(the default) stopped the error accumulation of a constant step "
          "over five updates (BENCHMARKS.md).");
ABSL_FLAG(double, update_lr_floor, 0.1,
          "Where --update_lr_schedule ends, as a fraction of the learning "
          "rate, in (0, 1].");
ABSL_FLAG(double, update_replay_fraction, 0.0,
          "Share of each streaming-update batch sampled from the previous "
          "local model itself, in [0, 1); 0 (off) by default, as replay "
          "hurt accuracy in the streaming benchmark.");
ABSL_FLAG(int64_t, rollback_to_round, 0,
          "Make the kept local round N (local_round_N.* under --state_dir) "
          "the current model again, uploaded as a new round that replaces "
          "the accepted one; later --update_reward runs build on it. 0: no "
          "rollback.");
ABSL_FLAG(std::string, device, "cpu", "Training device: cpu or cuda.");
ABSL_FLAG(int32_t, threads, 1,
          "Intra-op threads for LibTorch (set explicitly; the default is 1).");
ABSL_FLAG(int64_t, iterations, 0,
          "Overrides the spec's local training iterations (0: the spec's).");
ABSL_FLAG(int64_t, batch_size, 0,
          "Overrides the spec's local training batch size (0: the spec's).");
ABSL_FLAG(int64_t, diagnostics_trajectories, 4096,
          "On-policy trajectories for the (alpha, beta) diagnostics.");
ABSL_FLAG(int64_t, fcs_samples, 1024,
          "After training, compute the local model's FCS (Flow Consistency "
          "in Subgraphs: mean TV between p_T and the private reward on "
          "random subsets of 8 of this many on-policy samples, p_T estimated "
          "with 16 backward samples per object; 0 best, 1 worst) and upload it "
          "with the diagnostics; 0: not computed.");
ABSL_FLAG(int64_t, progress_fcs_samples, 0,
          "Also compute the local model's FCS against the private reward "
          "during training, every 100 iterations and at the last, on a pool "
          "of this many on-policy samples (as --fcs_samples), and print it "
          "on the progress line (the latest value) and the "
          "training_progress events. Each measurement costs about as much "
          "as the one after training; training itself is unchanged (own "
          "random source, no gradients). Not during an --update_reward "
          "update. 0: off.");
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

// --check_config --spec_file: the spec validated as the server validates
// its --config.
absl::StatusOr<SpecResult> LoadSpecFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::shared_ptr<const FederationConfig> config,
                   LoadFederationConfig(path));
  SpecResult spec;
  spec.spec = config->spec;
  spec.spec_digest = config->spec_digest;
  return spec;
}

ClientDaemonOptions OptionsFromFlags() {
  ClientDaemonOptions options;
  options.client_id = absl::GetFlag(FLAGS_client_id);
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  options.reward = absl::GetFlag(FLAGS_reward);
  options.update_reward = absl::GetFlag(FLAGS_update_reward);
  options.update_learning_rate_schedule =
      absl::GetFlag(FLAGS_update_lr_schedule);
  options.update_learning_rate_floor = absl::GetFlag(FLAGS_update_lr_floor);
  options.update_replay_fraction = absl::GetFlag(FLAGS_update_replay_fraction);
  options.rollback_to_round = absl::GetFlag(FLAGS_rollback_to_round);
  options.device = absl::GetFlag(FLAGS_device);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.iterations = absl::GetFlag(FLAGS_iterations);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.diagnostics_trajectories =
      absl::GetFlag(FLAGS_diagnostics_trajectories);
  options.fcs_samples = absl::GetFlag(FLAGS_fcs_samples);
  options.progress_fcs_samples = absl::GetFlag(FLAGS_progress_fcs_samples);
  options.wait_timeout = absl::Seconds(absl::GetFlag(FLAGS_wait_seconds));
  options.progress_period =
      absl::Seconds(absl::GetFlag(FLAGS_progress_seconds));
  options.channel =
      ChannelFlagsFromCommandLine(absl::GetFlag(FLAGS_rpc_attempts));
  options.connect_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds));
  options.check_config = absl::GetFlag(FLAGS_check_config);
  options.spec_file = absl::GetFlag(FLAGS_spec_file);
  options.load_spec_file = LoadSpecFile;
  return options;
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
  return epgfn::GuardedRun("epgfn_client", [] {
    return epgfn::RunClientDaemon(epgfn::OptionsFromFlags());
  });
}
