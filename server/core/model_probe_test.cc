// The upload probe evaluates each distinct state once: the same
// log-probabilities, verdicts and figures as a pass over every probe step.
#include "server/core/model_probe.h"

#include <torch/types.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

constexpr int64_t kWalks = 64;
constexpr uint64_t kSeed = 11;

class ModelProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_support::SmallHypergridConfig(1);
    policy_ =
        *MakePolicy(environment(), config_->local_architecture, 3, torch::kCPU);
    probe_ =
        UniformProbeTrajectories(environment(), kWalks, kSeed, torch::kCPU);
  }

  const Environment& environment() const { return *config_->environment; }

  // The forward head's bias: one entry per action of the 2-d grid (two
  // moves and exit).
  void SetForwardBias(const std::vector<float>& values) {
    torch::NoGradGuard no_grad;
    policy_->named_parameters()["forward_head.bias"].copy_(
        torch::tensor(values));
  }

  // What the probe read before: one pass over every step of the probe.
  TrajectoryLogProbs EveryStepLogProbs() {
    torch::NoGradGuard no_grad;
    return ComputeTrajectoryLogProbs(policy_, environment(), probe_);
  }

  std::shared_ptr<const FederationConfig> config_;
  PolicyNet policy_{nullptr};
  Trajectories probe_;
};

void ExpectSame(const torch::Tensor& distinct, const torch::Tensor& every,
                const char* what) {
  ASSERT_EQ(distinct.defined(), every.defined()) << what;
  if (!every.defined()) return;
  ASSERT_EQ(distinct.sizes(), every.sizes()) << what;
  EXPECT_TRUE(torch::allclose(distinct, every, 1e-6, 1e-6, /*equal_nan=*/true))
      << what << ": largest difference "
      << (distinct - every).abs().nan_to_num(0).max().item<double>();
}

TEST_F(ModelProbeTest, EvaluatesEachDistinctStateOnceWithTheSameLogProbs) {
  const ProbeEvaluation evaluation =
      EvaluateProbe(policy_, environment(), probe_);
  torch::Tensor every_state =
      probe_.states.reshape({-1, environment().raw_state_dim()});
  EXPECT_EQ(evaluation.num_states, every_state.size(0));
  // The case repeats states: 64 walks on a 4x4 grid (16 states).
  const int64_t distinct = evaluation.distinct_states.size(0);
  EXPECT_LE(distinct, 16);
  EXPECT_GT(evaluation.num_states, 4 * distinct);
  // Each state once, none left out.
  EXPECT_EQ(std::get<0>(torch::unique_dim(every_state, 0)).size(0), distinct);
  EXPECT_TRUE(torch::equal(
      std::get<0>(torch::unique_dim(
          torch::cat({every_state, evaluation.distinct_states}), 0)),
      evaluation.distinct_states));
  ASSERT_EQ(evaluation.outputs.forward_logits.size(0), distinct);

  const TrajectoryLogProbs every = EveryStepLogProbs();
  ExpectSame(evaluation.log_probs.log_pf, every.log_pf, "log_pf");
  ExpectSame(evaluation.log_probs.log_pb, every.log_pb, "log_pb");
  ExpectSame(evaluation.log_probs.log_flow, every.log_flow, "log_flow");
  // Not a trivial comparison: most steps have a nonzero log p_F (a state
  // with only exit allowed has 0).
  EXPECT_GT((every.log_pf != 0).sum().item<int64_t>(),
            probe_.step_mask.sum().item<int64_t>() / 2);
  EXPECT_TRUE(CheckOutputsFinite(policy_, environment(), kSeed, kWalks).ok());
}

TEST_F(ModelProbeTest, RefusesBadModelsWithTheSameFigures) {
  // Finite log-probabilities of a magnitude no trained model has: the
  // figure is the largest over every step.
  SetForwardBias({1e30f, -1e30f, 1e30f});
  const TrajectoryLogProbs every = EveryStepLogProbs();
  ExpectSame(EvaluateProbe(policy_, environment(), probe_).log_probs.log_pf,
             every.log_pf, "log_pf");
  absl::Status status =
      CheckOutputsFinite(policy_, environment(), kSeed, kWalks);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            absl::StrCat("the model's log p_F of a step reaches magnitude ",
                         every.log_pf.abs().max().item<double>(),
                         " on a probe trajectory, above the limit ",
                         kMaxProbeLogMagnitude));

  // Finite logits whose masked log-softmax is -inf for the middle action.
  SetForwardBias({3e38f, -3e38f, 3e38f});
  ASSERT_FALSE(torch::isfinite(EveryStepLogProbs().log_pf).all().item<bool>());
  status = CheckOutputsFinite(policy_, environment(), kSeed, kWalks);
  EXPECT_EQ(status.message(),
            absl::StrCat("the model's log p_F of a step is not finite on some "
                         "of ",
                         probe_.batch_size(), " probe trajectories"));

  // Infinite raw outputs, counted over every probe state, repeats included.
  SetForwardBias({std::numeric_limits<float>::infinity(), 0.0f, 0.0f});
  status = CheckOutputsFinite(policy_, environment(), kSeed, kWalks);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            absl::StrCat("the model's forward logits are not finite on some "
                         "of ",
                         probe_.states.size(0) * probe_.states.size(1),
                         " probe states"));
}

TEST_F(ModelProbeTest, AProbeOfNoWalksEvaluatesS0) {
  Trajectories none =
      UniformProbeTrajectories(environment(), 0, kSeed, torch::kCPU);
  const ProbeEvaluation evaluation =
      EvaluateProbe(policy_, environment(), none);
  EXPECT_EQ(evaluation.num_states, 1);
  EXPECT_TRUE(torch::equal(evaluation.distinct_states,
                           environment().InitialStates(1, torch::kCPU)));
  EXPECT_FALSE(evaluation.log_probs.log_pf.defined());
  SetForwardBias({std::numeric_limits<float>::quiet_NaN(), 0.0f, 0.0f});
  EXPECT_EQ(CheckOutputsFinite(policy_, environment(), kSeed, 0).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
