#include "common/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <torch/nn/utils/clip_grad.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// A training step allocates and frees activation tensors of 0.1-30 MiB.
// With glibc's defaults those come from fresh mmap()s, or from heap top that
// free() hands back to the kernel at the end of each step, so every step
// page-faults its whole working set again; on the 2-core VMs this was more
// than half of a step's time (perf: exc_page_fault and the zeroing memset
// inside sgemm). Keeping such blocks in the heap and not trimming it lets
// later steps reuse the same pages. Process-wide, once, glibc only; the cost
// is that up to kTrimThreshold of freed memory stays with the process.
void KeepTrainingMemoryMapped() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int kMmapThreshold = 32 << 20;  // glibc's maximum on 64-bit
    constexpr int kTrimThreshold = 512 << 20;
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
  });
#endif
}

// L2 norm over the gradients of `parameters` (those that have one), as
// clip_grad_norm_ computes it.
double GradientNorm(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> norms;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().norm());
  }
  return norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
}

absl::Status CheckPolicyFits(const PolicyNet& policy,
                             const Environment& environment,
                             absl::string_view role) {
  if (policy.is_empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", role, " policy"));
  }
  if (policy->encoding_dim() != environment.encoding_dim() ||
      policy->num_forward_actions() != environment.num_forward_actions() ||
      policy->num_backward_actions() != environment.num_backward_actions()) {
    return absl::InvalidArgumentError(
        absl::StrCat(role, " policy does not fit environment ",
                     environment.config().ToString()));
  }
  return absl::OkStatus();
}

absl::Status ValidateReplay(const ReplaySource& replay,
                            const TrainingOptions& options,
                            const Environment& environment) {
  if (replay.trajectories == 0) return absl::OkStatus();
  RETURN_IF_ERROR(CheckReplayShare(replay.trajectories, options.batch_size));
  return CheckPolicyFits(replay.policy, environment, "replay");
}

absl::Status CheckRandomState(const torch::Tensor& state,
                              const torch::Tensor& reference,
                              absl::string_view which) {
  if (!state.defined() || state.scalar_type() != torch::kUInt8 ||
      state.numel() != reference.numel()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint's ", which, "random generator state is malformed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckReplayShare(int64_t replayed, int64_t batch_size) {
  if (replayed >= 2 && batch_size - replayed >= 2) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "a replay of ", replayed, " trajectories in a batch of ", batch_size,
      " must leave >= 2 trajectories in both the replayed and the on-policy "
      "part"));
}

absl::Status TrainingOptions::Validate() const {
  if (iterations < 0) {
    return absl::InvalidArgumentError("iterations must be >= 0");
  }
  if (batch_size < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_size must be >= 2, got ", batch_size));
  }
  if (!(learning_rate > 0) || !(log_z_learning_rate > 0)) {
    return absl::InvalidArgumentError("learning rates must be > 0");
  }
  if (!(exploration.epsilon >= 0 && exploration.epsilon <= 1)) {
    return absl::InvalidArgumentError("epsilon must lie in [0, 1]");
  }
  if (!(exploration.temperature > 0)) {
    return absl::InvalidArgumentError("temperature must be > 0");
  }
  if (progress_every < 1) {
    return absl::InvalidArgumentError("progress_every must be >= 1");
  }
  if (!(max_gradient_norm >= 0) || !std::isfinite(max_gradient_norm)) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_gradient_norm must be finite and >= 0 (0: off), got ",
                     max_gradient_norm));
  }
  return CheckLearningRateFloor(learning_rate_floor, "learning_rate_floor");
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(
    const Environment* environment, PolicyNet policy, TrajectoryTarget* target,
    const TrainingOptions& options, const ReplaySource& replay) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(CheckPolicyFits(policy, *environment, "trained"));
  RETURN_IF_ERROR(ValidateReplay(replay, options, *environment));
  if (options.loss == LossKind::kDetailedBalance &&
      !policy->architecture().state_flow) {
    return absl::InvalidArgumentError(
        "detailed balance needs a policy built with state_flow = true");
  }
  return std::unique_ptr<Trainer>(
      new Trainer(environment, std::move(policy), target, options, replay));
}

