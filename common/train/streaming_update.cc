// TEMPORARY stand-in (see the header): replaced by wp-stream's library.
#include "common/train/streaming_update.h"

#include <cmath>
#include <utility>

#include "absl/time/clock.h"
#include "common/aggregate/aggregating_balance_target.h"
#include "common/loss/balance_loss.h"
#include "common/model/model_codec.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// log f(D_t|x) + log p_F^prev(t) - log p_B^prev(t|x).
class StreamingTarget : public TrajectoryTarget {
 public:
  StreamingTarget(const Environment* environment, PolicyNet previous,
                  const LogReward* likelihood)
      : previous_(environment, {WeightedPolicy{std::move(previous), 1.0}}),
        likelihood_(likelihood) {}
  torch::Tensor LogTarget(const Trajectories& trajectories) override {
    torch::NoGradGuard no_grad;
    return previous_.LogTarget(trajectories) +
           (*likelihood_)(trajectories.terminal_states);
  }
  std::string Describe() const override {
    return "streaming: previous model x " + likelihood_->Describe();
  }

 private:
  AggregatingBalanceTarget previous_;
  const LogReward* likelihood_;
};

}  // namespace

absl::Status StreamingUpdateOptions::Validate() const {
  RETURN_IF_ERROR(training.Validate());
  if (diagnostics_trajectories < 2) {
    return absl::InvalidArgumentError("diagnostics_trajectories must be >= 2");
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamingUpdateResult> TrainStreamingUpdate(
    const Environment& environment, PolicyNet previous,
    const LogReward& new_data_log_likelihood,
    const StreamingUpdateOptions& options, torch::Device device,
    const ProgressCallback& on_progress, const LogReward*) {
  RETURN_IF_ERROR(options.Validate());
  const absl::Time start = absl::Now();
  // The deep copy: through the model codec, as the daemons move models.
  ASSIGN_OR_RETURN(
      PolicyNet policy,
      ImportModel(ExportModel(environment, previous), environment, device));
  StreamingTarget target(&environment, previous, &new_data_log_likelihood);
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(&environment, policy, &target, options.training));
  double final_loss = 0.0;
  RETURN_IF_ERROR(trainer->Run([&](const TrainingProgress& progress) {
    final_loss = progress.loss;
    if (on_progress) on_progress(progress);
  }));
  StreamingUpdateResult result;
  result.training_seconds = absl::ToDoubleSeconds(absl::Now() - start);

  // (alpha, beta) against the streaming target, as EstimateLocalDiagnostics
  // computes them against a reward.
  torch::NoGradGuard no_grad;
  RandomSource random(options.training.seed + 1);
  const int64_t n = options.diagnostics_trajectories;
  Trajectories trajectories =
      SampleTrajectories(policy, environment, n, {}, random);
  const torch::Tensor log_ratio =
      (LogForwardOverBackward(
           ComputeTrajectoryLogProbs(policy, environment, trajectories)) -
       target.LogTarget(trajectories))
          .to(torch::kFloat64);
  if (!torch::isfinite(log_ratio).all().item<bool>()) {
    return absl::InternalError("non-finite streaming log ratio");
  }
  const double log_z =
      (torch::logsumexp(-log_ratio, 0) - std::log(n)).item<double>();
  const torch::Tensor normalised = (log_ratio + log_z).exp();
  result.diagnostics.final_loss = final_loss;
  result.diagnostics.alpha =
      std::max(0.0, 1.0 - normalised.min().item<double>());
  result.diagnostics.beta =
      std::max(0.0, normalised.max().item<double>() - 1.0);
  result.diagnostics.log_z_estimate = log_z;
  result.diagnostics.num_trajectories = n;
  result.policy = policy;
  return result;
}

absl::StatusOr<std::unique_ptr<LogReward>> MakeStreamingLikelihood(
    const EnvironmentConfig& environment_config, const RewardConfig& new_data,
    const RewardContext& context) {
  ASSIGN_OR_RETURN(std::unique_ptr<Environment> environment,
                   MakeEnvironment(environment_config));
  return MakeLogReward(*environment, new_data, context);
}

}  // namespace epgfn
