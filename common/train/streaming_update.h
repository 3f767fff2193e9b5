#ifndef EPGFN_COMMON_TRAIN_STREAMING_UPDATE_H_
#define EPGFN_COMMON_TRAIN_STREAMING_UPDATE_H_

#include <torch/types.h>

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"

namespace epgfn {

struct StreamingUpdateOptions {
  // Loss (contrastive balance by default), iterations, batch, exploration,
  // seed, learning-rate schedule and gradient clipping of the update's
  // training (the Trainer's).
  TrainingOptions training;
  // On-policy trajectories for the per-update diagnostics.
  int64_t diagnostics_trajectories = 4096;
  // Share of each batch drawn from the frozen previous model itself (no
  // exploration) instead of the updated model: the previous posterior has
  // full support where the new one has its mass, so these trajectories keep
  // the fit there while the on-policy ones follow the new block. The batch
  // stays training.batch_size; each part is balanced on its own and their
  // losses are weighted by their sizes (the Trainer's ReplaySource). 0 or a
  // share leaving >= 2 trajectories in each part.
  double replay_fraction = 0.0;

  // The replayed trajectories per batch.
  int64_t ReplayCount() const;

  absl::Status Validate() const;
};

struct StreamingUpdateDiagnostics {
  // Mean loss over the last progress window of the update's training.
  double final_loss = 0.0;
  // The updated model's (alpha, beta) against the streaming target, with the
  // meaning of LocalDiagnostics (common/train/local_diagnostics.h): over the
  // sampled trajectories 1 - alpha <= p_F(t) / (exp(S(t)) / Z_hat) <= 1 +
  // beta, where S is the StreamingTarget in place of log p_B + log R.
  double alpha = 0.0;
  double beta = 0.0;
  double log_z_estimate = 0.0;
  int64_t num_trajectories = 0;
  // Flow Consistency in Subgraphs against the reward of everything seen so
  // far, when the caller has one (common/eval/flow_consistency.h).
  std::optional<double> fcs;
};

struct StreamingUpdateResult {
  PolicyNet policy{nullptr};
  StreamingUpdateDiagnostics diagnostics;
  double training_seconds = 0.0;  // wall clock of the training loop alone
};

// InvalidArgument naming `name` unless `fraction` lies in [0, 1).
absl::Status CheckReplayFraction(double fraction, absl::string_view name);

// One streaming Bayes update: warm-starts a deep copy of `previous` (which is
// left untouched: it is the frozen prior), trains it on `device` against
// StreamingTarget(previous, new_data_log_likelihood) and returns it with its
// diagnostics. `new_data_log_likelihood` is the new data's likelihood only
// (MakeStreamingLikelihood); the prior is already in the first model.
// InvalidArgument for bad options or a policy that does not fit the
// environment; Internal when training diverges.
absl::StatusOr<StreamingUpdateResult> TrainStreamingUpdate(
    const Environment& environment, PolicyNet previous,
    const LogReward& new_data_log_likelihood,
    const StreamingUpdateOptions& options, torch::Device device,
    const ProgressCallback& on_progress = nullptr,
    const LogReward* all_data_reward_for_fcs = nullptr);

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_STREAMING_UPDATE_H_
