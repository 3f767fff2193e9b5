#include "common/train/streaming_update.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/eval/flow_consistency.h"
#include "common/sampling/random.h"
#include "common/train/local_diagnostics.h"
#include "common/train/streaming_target.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Diagnostics seeds are derived from the training seed so that one seed fixes
// the whole update, yet the diagnostics never replay training's batches.
constexpr uint64_t kDiagnosticsSeedOffset = 0x5eed0001;
constexpr uint64_t kFcsSeedOffset = 0x5eed0002;
// The replayed trajectories have a stream of their own.
constexpr uint64_t kReplaySeedOffset = 0x5eed0003;

}  // namespace

absl::Status CheckReplayFraction(double fraction, absl::string_view name) {
  if (fraction >= 0 && fraction < 1) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, " must lie in [0, 1), got ", fraction));
}

int64_t StreamingUpdateOptions::ReplayCount() const {
  return std::llround(replay_fraction *
                      static_cast<double>(training.batch_size));
}

absl::Status StreamingUpdateOptions::Validate() const {
  RETURN_IF_ERROR(training.Validate());
  if (diagnostics_trajectories < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("diagnostics_trajectories must be >= 2, got ",
                     diagnostics_trajectories));
  }
  RETURN_IF_ERROR(CheckReplayFraction(replay_fraction, "replay_fraction"));
  if (replay_fraction > 0) {
    if (absl::Status share =
            CheckReplayShare(ReplayCount(), training.batch_size);
        !share.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replay_fraction ", replay_fraction, ": ", share.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamingUpdateResult> TrainStreamingUpdate(
    const Environment& environment, PolicyNet previous,
    const LogReward& new_data_log_likelihood,
    const StreamingUpdateOptions& options, torch::Device device,
    const ProgressCallback& on_progress,
    const LogReward* all_data_reward_for_fcs) {
  RETURN_IF_ERROR(options.Validate());
  if (previous.is_empty()) {
    return absl::InvalidArgumentError("no previous model to update");
  }
  // Two copies: the frozen prior (so that even previous's train/eval mode and
  // device stay as the caller left them) and the warm start that is trained.
  PolicyNet frozen = ClonePolicy(previous);
  frozen->to(device);
  for (torch::Tensor& parameter : frozen->parameters()) {
    parameter.set_requires_grad(false);
  }
  PolicyNet updated = ClonePolicy(previous);
  updated->to(device);
  updated->train();

  StreamingTarget target(&environment, frozen, &new_data_log_likelihood);
  ReplaySource replay;
  replay.policy = frozen;
  replay.trajectories = options.ReplayCount();
  replay.seed = options.training.seed + kReplaySeedOffset;
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   Trainer::Create(&environment, updated, &target,
                                   options.training, replay));
  StreamingUpdateResult result;
  const auto start = std::chrono::steady_clock::now();
  const ProgressCallback report = [&](const TrainingProgress& progress) {
    result.diagnostics.final_loss = progress.loss;
    if (on_progress) on_progress(progress);
  };
  RETURN_IF_ERROR(trainer->Run(report));
  result.training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  updated->eval();
  RandomSource diagnostics_random(options.training.seed +
                                  kDiagnosticsSeedOffset);
  ASSIGN_OR_RETURN(const LocalDiagnostics against_target,
                   EstimateLocalDiagnostics(updated, environment, target,
                                            options.diagnostics_trajectories,
                                            diagnostics_random));
  result.diagnostics.alpha = against_target.alpha;
  result.diagnostics.beta = against_target.beta;
  result.diagnostics.log_z_estimate = against_target.log_z_estimate;
  result.diagnostics.num_trajectories = against_target.num_trajectories;
  if (all_data_reward_for_fcs != nullptr) {
    RandomSource fcs_random(options.training.seed + kFcsSeedOffset);
    ASSIGN_OR_RETURN(
        result.diagnostics.fcs,
        SampledFlowConsistency(updated, environment, *all_data_reward_for_fcs,
                               FcsOptions{}, fcs_random));
  }
  result.policy = updated;
  return result;
}

}  // namespace epgfn
