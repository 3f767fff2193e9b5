#include "common/train/streaming_update.h"

#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/eval/flow_consistency.h"
#include "common/loss/balance_loss.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
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

constexpr double kPi = 3.14159265358979323846;

// The learning-rate multiplier of the (0-based) iteration out of `total`.
double LearningRateScale(const StreamingUpdateOptions& options,
                         int64_t iteration, int64_t total) {
  const double floor = options.learning_rate_floor;
  const double progress =
      total > 1 ? static_cast<double>(iteration) / (total - 1) : 1.0;
  switch (options.learning_rate_schedule) {
    case LearningRateSchedule::kConstant:
      return 1.0;
    case LearningRateSchedule::kLinear:
      return 1.0 - (1.0 - floor) * progress;
    case LearningRateSchedule::kCosine:
      return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(kPi * progress));
  }
  return 1.0;
}

int64_t ReplayCount(const StreamingUpdateOptions& options) {
  return std::llround(options.replay_fraction *
                      static_cast<double>(options.training.batch_size));
}

// Trainer's loop (sample, balance loss, Adam step, progress) with the
// update's learning-rate schedule and replay added. The plain Trainer runs
// when neither is on, so that its results, and every seeded figure made with
// it, stay exactly as they were.
class UpdateLoop {
 public:
  UpdateLoop(const Environment* environment, PolicyNet updated,
             PolicyNet frozen, StreamingTarget* target,
             const StreamingUpdateOptions& options)
      : environment_(environment),
        updated_(std::move(updated)),
        frozen_(std::move(frozen)),
        target_(target),
        options_(options),
        loss_(MakeBalanceLoss(options.training.loss)),
        random_(options.training.seed),
        replay_random_(options.training.seed + kReplaySeedOffset) {
    std::vector<torch::Tensor> weights;
    for (const auto& item : updated_->named_parameters()) {
      if (item.key() != "log_z") weights.push_back(item.value());
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(weights, std::make_unique<torch::optim::AdamOptions>(
                                     options.training.learning_rate));
    base_rates_.push_back(options.training.learning_rate);
    if (options.training.loss == LossKind::kTrajectoryBalance) {
      groups.emplace_back(std::vector<torch::Tensor>{updated_->log_z()},
                          std::make_unique<torch::optim::AdamOptions>(
                              options.training.log_z_learning_rate));
      base_rates_.push_back(options.training.log_z_learning_rate);
    }
    optimizer_ = std::make_unique<torch::optim::Adam>(
        groups, torch::optim::AdamOptions(options.training.learning_rate));
  }

  absl::Status Run(const ProgressCallback& on_progress) {
    const TrainingOptions& training = options_.training;
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0.0;
    int64_t loss_count = 0;
    for (int64_t i = 0; i < training.iterations; ++i) {
      const double scale = LearningRateScale(options_, i, training.iterations);
      for (size_t g = 0; g < optimizer_->param_groups().size(); ++g) {
        static_cast<torch::optim::AdamOptions&>(
            optimizer_->param_groups()[g].options())
            .lr(base_rates_[g] * scale);
      }
      absl::StatusOr<double> loss = Step();
      if (!loss.ok()) {
        return absl::Status(
            loss.status().code(),
            absl::StrCat("iteration ", i + 1, ": ", loss.status().message()));
      }
      loss_sum += *loss;
      ++loss_count;
      const int64_t iteration = i + 1;
      if (iteration % training.progress_every == 0 ||
          iteration == training.iterations) {
        TrainingProgress progress;
        progress.iteration = iteration;
        progress.total_iterations = training.iterations;
        progress.loss = loss_sum / loss_count;
        progress.log_z = updated_->log_z().item<double>();
        progress.elapsed_seconds = std::chrono::duration<double>(
                                       std::chrono::steady_clock::now() - start)
                                       .count();
        progress.trajectories = iteration * training.batch_size;
        loss_sum = 0.0;
        loss_count = 0;
        if (on_progress) on_progress(progress);
      }
    }
    return absl::OkStatus();
  }

 private:
  // The balance loss of one part of the batch, weighted by its share.
  torch::Tensor PartLoss(const Trajectories& trajectories,
                         const TrajectoryLogProbs& log_probs) {
    torch::Tensor log_target = target_->LogTarget(trajectories);
    BalanceInputs inputs{&trajectories, &log_probs, log_target,
                         updated_->log_z()};
    return loss_->Compute(inputs) *
           (static_cast<double>(trajectories.batch_size()) /
            options_.training.batch_size);
  }

  absl::StatusOr<double> Step() {
    const TrainingOptions& training = options_.training;
    const int64_t replayed = ReplayCount(options_);
    Trajectories replay;
    if (replayed > 0) {
      torch::NoGradGuard no_grad;
      replay = SampleTrajectories(frozen_, *environment_, replayed,
                                  ExplorationOptions{}, replay_random_);
    }
    SampledTrajectories sampled = SampleTrajectoriesWithLogProbs(
        updated_, *environment_, training.batch_size - replayed,
        training.exploration, random_);
    torch::Tensor loss = PartLoss(sampled.trajectories, sampled.log_probs);
    if (replayed > 0) {
      const TrajectoryLogProbs replay_log_probs =
          ComputeTrajectoryLogProbs(updated_, *environment_, replay);
      loss = loss + PartLoss(replay, replay_log_probs);
    }
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      return absl::InternalError(absl::StrCat("loss became non-finite (", value,
                                              ") training on ",
                                              target_->Describe()));
    }
    optimizer_->zero_grad();
    loss.backward();
    optimizer_->step();
    return value;
  }