Trainer::Trainer(const Environment* environment, PolicyNet policy,
                 TrajectoryTarget* target, const TrainingOptions& options,
                 const ReplaySource& replay)
    : environment_(environment),
      policy_(std::move(policy)),
      target_(target),
      options_(options),
      loss_(MakeBalanceLoss(options.loss)),
      replay_(replay),
      random_(options.seed),
      replay_random_(replay.seed) {
  KeepTrainingMemoryMapped();
  for (const auto& item : policy_->named_parameters()) {
    if (item.key() != "log_z") weights_.push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(weights_, std::make_unique<torch::optim::AdamOptions>(
                                    options.learning_rate));
  base_learning_rates_.push_back(options.learning_rate);
  if (options.loss == LossKind::kTrajectoryBalance) {
    groups.emplace_back(std::vector<torch::Tensor>{policy_->log_z()},
                        std::make_unique<torch::optim::AdamOptions>(
                            options.log_z_learning_rate));
    base_learning_rates_.push_back(options.log_z_learning_rate);
  }
  optimizer_ = std::make_unique<torch::optim::Adam>(
      groups, torch::optim::AdamOptions(options.learning_rate));
}

void Trainer::ScheduleLearningRates() {
  const double scale = LearningRateScale(options_.learning_rate_schedule,
                                         options_.learning_rate_floor,
                                         iterations_done_, options_.iterations);
  auto& groups = optimizer_->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    static_cast<torch::optim::AdamOptions&>(groups[g].options())
        .lr(base_learning_rates_[g] * scale);
  }
}

torch::Tensor Trainer::PartLoss(const Trajectories& trajectories,
                                const TrajectoryLogProbs& log_probs) const {
  torch::Tensor log_target = target_->LogTarget(trajectories);
  BalanceInputs inputs{&trajectories, &log_probs, log_target, policy_->log_z()};
  // A share of exactly 1 (no replay) multiplies by 1.0, which changes no bit.
  return loss_->Compute(inputs) *
         (static_cast<double>(trajectories.batch_size()) / options_.batch_size);
}

absl::StatusOr<double> Trainer::Step() {
  ScheduleLearningRates();
  Trajectories replayed;
  if (replay_.trajectories > 0) {
    torch::NoGradGuard no_grad;
    replayed =
        SampleTrajectories(replay_.policy, *environment_, replay_.trajectories,
                           ExplorationOptions{}, replay_random_);
  }
  const int64_t on_policy = options_.batch_size - replay_.trajectories;
  SampledTrajectories sampled;
  if (options_.recompute_log_probs) {
    sampled.trajectories = SampleTrajectories(policy_, *environment_, on_policy,
                                              options_.exploration, random_);
    sampled.log_probs =
        ComputeTrajectoryLogProbs(policy_, *environment_, sampled.trajectories);
  } else {
    sampled = SampleTrajectoriesWithLogProbs(policy_, *environment_, on_policy,
                                             options_.exploration, random_);
  }
  torch::Tensor loss = PartLoss(sampled.trajectories, sampled.log_probs);
  last_lengths_ = sampled.trajectories.lengths;
  if (replay_.trajectories > 0) {
    loss = loss + PartLoss(replayed, ComputeTrajectoryLogProbs(
                                         policy_, *environment_, replayed));
    last_lengths_ = torch::cat({last_lengths_, replayed.lengths});
  }
  const double value = loss.item<double>();
  if (!std::isfinite(value)) {
    return absl::InternalError(absl::StrCat("loss became non-finite (", value,
                                            ") training on ",
                                            target_->Describe()));
  }
  optimizer_->zero_grad();
  loss.backward();
  if (options_.max_gradient_norm > 0) {
    // Multiplies by min(1, cap / norm): a cap that never binds leaves the
    // gradient bit for bit as without one.
    last_gradient_norm_ =
        torch::nn::utils::clip_grad_norm_(weights_, options_.max_gradient_norm);
  } else {
    last_gradient_norm_ = GradientNorm(weights_);
  }
  optimizer_->step();
  return value;
}

int64_t Trainer::last_batch_states() const {
  return last_lengths_.defined() ? last_lengths_.sum().item<int64_t>() : 0;
}

absl::Status Trainer::Run(const ProgressCallback& on_progress) {
  return RunUntil(options_.iterations, on_progress);
}

