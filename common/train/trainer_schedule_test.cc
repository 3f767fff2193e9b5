// The Trainer's learning-rate schedule and replayed part of the batch
// (TrainingOptions::learning_rate_schedule, ReplaySource): they act, they
// resume bit for bit, they compose with gradient clipping, and bad replays
// are refused. Small hypergrid, TB (so that log Z's rate is scheduled too).
#include <torch/types.h>
#include <torch/utils.h>

#include <memory>

#include "common/env/environment_registry.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/hypergrid_trainer_fixture.h"
#include "common/train/trainer.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

class TrainerScheduleTest : public HypergridTrainerTest {
 protected:
  void SetUp() override {
    HypergridTrainerTest::SetUp();
    replayed_policy_ = FreshPolicy(9);
  }

  static TrainingOptions Options(LearningRateSchedule schedule,
                                 double floor = 0.1) {
    TrainingOptions options;
    options.loss = LossKind::kTrajectoryBalance;
    options.iterations = 8;
    options.batch_size = 16;
    options.exploration.epsilon = 0.1;
    options.seed = 6;
    options.learning_rate_schedule = schedule;
    options.learning_rate_floor = floor;
    return options;
  }

  ReplaySource Replay(int64_t trajectories = 4) const {
    ReplaySource replay;
    replay.policy = replayed_policy_;
    replay.trajectories = trajectories;
    replay.seed = 77;
    return replay;
  }

  // The weights after training a fresh policy straight through.
  PolicyNet Trained(const TrainingOptions& options,
                    const ReplaySource& replay = {}) {
    PolicyNet policy = FreshPolicy();
    auto trainer = Trainer::Create(environment_.get(), policy, target_.get(),
                                   options, replay);
    EXPECT_TRUE(trainer.ok()) << trainer.status();
    if (trainer.ok()) {
      EXPECT_TRUE((*trainer)->Run().ok());
    }
    return policy;
  }

  PolicyNet replayed_policy_{nullptr};
};

// A schedule held at 1 (a linear decay to a floor of 1) takes the constant
// schedule's very steps; a decay to 0.1, and a replayed part, change them.
TEST_F(TrainerScheduleTest, ScheduleAndReplayAct) {
  PolicyNet constant = Trained(Options(LearningRateSchedule::kConstant));
  EXPECT_TRUE(
      SameWeights(constant, Trained(Options(LearningRateSchedule::kLinear,
                                            /*floor=*/1.0))));
  EXPECT_FALSE(
      SameWeights(constant, Trained(Options(LearningRateSchedule::kCosine))));
  EXPECT_FALSE(SameWeights(
      constant, Trained(Options(LearningRateSchedule::kConstant), Replay())));
}

// A replaying trainer's batch is the on-policy part a trainer without replay
// would draw at that batch size, plus the replayed policy's own samples from
// the replay's seed.
TEST_F(TrainerScheduleTest, BatchHoldsBothParts) {
  constexpr int64_t kReplayed = 6;
  TrainingOptions options = Options(LearningRateSchedule::kConstant);
  auto with_replay = Trainer::Create(environment_.get(), FreshPolicy(),
                                     target_.get(), options, Replay(kReplayed));
  ASSERT_TRUE(with_replay.ok()) << with_replay.status();
  ASSERT_TRUE((*with_replay)->Step().ok());

  options.batch_size -= kReplayed;
  auto on_policy_only = Trainer::Create(environment_.get(), FreshPolicy(),
                                        target_.get(), options);
  ASSERT_TRUE(on_policy_only.ok()) << on_policy_only.status();
  ASSERT_TRUE((*on_policy_only)->Step().ok());
  RandomSource replay_random(Replay().seed);
  torch::NoGradGuard no_grad;
  const Trajectories replayed =
      SampleTrajectories(replayed_policy_, *environment_, kReplayed,
                         ExplorationOptions{}, replay_random);
  EXPECT_EQ((*with_replay)->last_batch_states(),
            (*on_policy_only)->last_batch_states() +
                replayed.lengths.sum().item<int64_t>());
}

// Saved half way and restored onto a copy of the weights, a trainer with a
// cosine schedule and a replayed part continues bit for bit: the schedule
// follows the restored iteration and the replay's generator is restored.
TEST_F(TrainerScheduleTest, ResumesBitForBit) {
  const TrainingOptions options = Options(LearningRateSchedule::kCosine);
  PolicyNet straight = Trained(options, Replay());

  PolicyNet first_policy = FreshPolicy();
  auto first = Trainer::Create(environment_.get(), first_policy, target_.get(),
                               options, Replay());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->RunUntil(4).ok());
  const TrainerState state = (*first)->SaveState();
  ASSERT_TRUE(state.replay_random_state.defined());
  PolicyNet resumed_policy = FreshPolicy();
  {
    torch::NoGradGuard no_grad;
    auto source = first_policy->named_parameters();
    for (auto& item : resumed_policy->named_parameters()) {
      item.value().copy_(source[item.key()]);
    }
  }
  auto resumed = Trainer::Create(environment_.get(), resumed_policy,
                                 target_.get(), options, Replay());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  ASSERT_TRUE((*resumed)->RestoreState(state).ok());
  ASSERT_TRUE((*resumed)->Run().ok());
  EXPECT_TRUE(SameWeights(straight, resumed_policy));

  // A state without the replay's generator cannot resume a replaying
  // trainer.
  TrainerState without = state;
  without.replay_random_state = torch::Tensor();
  EXPECT_EQ((*resumed)->RestoreState(without).code(),
            absl::StatusCode::kInvalidArgument);
}

// Gradient clipping applies with a schedule and a replay (the streaming
// update's own loop once trained unclipped): a binding cap changes the
// result, one that never binds does not.
TEST_F(TrainerScheduleTest, ClipsWithScheduleAndReplay) {
  TrainingOptions options = Options(LearningRateSchedule::kCosine);
  PolicyNet unclipped = Trained(options, Replay());
  options.max_gradient_norm = 1e30;
  EXPECT_TRUE(SameWeights(unclipped, Trained(options, Replay())));
  options.max_gradient_norm = 1e-4;
  EXPECT_FALSE(SameWeights(unclipped, Trained(options, Replay())));
}

TEST_F(TrainerScheduleTest, RefusesBadReplaysAndFloors) {
  const TrainingOptions options = Options(LearningRateSchedule::kCosine);
  for (int64_t trajectories : {1, 15, 16}) {
    EXPECT_EQ(Trainer::Create(environment_.get(), FreshPolicy(), target_.get(),
                              options, Replay(trajectories))
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument)
        << trajectories;
  }
  ReplaySource missing = Replay();
  missing.policy = PolicyNet(nullptr);
  EXPECT_EQ(Trainer::Create(environment_.get(), FreshPolicy(), target_.get(),
                            options, missing)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto other =
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=3,side=4"));
  ASSERT_TRUE(other.ok()) << other.status();
  ReplaySource misfit = Replay();
  misfit.policy = *MakePolicy(**other, PolicyArchitecture(), 1, torch::kCPU);
  EXPECT_EQ(Trainer::Create(environment_.get(), FreshPolicy(), target_.get(),
                            options, misfit)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  for (double floor : {0.0, -0.5, 1.5}) {
    TrainingOptions bad = options;
    bad.learning_rate_floor = floor;
    EXPECT_EQ(bad.Validate().code(), absl::StatusCode::kInvalidArgument)
        << floor;
  }
}

}  // namespace
}  // namespace epgfn
