// TEMPORARY (branch wp-daemon only): a minimal stand-in for the library half
// of issue 13, which wp-stream is writing with this API. It exists so that
// the client daemon's streaming updates build and run their tests; when
// wp-stream lands, its common/train/streaming_update.{h,cc} replace this file
// (take theirs) and MakeStreamingLikelihood moves to where it defines it.
#ifndef EPGFN_COMMON_TRAIN_STREAMING_UPDATE_H_
#define EPGFN_COMMON_TRAIN_STREAMING_UPDATE_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/environment_registry.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"

namespace epgfn {

struct StreamingUpdateOptions {
  TrainingOptions training;
  int64_t diagnostics_trajectories = 4096;
  absl::Status Validate() const;
};

struct StreamingUpdateDiagnostics {
  double final_loss = 0.0;
  double alpha = 0.0, beta = 0.0, log_z_estimate = 0.0;
  int64_t num_trajectories = 0;
  std::optional<double> fcs;
};

struct StreamingUpdateResult {
  PolicyNet policy{nullptr};
  StreamingUpdateDiagnostics diagnostics;
  double training_seconds = 0.0;
};

// Warm-starts a deep copy of `previous`, trains it so that it samples prop.
// to p_prev(x) * f(D_t|x) (contrastive streaming balance: the target is
// log f(D_t|x) + log p_F^prev(t) - log p_B^prev(t|x)).
// `all_data_reward_for_fcs` is ignored by this stand-in.
absl::StatusOr<StreamingUpdateResult> TrainStreamingUpdate(
    const Environment& environment, PolicyNet previous,
    const LogReward& new_data_log_likelihood,
    const StreamingUpdateOptions& options, torch::Device device,
    const ProgressCallback& on_progress = nullptr,
    const LogReward* all_data_reward_for_fcs = nullptr);

// The new data's reward as the client's reward would build it. The stand-in
// does not remove a Bayesian reward's prior share (exact for hypergrid
// factors, which have none); the library's version does.
absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingLikelihood(
    const EnvironmentConfig& environment, const RewardConfig& new_data,
    const RewardContext& context);

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_STREAMING_UPDATE_H_