  const Environment* environment_;
  PolicyNet updated_;
  PolicyNet frozen_;
  StreamingTarget* target_;
  StreamingUpdateOptions options_;
  std::unique_ptr<BalanceLoss> loss_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::vector<double> base_rates_;  // per parameter group
  RandomSource random_;
  RandomSource replay_random_;
};

}  // namespace

absl::Status StreamingUpdateOptions::Validate() const {
  RETURN_IF_ERROR(training.Validate());
  if (diagnostics_trajectories < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("diagnostics_trajectories must be >= 2, got ",
                     diagnostics_trajectories));
  }
  if (!(learning_rate_floor > 0 && learning_rate_floor <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "learning_rate_floor must lie in (0, 1], got ", learning_rate_floor));
  }
  if (!(replay_fraction >= 0 && replay_fraction < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replay_fraction must lie in [0, 1), got ", replay_fraction));
  }
  if (NeedsOwnLoop() && training.max_gradient_norm > 0) {
    // The schedule / replay loop below has no clipping; refusing beats
    // silently training unclipped.
    return absl::InvalidArgumentError(
        "training.max_gradient_norm is not supported with a learning-rate "
        "schedule or replay in the streaming update; set it to 0 or turn "
        "those off");
  }
  const int64_t replayed = ReplayCount(*this);
  if (replay_fraction > 0 &&
      (replayed < 2 || training.batch_size - replayed < 2)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replay_fraction ", replay_fraction, " of a batch of ",
        training.batch_size,
        " must leave >= 2 trajectories in both the replayed and the "
        "on-policy part"));
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
  // Create() also checks that the policy fits the environment and the loss,
  // for both loops.
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(&environment, updated, &target, options.training));
  StreamingUpdateResult result;
  const auto start = std::chrono::steady_clock::now();
  const ProgressCallback report = [&](const TrainingProgress& progress) {
    result.diagnostics.final_loss = progress.loss;
    if (on_progress) on_progress(progress);
  };
  if (options.NeedsOwnLoop()) {
    trainer.reset();
    UpdateLoop loop(&environment, updated, frozen, &target, options);
    RETURN_IF_ERROR(loop.Run(report));
  } else {
    RETURN_IF_ERROR(trainer->Run(report));
  }
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
