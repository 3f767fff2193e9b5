#ifndef EPGFN_CLIENT_CORE_LOCAL_TRAINING_H_
#define EPGFN_CLIENT_CORE_LOCAL_TRAINING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/core/local_model_store.h"
#include "client/core/progress_fcs.h"
#include "common/env/environment_registry.h"
#include "common/policy/policy_net.h"
#include "common/train/learning_rate_schedule.h"
#include "common/train/trainer.h"
#include "proto/federation_spec.pb.h"
#include "proto/model.pb.h"

namespace epgfn {

struct LocalTrainingOptions {
  // The client's private reward, e.g. "client:index=2,count=4". It is used
  // here only; nothing derived from it leaves the client except the trained
  // weights and the diagnostics.
  std::string reward;
  // Where the trained model and its record are kept; empty: nowhere (always
  // train).
  std::string state_dir;
  // Overrides of the spec's suggested local training; 0 keeps the spec's.
  int64_t iterations = 0;
  int64_t batch_size = 0;
  torch::Device device = torch::kCPU;
  // On-policy trajectories for the (alpha, beta) diagnostics.
  int64_t diagnostics_trajectories = 4096;
  // On-policy trajectories of the pool on which a freshly trained model's
  // FCS against the private reward is computed (16 backward samples per
  // object, 256 subsets of 8), reported in the diagnostics; 0: none.
  int64_t fcs_samples = 0;
  // Progress callback period in iterations; 0: the trainer's default.
  int64_t progress_every = 0;
  // The FCS against the private reward at progress reports too, on pools of
  // this many on-policy trajectories (LocalTrainingProgress::fcs); 0: none.
  // Not in a streaming update (no reward of all its data). Training is the
  // same with it or without.
  int64_t progress_fcs_samples = 0;
  // Iterations between those measurements (and at the last); 0: every
  // progress report.
  int64_t progress_fcs_every = 0;
  // The reward config of NEW data only (--update_reward): the current local
  // model is updated with it by a streaming update (its likelihood alone;
  // the current model serves as the prior) instead of training from scratch.
  // Empty: no update.
  std::string update_reward;
  // How a streaming update trains, beside the spec's training options. A
  // cosine decay of the learning rates to a tenth by default: over five
  // updates it stopped the error accumulation that a constant step showed
  // and was never worse beyond SE (BENCHMARKS.md, issue 13); replaying the
  // previous model hurt there, so it is off.
  LearningRateSchedule update_learning_rate_schedule =
      LearningRateSchedule::kCosine;
  double update_learning_rate_floor = 0.1;
  double update_replay_fraction = 0.0;
};

struct LocalTrainingResult {
  v1::ModelWeights weights;
  v1::LocalDiagnostics diagnostics;
  // The client's model round: 1 for the first model trained for a spec, one
  // more each time the client retrains for the same spec.
  int64_t round = 0;
  // True when a model persisted by an earlier run was reused.
  bool reused = false;
  double training_seconds = 0.0;
  // Where the model is kept (empty without a state dir).
  std::string model_path;
  // The round a streaming update was trained from; 0: a fresh model.
  int64_t base_round = 0;
  // The reward/data configs the model includes, oldest first.
  std::vector<std::string> data;
  // Why diagnostics.fcs is unset although fcs_samples asked for it (a
  // streaming update, too few distinct objects); empty otherwise.
  std::string fcs_not_computed;
  // A reused streaming update trained with other update options than this
  // run's: what differs and how to retrain it; empty otherwise.
  std::string ignored_update_options;
};

// Why `diagnostics` cannot be sent with an upload (DiagnosticsProblems, which
// the server refuses, with advice), or empty when they can. A barely trained
// model's beta overflows to +inf (its p_F / (p_B R / Z_hat) ratios span more
// than a double holds): such a bound says nothing, and the model is better
// uploaded without it than not at all (a federation with an exclusion limit
// leaves an upload without diagnostics out anyway).
std::string DiagnosticsUnsendable(const v1::LocalDiagnostics& diagnostics);

// Trains the client's local model for `spec` on its private reward, or
// reuses the one an earlier run persisted under options.state_dir when that
// one was trained for the same spec digest, reward and options (and the file
// is intact). Builds the environment from the registry and the policy from
// spec.local_architecture; training options come from spec.local_training
// with the overrides applied. A fresh model is persisted before returning.
absl::StatusOr<LocalTrainingResult> TrainOrReuseLocalModel(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const LocalTrainingOptions& options,
    const LocalProgressCallback& on_progress = nullptr);

// What local training is built from, from the spec and the options: the
// environment, the private reward (reading its data files), the policy
// architecture and the training options with the overrides applied.
struct LocalSetup {
  std::unique_ptr<Environment> environment;
  RewardConfig reward_config;
  std::unique_ptr<LogReward> reward;
  PolicyArchitecture architecture;
  TrainingOptions training;
};
absl::StatusOr<LocalSetup> PrepareLocalTraining(
    const v1::FederationSpec& spec, const LocalTrainingOptions& options);

// `epgfn_client --check_config`: builds everything training would (the
// environment, the reward from its data files, the policy) without training,
// scores the reward on every object when the instance is enumerable (it must
// be finite or -inf), and describes it. The first problem is the error.
absl::StatusOr<std::string> CheckLocalTraining(
    const v1::FederationSpec& spec, const LocalTrainingOptions& options);

// A streaming update (options.update_reward set): loads the current local
// model persisted under options.state_dir (FailedPrecondition when there is
// none for this spec digest and reward), trains a warm-started copy on the
// new data's likelihood alone (TrainStreamingUpdate) and persists it as the
// next round, based on the current one. When the current model already is
// this update (a restart after training, before or after its upload), it is
// reused instead.
absl::StatusOr<LocalTrainingResult> TrainOrReuseStreamingUpdate(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const LocalTrainingOptions& options,
    const LocalProgressCallback& on_progress = nullptr);

// --rollback_to_round: makes a copy of round `round`'s model (kept under
// state_dir) the current local model, as a new round (one more than the
// current) with base round 0, so that it replaces the server's accepted
// upload and later updates build on it. Nothing happens when the current
// model already is such a copy of `round`. NotFound when round `round` is not
// kept (or its file does not match its record).
absl::StatusOr<LocalTrainingResult> RollBackLocalModel(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const std::string& state_dir, int64_t round);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_LOCAL_TRAINING_H_
