#ifndef EPGFN_COMMON_TRAIN_TRAINER_H_
#define EPGFN_COMMON_TRAIN_TRAINER_H_

#include <torch/optim/adam.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/loss/balance_loss.h"
#include "common/policy/policy_net.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/learning_rate_schedule.h"
#include "common/train/trajectory_target.h"

namespace epgfn {

struct TrainingOptions {
  LossKind loss = LossKind::kContrastiveBalance;
  int64_t iterations = 2000;
  int64_t batch_size = 128;
  double learning_rate = 1e-3;
  // log Z moves much further than the weights; the usual practice is a
  // larger step for it (trajectory balance only).
  double log_z_learning_rate = 1e-1;
  ExplorationOptions exploration;
  uint64_t seed = 0;
  // Progress is reported every this many iterations (and at the last).
  int64_t progress_every = 100;
  // Sample without gradients, then run a second forward pass with them over
  // every visited state (ComputeTrajectoryLogProbs), instead of taking the
  // log-probabilities from the rollout's passes (SampleTrajectoriesWithLog-
  // Probs). 8 rather than 6 FLOPs per parameter and visited state, for the
  // same results; kept for the benchmark's side-by-side.
  bool recompute_log_probs = false;
  // When > 0, the policy weights' gradient is rescaled to this L2 norm (over
  // all of them together) before each Adam step whenever it is longer; 0 is
  // off, so that every earlier seeded run stays bit for bit. log Z is not
  // clipped: its gradient is the batch's mean residual, which is what it
  // must follow, and a joint norm would let that one scalar shrink every
  // weight's step while log Z is still far off. Adam bounds log Z's step
  // anyway (about its learning rate).
  double max_gradient_norm = 0.0;
  // Both learning rates (log Z's too) follow this schedule from their values
  // above at the first iteration to learning_rate_floor times them at the
  // last; the default keeps them constant.
  LearningRateSchedule learning_rate_schedule = LearningRateSchedule::kConstant;
  double learning_rate_floor = 0.1;  // in (0, 1]

  absl::Status Validate() const;
};

// InvalidArgument unless `replayed` of a batch of `batch_size` leaves >= 2
// trajectories in both parts (a balance loss needs two per part).
absl::Status CheckReplayShare(int64_t replayed, int64_t batch_size);

// A part of every batch drawn from a fixed policy instead of the one being
// trained: its own trajectories, without exploration or gradients, balanced
// like the rest (their log-probabilities under the trained policy). A
// streaming update replays the frozen previous model this way, which has
// full support where the new posterior has its mass. The batch stays
// batch_size; each part's loss is weighted by its share of it.
struct ReplaySource {
  PolicyNet policy{nullptr};  // unused while trajectories is 0
  int64_t trajectories = 0;   // per batch; 0 (off) or >= 2 leaving >= 2
  uint64_t seed = 0;          // of the replayed trajectories' own stream
};

struct TrainingProgress {
  int64_t iteration = 0;  // 1-based, iterations done so far
  int64_t total_iterations = 0;
  double loss = 0.0;  // mean over the iterations since the last report
  double log_z = 0.0;
  double elapsed_seconds = 0.0;
  int64_t trajectories = 0;  // sampled so far
  // The largest weight-gradient norm (before clipping) of the steps since
  // the last report, to see a spike as it happens. (Not in TrainerState: a
  // resumed trainer's first report covers the steps after the resume.)
  double largest_gradient_norm = 0.0;
};

using ProgressCallback = std::function<void(const TrainingProgress&)>;

// Everything besides the policy's weights that the next Step() depends on,
// so that a trainer restored from it continues exactly where it stopped: the
// same policy weights plus this state give bit-identical later steps.
struct TrainerState {
  // Adam's running moments of one parameter (absent until its first step).
  struct Moments {
    std::string parameter;  // the policy's parameter name
    int64_t step = 0;
    torch::Tensor exp_avg;
    torch::Tensor exp_avg_sq;
  };
  int64_t iterations_done = 0;
  torch::Tensor random_state;  // RandomSource::State()
  std::vector<Moments> moments;
  // The loss accumulated since the last progress report.
  double loss_sum = 0.0;
  int64_t loss_count = 0;
  // The replay's generator (defined only for a trainer with a ReplaySource).
  torch::Tensor replay_random_state;
};

// Trains a policy so that p_F(t)/p_B(t|x) matches a TrajectoryTarget:
// sample a batch with exploration, evaluate the balance loss, take an Adam
// step. Local training (target log R), aggregation (target from the local
// models) and streaming updates (target from the previous model and the new
// data, with a replayed part) are all this loop.
class Trainer {
 public:
  // `environment` and `target` must outlive the trainer; the policy is
  // trained in place. InvalidArgument for bad options, a policy (or replay
  // policy) that does not fit the environment, or a replay that leaves fewer
  // than 2 trajectories in either part of the batch.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(
      const Environment* environment, PolicyNet policy,
      TrajectoryTarget* target, const TrainingOptions& options,
      const ReplaySource& replay = {});

