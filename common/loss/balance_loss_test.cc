#include "common/loss/balance_loss.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>

#include "common/env/environment_registry.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// On a 1-D grid (a chain 0 -> 1 -> ... -> H-1, exit anywhere, one parent per
// state) the balanced policy for reward R is known in closed form:
// F(k) = sum_{j >= k} R(j), p(exit | k) = R(k) / F(k), Z = F(0). With a
// one-hot encoding and an identity torso, a network can hold it exactly.
class HandBuiltBalancedPolicyTest : public ::testing::Test {
 protected:
  static constexpr int64_t kSide = 6;

  void SetUp() override {
    environment_ = std::move(
        MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=1,side=6"))
            .value());
    reward_ = std::move(
        MakeSplitLogReward(*environment_, *RewardConfig::Parse("standard"))
            .value());
    PolicyArchitecture architecture;
    architecture.hidden_width = kSide;
    architecture.hidden_layers = 1;
    architecture.state_flow = true;
    policy_ = *MakePolicy(*environment_, architecture, 0, torch::kCPU);

    torch::Tensor states = torch::arange(kSide, torch::kInt64).unsqueeze(1);
    torch::Tensor log_r = (*reward_)(states).to(torch::kFloat64);
    torch::Tensor log_flow = log_r.flip(0).logcumsumexp(0).flip(0);
    torch::Tensor log_exit = log_r - log_flow;               // log p(exit | k)
    torch::Tensor log_move = torch::log1p(-log_exit.exp());  // -inf at the top
    torch::NoGradGuard no_grad;
    auto parameters = policy_->named_parameters();
    parameters["torso.0.weight"].copy_(torch::eye(kSide));
    parameters["torso.0.bias"].zero_();
    // Logits [move, exit]; the last state only allows exit, so its move logit
    // is masked and any finite value will do.
    torch::Tensor logits = torch::stack(
        {log_move.clamp_min(-50.0), log_exit}, 0);
    parameters["forward_head.weight"].copy_(logits);
    parameters["forward_head.bias"].zero_();
    parameters["flow_head.weight"].copy_(log_flow.unsqueeze(0));
    parameters["flow_head.bias"].zero_();
    parameters["log_z"].fill_(log_flow[0].item<double>());
  }

  double Loss(LossKind kind) {
    RandomSource random(4);
    Trajectories trajectories =
        SampleTrajectories(policy_, *environment_, 64, {}, random);
    TrajectoryLogProbs log_probs =
        ComputeTrajectoryLogProbs(policy_, *environment_, trajectories);
    BalanceInputs inputs{&trajectories, &log_probs,
                         (*reward_)(trajectories.terminal_states),
                         policy_->log_z()};
    return MakeBalanceLoss(kind)->Compute(inputs).item<double>();
  }

  std::unique_ptr<Environment> environment_;
  std::unique_ptr<LogReward> reward_;
  PolicyNet policy_{nullptr};
};

TEST_F(HandBuiltBalancedPolicyTest, EveryLossIsZeroAtTheBalancedPolicy) {
  for (LossKind kind : {LossKind::kTrajectoryBalance,
                        LossKind::kDetailedBalance,
                        LossKind::kContrastiveBalance}) {
    EXPECT_LT(Loss(kind), 1e-9) << LossKindName(kind);
  }
}

TEST_F(HandBuiltBalancedPolicyTest, EveryLossIsPositiveAwayFromIt) {
  {
    torch::NoGradGuard no_grad;
    policy_->named_parameters()["forward_head.weight"][1][2].add_(0.7);
  }
  for (LossKind kind : {LossKind::kTrajectoryBalance,
                        LossKind::kDetailedBalance,
                        LossKind::kContrastiveBalance}) {
    EXPECT_GT(Loss(kind), 1e-3) << LossKindName(kind);
  }
}

TEST_F(HandBuiltBalancedPolicyTest, WrongLogZOnlyMattersToTrajectoryBalance) {
  {
    torch::NoGradGuard no_grad;
    policy_->log_z().add_(0.5);
  }
  EXPECT_NEAR(Loss(LossKind::kTrajectoryBalance), 0.25, 1e-6);
  EXPECT_LT(Loss(LossKind::kContrastiveBalance), 1e-9);
}

TEST_F(HandBuiltBalancedPolicyTest, WrongStateFlowOnlyMattersToDetailedBalance) {
  {
    torch::NoGradGuard no_grad;
    policy_->named_parameters()["flow_head.weight"][0][3].add_(1.0);
  }
  EXPECT_GT(Loss(LossKind::kDetailedBalance), 1e-3);
  EXPECT_LT(Loss(LossKind::kTrajectoryBalance), 1e-9);
}

TEST(LossKindTest, ParsesShortAndLongNames) {
  EXPECT_EQ(*ParseLossKind("CB"), LossKind::kContrastiveBalance);
  EXPECT_EQ(*ParseLossKind("trajectory_balance"), LossKind::kTrajectoryBalance);
  EXPECT_EQ(*ParseLossKind("db"), LossKind::kDetailedBalance);
  EXPECT_FALSE(ParseLossKind("subtb").ok());
}

}  // namespace
}  // namespace epgfn
