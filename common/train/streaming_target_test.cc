#include "common/train/streaming_target.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <vector>

#include "common/env/environment_registry.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/streaming_update.h"
#include "common/train/trainer.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

struct Fixture {
  std::unique_ptr<Environment> environment;
  std::unique_ptr<LogReward> likelihood;
};

Fixture MakeFixture() {
  Fixture fixture;
  fixture.environment = std::move(
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=4"))
          .value());
  fixture.likelihood =
      std::move(MakeStreamingLikelihood(
                    *fixture.environment,
                    *RewardConfig::Parse("client:index=2,count=4"), {1})
                    .value());
  return fixture;
}

PolicyNet SmallPolicy(const Environment& environment, bool learned_backward,
                      uint64_t seed) {
  PolicyArchitecture architecture;
  architecture.hidden_width = 16;
  architecture.learned_backward = learned_backward;
  return MakePolicy(environment, architecture, seed, torch::kCPU).value();
}

// log p_F(t) - log p_B(t|x) of one trajectory, one state at a time.
double HandLogForwardOverBackward(PolicyNet& policy,
                                  const Environment& environment,
                                  const Trajectories& trajectories, int64_t b) {
  torch::NoGradGuard no_grad;
  double total = 0.0;
  const int64_t length = trajectories.lengths[b].item<int64_t>();
  for (int64_t i = 0; i < length; ++i) {
    const torch::Tensor state = trajectories.states[i][b].unsqueeze(0);
    const torch::Tensor action = trajectories.actions[i][b].unsqueeze(0);
    const torch::Tensor log_pf = MaskedLogSoftmax(
        policy->forward(environment.Encode(state)).forward_logits,
        environment.ForwardMask(state));
    total += log_pf[0][action.item<int64_t>()].item<double>();
    if (action.item<int64_t>() == environment.exit_action()) continue;
    const torch::Tensor child = trajectories.states[i + 1][b].unsqueeze(0);
    const torch::Tensor backward_mask = environment.BackwardMask(child);
    if (policy->architecture().learned_backward) {
      const torch::Tensor log_pb = MaskedLogSoftmax(
          policy->forward(environment.Encode(child)).backward_logits,
          backward_mask);
      const int64_t back =
          environment.BackwardActionOf(child, action)[0].item<int64_t>();
      total -= log_pb[0][back].item<double>();
    } else {
      total += std::log(backward_mask.sum().item<double>());
    }
  }
  return total;
}

std::vector<torch::Tensor> CopyParameters(PolicyNet& policy) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& p : policy->parameters())
    copies.push_back(p.detach().clone());
  return copies;
}

bool SameParameters(PolicyNet& policy, const std::vector<torch::Tensor>& old) {
  std::vector<torch::Tensor> now = policy->parameters();
  if (now.size() != old.size()) return false;
  for (size_t i = 0; i < now.size(); ++i) {
    if (!torch::equal(now[i], old[i])) return false;
  }
  return true;
}

class StreamingTargetTest : public ::testing::TestWithParam<bool> {};

TEST_P(StreamingTargetTest,
       EqualsLikelihoodPlusPreviousLogForwardOverBackward) {
  torch::set_num_threads(1);
  Fixture fixture = MakeFixture();
  PolicyNet previous = SmallPolicy(*fixture.environment, GetParam(), 3);
  RandomSource random(4);
  const Trajectories trajectories = SampleTrajectories(
      previous, *fixture.environment, 16, {0.3, 1.0}, random);
  StreamingTarget target(fixture.environment.get(), previous,
                         fixture.likelihood.get());
  const torch::Tensor log_target = target.LogTarget(trajectories);
  ASSERT_EQ(log_target.size(0), 16);
  EXPECT_FALSE(log_target.requires_grad());
  const torch::Tensor log_f =
      fixture.likelihood->LogRewardFloat64(trajectories.terminal_states);
  double spread = 0.0;
  for (int64_t b = 0; b < 16; ++b) {
    const double expected =
        log_f[b].item<double>() +
        HandLogForwardOverBackward(previous, *fixture.environment, trajectories,
                                   b);
    EXPECT_NEAR(log_target[b].item<double>(), expected, 1e-4) << "row " << b;
    spread = std::max(spread, std::abs(expected - log_f[b].item<double>()));
  }
  // The previous model's term is not trivially zero on these trajectories.
  EXPECT_GT(spread, 0.1);
}

