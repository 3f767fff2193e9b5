#include "common/train/streaming_update.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/eval/flow_consistency.h"
#include "common/loss/balance_loss.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/streaming_target.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Diagnostics seeds are derived from the training seed so that one seed fixes
// the whole update, yet the diagnostics never replay training's batches.
constexpr uint64_t kDiagnosticsSeedOffset = 0x5eed0001;
constexpr uint64_t kFcsSeedOffset = 0x5eed0002;

// EstimateLocalDiagnostics (common/aggregate/local_diagnostics.cc) with the
// streaming target in place of log R: the ratios p_F / (p_B R) become
// exp(log p_F - log p_B - [log f + log p_F^{t-1} - log p_B^{t-1}]).
absl::Status EstimateStreamingDiagnostics(PolicyNet& policy,
                                          const Environment& environment,
                                          StreamingTarget& target,
                                          int64_t num_trajectories,
                                          RandomSource& random,
                                          StreamingUpdateDiagnostics* out) {
  torch::NoGradGuard no_grad;
  Trajectories trajectories =
      SampleTrajectories(policy, environment, num_trajectories, {}, random);
  torch::Tensor log_ratio = (LogForwardOverBackward(ComputeTrajectoryLogProbs(
                                 policy, environment, trajectories)) -
                             target.LogTarget(trajectories))
                                .to(torch::kFloat64);
  if (!torch::isfinite(log_ratio).all().item<bool>()) {
    return absl::InternalError(
        "non-finite log p_F / p_B against the streaming target");
  }
  const double log_z =
      (torch::logsumexp(-log_ratio, 0) - std::log(num_trajectories))
          .item<double>();
  torch::Tensor normalised = (log_ratio + log_z).exp();
  const double low = normalised.min().item<double>();
  const double high = normalised.max().item<double>();
  // std::max would turn a NaN into a reassuring 0.
  if (std::isnan(low) || std::isnan(high)) {
    return absl::InternalError(
        absl::StrCat("NaN in the streaming diagnostics: log ratio in [",
                     log_ratio.min().item<double>(), ", ",
                     log_ratio.max().item<double>(), "], log Z ", log_z));
  }
  out->alpha = std::max(0.0, 1.0 - low);
  out->beta = std::max(0.0, high - 1.0);
  out->log_z_estimate = log_z;
  out->num_trajectories = num_trajectories;
  return absl::OkStatus();
}

}  // namespace

absl::Status StreamingUpdateOptions::Validate() const {
  RETURN_IF_ERROR(training.Validate());
  if (diagnostics_trajectories < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("diagnostics_trajectories must be >= 2, got ",
                     diagnostics_trajectories));
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
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(&environment, updated, &target, options.training));
  StreamingUpdateResult result;
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(trainer->Run([&](const TrainingProgress& progress) {
    result.diagnostics.final_loss = progress.loss;
    if (on_progress) on_progress(progress);
  }));
  result.training_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  updated->eval();
  RandomSource diagnostics_random(options.training.seed +
                                  kDiagnosticsSeedOffset);
  RETURN_IF_ERROR(EstimateStreamingDiagnostics(
      updated, environment, target, options.diagnostics_trajectories,
      diagnostics_random, &result.diagnostics));
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