absl::Status Trainer::RunUntil(int64_t until,
                               const ProgressCallback& on_progress) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t last = std::min(until, options_.iterations);
  while (iterations_done_ < last) {
    const int64_t iteration = iterations_done_ + 1;
    absl::StatusOr<double> loss = Step();
    if (!loss.ok()) {
      return absl::Status(
          loss.status().code(),
          absl::StrCat("iteration ", iteration, ": ", loss.status().message()));
    }
    iterations_done_ = iteration;
    loss_sum_ += *loss;
    ++loss_count_;
    largest_gradient_norm_ =
        std::max(largest_gradient_norm_, last_gradient_norm_);
    if (iteration % options_.progress_every == 0 ||
        iteration == options_.iterations) {
      TrainingProgress progress;
      progress.iteration = iteration;
      progress.total_iterations = options_.iterations;
      progress.loss = loss_sum_ / loss_count_;
      progress.log_z = policy_->log_z().item<double>();
      progress.elapsed_seconds = std::chrono::duration<double>(
                                     std::chrono::steady_clock::now() - start)
                                     .count();
      progress.trajectories = iteration * options_.batch_size;
      progress.largest_gradient_norm = largest_gradient_norm_;
      largest_gradient_norm_ = 0.0;
      // Reset before reporting, so that a state saved from the callback
      // matches the one a trainer running straight through would have.
      loss_sum_ = 0.0;
      loss_count_ = 0;
      if (on_progress) on_progress(progress);
    }
  }
  return absl::OkStatus();
}

TrainerState Trainer::SaveState() const {
  TrainerState state;
  state.iterations_done = iterations_done_;
  state.random_state = random_.State().clone();
  state.loss_sum = loss_sum_;
  state.loss_count = loss_count_;
  if (replay_.trajectories > 0) {
    state.replay_random_state = replay_random_.State().clone();
  }
  const auto& optimizer_state = optimizer_->state();
  for (const auto& item : policy_->named_parameters()) {
    auto it = optimizer_state.find(
        c10::guts::to_string(item.value().unsafeGetTensorImpl()));
    if (it == optimizer_state.end()) continue;
    const auto& adam =
        static_cast<const torch::optim::AdamParamState&>(*it->second);
    TrainerState::Moments moments;
    moments.parameter = item.key();
    moments.step = adam.step();
    moments.exp_avg = adam.exp_avg().detach().to(torch::kCPU).clone();
    moments.exp_avg_sq = adam.exp_avg_sq().detach().to(torch::kCPU).clone();
    state.moments.push_back(std::move(moments));
  }
  return state;
}

absl::Status Trainer::RestoreState(const TrainerState& state) {
  if (state.iterations_done < 0 ||
      state.iterations_done > options_.iterations) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint is at iteration ", state.iterations_done,
                     ", outside [0, ", options_.iterations, "]"));
  }
  RETURN_IF_ERROR(CheckRandomState(state.random_state, random_.State(), ""));
  if (replay_.trajectories > 0) {
    RETURN_IF_ERROR(CheckRandomState(state.replay_random_state,
                                     replay_random_.State(), "replay "));
  }
  torch::OrderedDict<std::string, torch::Tensor> parameters =
      policy_->named_parameters();
  for (const TrainerState::Moments& moments : state.moments) {
    const torch::Tensor* parameter = parameters.find(moments.parameter);
    if (parameter == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint has optimizer moments for unknown parameter '",
          moments.parameter, "'"));
    }
    if (!moments.exp_avg.defined() || !moments.exp_avg_sq.defined() ||
        moments.exp_avg.sizes() != parameter->sizes() ||
        moments.exp_avg_sq.sizes() != parameter->sizes() || moments.step < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint's optimizer moments for '",
                       moments.parameter, "' do not fit the parameter"));
    }
  }
  auto& optimizer_state = optimizer_->state();
  optimizer_state.clear();
  for (const TrainerState::Moments& moments : state.moments) {
    const torch::Tensor& parameter = *parameters.find(moments.parameter);
    auto adam = std::make_unique<torch::optim::AdamParamState>();
    adam->step(moments.step);
    adam->exp_avg(moments.exp_avg.to(parameter.options()).clone());
    adam->exp_avg_sq(moments.exp_avg_sq.to(parameter.options()).clone());
    optimizer_state[c10::guts::to_string(parameter.unsafeGetTensorImpl())] =
        std::move(adam);
  }
  random_.SetState(state.random_state.contiguous());
  if (replay_.trajectories > 0) {
    replay_random_.SetState(state.replay_random_state.contiguous());
  }
  iterations_done_ = state.iterations_done;
  loss_sum_ = state.loss_sum;
  loss_count_ = state.loss_count;
  return absl::OkStatus();
}

}  // namespace epgfn