INSTANTIATE_TEST_SUITE_P(UniformAndLearnedBackward, StreamingTargetTest,
                         ::testing::Values(false, true));

TEST(StreamingTargetTest, TrainingAgainstItLeavesThePreviousModelAlone) {
  torch::set_num_threads(1);
  Fixture fixture = MakeFixture();
  PolicyNet previous = SmallPolicy(*fixture.environment, true, 3);
  PolicyNet trained = SmallPolicy(*fixture.environment, true, 5);
  const std::vector<torch::Tensor> before = CopyParameters(previous);
  StreamingTarget target(fixture.environment.get(), previous,
                         fixture.likelihood.get());
  TrainingOptions options;
  options.iterations = 5;
  options.batch_size = 16;
  auto trainer =
      Trainer::Create(fixture.environment.get(), trained, &target, options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Run().ok());
  EXPECT_TRUE(SameParameters(previous, before));
  for (const torch::Tensor& p : previous->parameters()) {
    EXPECT_FALSE(p.grad().defined());
  }
  // The trained model did move (the check above is not vacuous).
  bool any_grad = false;
  for (const torch::Tensor& p : trained->parameters())
    any_grad = any_grad || p.grad().defined();
  EXPECT_TRUE(any_grad);
}

TEST(StreamingUpdateTest, WarmStartsACopyAndKeepsPreviousUntouched) {
  torch::set_num_threads(1);
  Fixture fixture = MakeFixture();
  PolicyNet previous = SmallPolicy(*fixture.environment, false, 3);
  previous->train();
  const std::vector<torch::Tensor> before = CopyParameters(previous);
  StreamingUpdateOptions options;
  options.training.iterations = 20;
  options.training.batch_size = 16;
  options.training.progress_every = 10;
  options.diagnostics_trajectories = 64;
  auto all_data = MakeStreamingInitialReward(
      *fixture.environment, *RewardConfig::Parse("client:index=2,count=4"),
      {1});
  ASSERT_TRUE(all_data.ok()) << all_data.status();
  int reports = 0;
  auto result = TrainStreamingUpdate(
      *fixture.environment, previous, *fixture.likelihood, options, torch::kCPU,
      [&](const TrainingProgress&) { ++reports; }, all_data->get());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(reports, 2);
  EXPECT_TRUE(SameParameters(previous, before));
  EXPECT_TRUE(previous->is_training());
  EXPECT_FALSE(SameParameters(result->policy, before));
  EXPECT_NE(result->policy.ptr(), previous.ptr());
  const StreamingUpdateDiagnostics& d = result->diagnostics;
  EXPECT_TRUE(std::isfinite(d.final_loss));
  EXPECT_GE(d.alpha, 0.0);
  EXPECT_LT(d.alpha, 1.0);
  EXPECT_GE(d.beta, 0.0);
  EXPECT_EQ(d.num_trajectories, 64);
  ASSERT_TRUE(d.fcs.has_value());
  EXPECT_GE(*d.fcs, 0.0);
  EXPECT_LE(*d.fcs, 1.0);
  EXPECT_GT(result->training_seconds, 0.0);
}

TEST(StreamingUpdateTest, RefusesBadOptions) {
  Fixture fixture = MakeFixture();
  PolicyNet previous = SmallPolicy(*fixture.environment, false, 3);
  StreamingUpdateOptions options;
  options.diagnostics_trajectories = 1;
  EXPECT_EQ(TrainStreamingUpdate(*fixture.environment, previous,
                                 *fixture.likelihood, options, torch::kCPU)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  options.diagnostics_trajectories = 64;
  options.training.batch_size = 1;
  EXPECT_EQ(TrainStreamingUpdate(*fixture.environment, previous,
                                 *fixture.likelihood, options, torch::kCPU)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