  // Runs the steps up to options.iterations (all of them on a fresh
  // trainer). Returns Internal if the loss becomes non-finite (with the
  // iteration), never crashes on it.
  absl::Status Run(const ProgressCallback& on_progress = nullptr);
  // Runs steps until min(iteration, options.iterations) are done; progress is
  // reported at the same iterations as Run() would.
  absl::Status RunUntil(int64_t iteration,
                        const ProgressCallback& on_progress = nullptr);
  int64_t iterations_done() const { return iterations_done_; }

  // The optimizer's moments, the random generator and the iteration count
  // (tensors copied to the CPU).
  TrainerState SaveState() const;
  // Resumes from SaveState() of a trainer with the same options on a policy
  // of the same architecture whose weights were restored by the caller.
  // InvalidArgument (nothing changed) when the state names an unknown
  // parameter, a moment's shape differs, the random state is malformed or
  // the iteration lies outside [0, options.iterations], or the state lacks
  // the replay's generator that this trainer needs.
  absl::Status RestoreState(const TrainerState& state);

  // One step on one batch, at the learning rates of iteration
  // iterations_done() (Run and RunUntil count it); returns the loss.
  absl::StatusOr<double> Step();

  PolicyNet policy() const { return policy_; }

  // States visited by the last Step()'s batch (sum of trajectory lengths,
  // i.e. the rows its forward/backward pass ran over); 0 before any step.
  int64_t last_batch_states() const;
  // L2 norm of the policy weights' gradient in the last Step(), before any
  // clipping (log Z excluded); 0 before any step.
  double last_gradient_norm() const { return last_gradient_norm_; }

 private:
  Trainer(const Environment* environment, PolicyNet policy,
          TrajectoryTarget* target, const TrainingOptions& options,
          const ReplaySource& replay);

  void ScheduleLearningRates();
  // One part of the batch's balance loss, weighted by its share of it.
  torch::Tensor PartLoss(const Trajectories& trajectories,
                         const TrajectoryLogProbs& log_probs) const;

  const Environment* environment_;
  PolicyNet policy_;
  TrajectoryTarget* target_;
  TrainingOptions options_;
  std::unique_ptr<BalanceLoss> loss_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::vector<torch::Tensor> weights_;       // every parameter but log Z
  std::vector<double> base_learning_rates_;  // per optimizer parameter group
  ReplaySource replay_;
  RandomSource random_;
  RandomSource replay_random_;
  int64_t iterations_done_ = 0;
  double loss_sum_ = 0.0;
  int64_t loss_count_ = 0;
  torch::Tensor last_lengths_;  // [B] lengths of the last sampled batch
  double last_gradient_norm_ = 0.0;
  double largest_gradient_norm_ = 0.0;  // since the last progress report
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_TRAINER_H_
