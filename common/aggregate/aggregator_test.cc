// Aggregation trained for real: N local GFlowNets, each on its own client
// reward, are combined without evaluating any reward, and the global model is
// compared exactly with the normalised product of the client rewards.
#include "common/aggregate/aggregator.h"

#include <algorithm>
#include <cstdio>

#include "common/aggregate/aggregating_balance_target.h"
#include "common/aggregate/federation_testing.h"
#include "common/aggregate/stacked_local_models.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/loss/balance_loss.h"
#include "common/sampling/trajectories.h"
#include "common/train/local_diagnostics.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(AggregatorTest, FourHypergridClientsReachTheProductTarget) {
  SimulatedFederation federation =
      MakeFederation("hypergrid:dim=2,side=8", "", 4, 1000);
  const double tv = AggregateAndMeasure(federation, 1000);
  std::printf("hypergrid 4 clients: TV to exact product %.4f\n", tv);
  EXPECT_LE(tv, 0.05);
}

TEST(AggregatorTest, ThreeMultisetClientsReachTheProductTarget) {
  SimulatedFederation federation =
      MakeFederation("multiset:items=5,size=4", ",seed=3", 3, 1000);
  const double tv = AggregateAndMeasure(federation, 1000);
  std::printf("multiset 3 clients: TV to exact product %.4f\n", tv);
  EXPECT_LE(tv, 0.05);
}

TEST(AggregatorTest, ThreeSequenceClientsReachTheProductTarget) {
  SimulatedFederation federation =
      MakeFederation("sequence:length=4,vocab=4", ",seed=5", 3, 1000);
  const double tv = AggregateAndMeasure(federation, 1000);
  std::printf("sequence 3 clients: TV to exact product %.4f\n", tv);
  EXPECT_LE(tv, 0.05);
}

TEST(AggregatorTest, ACorruptedClientDegradesTheAggregateAndItsBound) {
  SimulatedFederation federation =
      MakeFederation("hypergrid:dim=2,side=8", "", 4, 1000);
  std::optional<double> honest_bound;
  const double honest_tv = AggregateAndMeasure(federation, 1000, &honest_bound);
  // Client 2 uploads random weights instead of a trained model, and reports
  // its (honest) diagnostics for them.
  LocalModel& corrupted = federation.locals[2];
  corrupted.policy = *MakePolicy(*federation.environment, SmallArchitecture(),
                                 999, torch::kCPU);
  RandomSource random(5);
  corrupted.diagnostics =
      *EstimateLocalDiagnostics(corrupted.policy, *federation.environment,
                                *federation.rewards[2], 2048, random);
  std::optional<double> corrupted_bound;
  const double corrupted_tv =
      AggregateAndMeasure(federation, 1000, &corrupted_bound);
  std::printf("honest TV %.4f bound %.3f; corrupted TV %.4f bound %.3f\n",
              honest_tv, honest_bound.value_or(-1), corrupted_tv,
              corrupted_bound.value_or(-1));
  EXPECT_GT(corrupted_tv, 0.1);
  EXPECT_GT(corrupted_tv, 3 * honest_tv);
  ASSERT_TRUE(honest_bound && corrupted_bound);
  EXPECT_GT(*corrupted_bound, *honest_bound + 1.0);
}

class AggregatorRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    environment_ = std::move(
        MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=8"))
            .value());
    for (int i = 0; i < 2; ++i) {
      locals_.push_back(LocalModel{
          "client-" + std::to_string(i), environment_->config(),
          *MakePolicy(*environment_, SmallArchitecture(), i, torch::kCPU),
          std::nullopt});
    }
  }
  std::unique_ptr<Environment> environment_;
  std::vector<LocalModel> locals_;
};

TEST_F(AggregatorRefusalTest, AcceptsMatchingModels) {
  EXPECT_TRUE(
      Aggregator::Create(environment_.get(), locals_, TestAggregationOptions(4))
          .ok());
}

TEST_F(AggregatorRefusalTest, RefusesAModelOfAnotherEnvironment) {
  auto other = std::move(
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=9"))
          .value());
  locals_[1].environment = other->config();
  locals_[1].policy = *MakePolicy(*other, SmallArchitecture(), 1, torch::kCPU);
  auto aggregator = Aggregator::Create(environment_.get(), locals_,
                                       TestAggregationOptions(4));
  ASSERT_FALSE(aggregator.ok());
  EXPECT_EQ(aggregator.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(aggregator.status().message().find("client-1"), std::string::npos);
  EXPECT_NE(aggregator.status().message().find("side=9"), std::string::npos);
}

TEST_F(AggregatorRefusalTest, RefusesAModelWithAnotherEncoding) {
  // Claims the right environment but was built for a different encoding.
  auto other = std::move(
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=3,side=8"))
          .value());
  locals_[0].policy = *MakePolicy(*other, SmallArchitecture(), 1, torch::kCPU);
  auto aggregator = Aggregator::Create(environment_.get(), locals_,
                                       TestAggregationOptions(4));
  ASSERT_FALSE(aggregator.ok());
  EXPECT_EQ(aggregator.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(aggregator.status().message().find("client-0"), std::string::npos);
}

TEST_F(AggregatorRefusalTest, RefusesDuplicateClientsAndBadOptions) {
  locals_[1].client_id = "client-0";
  EXPECT_EQ(
      Aggregator::Create(environment_.get(), locals_, TestAggregationOptions(4))
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  locals_[1].client_id = "client-1";
  AggregationOptions options = TestAggregationOptions(4);
  options.training.loss = LossKind::kDetailedBalance;
  EXPECT_FALSE(Aggregator::Create(environment_.get(), locals_, options).ok());
  EXPECT_FALSE(
      Aggregator::Create(environment_.get(), {}, TestAggregationOptions(4))
          .ok());
  PolicyArchitecture wider = SmallArchitecture();
  wider.hidden_width = 64;
  EXPECT_FALSE(
      Aggregator::Create(environment_.get(), locals_, TestAggregationOptions(4),
                         *MakePolicy(*environment_, wider, 3, torch::kCPU))
          .ok());
}

TEST_F(AggregatorRefusalTest, WarmStartContinuesFromThePreviousModel) {
  auto first = Aggregator::Create(environment_.get(), locals_,
                                  TestAggregationOptions(400));
  ASSERT_TRUE(first.ok());
  double first_report = -1;
  ASSERT_TRUE((*first)
                  ->Run([&](const AggregationProgress& p) {
                    if (first_report < 0)
                      first_report = *p.total_variation_to_local_product;
                  })
                  .ok());
  auto second = Aggregator::Create(environment_.get(), locals_,
                                   TestAggregationOptions(400),
                                   (*first)->global_policy());
  ASSERT_TRUE(second.ok());
  double warm_report = -1;
  ASSERT_TRUE((*second)
                  ->Run([&](const AggregationProgress& p) {
                    if (warm_report < 0)
                      warm_report = *p.total_variation_to_local_product;
                  })
                  .ok());
  // After 100 warm iterations the model is already better than the cold run
  // after its first 100.
  EXPECT_LT(warm_report, first_report);
}

TEST(PlateauMonitorTest, StopsWhenTheMovingAverageStopsImproving) {
  AggregationStoppingOptions options;
  options.window = 3;
  options.patience = 2;
  options.relative_tolerance = 0.1;
  PlateauMonitor falling(options);
  // Halving every report: always an improvement.
  double loss = 1.0;
  for (int i = 0; i < 50; ++i, loss *= 0.5) {
    EXPECT_EQ(falling.Observe(loss, std::nullopt),
              AggregationStopReason::kNotStopped);
  }
  PlateauMonitor flat(options);
  // The first full window (report 3) sets the best; reports 4 and 5 do not
  // improve on it by 10%: the rule fires at the second of them.
  const std::vector<double> losses = {1.0, 1.0, 1.0, 0.99, 0.98};
  for (size_t i = 0; i + 1 < losses.size(); ++i) {
    EXPECT_EQ(flat.Observe(losses[i], std::nullopt),
              AggregationStopReason::kNotStopped);
  }
  EXPECT_EQ(flat.Observe(losses.back(), std::nullopt),
            AggregationStopReason::kLossPlateau);
  // A geometric decay improves by 50% a report, but by less than an
  // absolute tolerance of 0.01 once the average is below ~0.02.
  AggregationStoppingOptions absolute = options;
  absolute.absolute_tolerance = 0.01;
  PlateauMonitor decaying(absolute);
  AggregationStopReason reason = AggregationStopReason::kNotStopped;
  int reports = 0;
  for (double l = 1.0;
       reason == AggregationStopReason::kNotStopped && reports < 50;
       l *= 0.5, ++reports) {
    reason = decaying.Observe(l, std::nullopt);
  }
  EXPECT_EQ(reason, AggregationStopReason::kLossPlateau);
  EXPECT_LT(reports, 15);
  // The TV rule alone.
  AggregationStoppingOptions tv_only;
  tv_only.patience = 2;
  tv_only.total_variation_tolerance = 0.01;
  PlateauMonitor tv(tv_only);
  EXPECT_EQ(tv.Observe(5.0, 0.5), AggregationStopReason::kNotStopped);
  EXPECT_EQ(tv.Observe(5.0, 0.3), AggregationStopReason::kNotStopped);
  EXPECT_EQ(tv.Observe(5.0, 0.295), AggregationStopReason::kNotStopped);
  EXPECT_EQ(tv.Observe(5.0, 0.296),
            AggregationStopReason::kTotalVariationPlateau);
  AggregationStoppingOptions bad_window;
  bad_window.window = -1;
  EXPECT_FALSE(bad_window.Validate().ok());
  AggregationStoppingOptions bad_tolerance;
  bad_tolerance.relative_tolerance = 1.0;
  EXPECT_FALSE(bad_tolerance.Validate().ok());
}

TEST_F(AggregatorRefusalTest, StopsOnALossPlateauBeforeTheBudget) {
  AggregationOptions options = TestAggregationOptions(3000);
  options.training.progress_every = 25;
  options.stopping.window = 4;
  options.stopping.patience = 4;
  options.stopping.relative_tolerance = 0.05;
  auto stopped = Aggregator::Create(environment_.get(), locals_, options);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_TRUE((*stopped)->Run().ok());
  const int64_t done = (*stopped)->iterations_done();
  std::printf("loss plateau after %lld of 3000 iterations\n",
              static_cast<long long>(done));
  EXPECT_TRUE((*stopped)->finished());
  EXPECT_EQ((*stopped)->stop_reason(), AggregationStopReason::kLossPlateau);
  EXPECT_LT(done, 3000);
  EXPECT_EQ(done % 25, 0);
  // Later calls train no further.
  ASSERT_TRUE((*stopped)->RunUntil(3000).ok());
  EXPECT_EQ((*stopped)->iterations_done(), done);
  // Checkpointed before the stop, a restored run keeps the rule's state and
  // stops at the same report; a checkpoint after the stop keeps the reason.
  auto first = Aggregator::Create(environment_.get(), locals_, options);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->RunUntil(done - 50).ok());
  auto resumed = Aggregator::Create(environment_.get(), locals_, options);
  ASSERT_TRUE(resumed.ok());
  ASSERT_TRUE((*resumed)->Restore((*first)->Checkpoint()).ok());
  ASSERT_TRUE((*resumed)->Run().ok());
  EXPECT_EQ((*resumed)->iterations_done(), done);
  EXPECT_EQ((*resumed)->stop_reason(), AggregationStopReason::kLossPlateau);
  auto after = Aggregator::Create(environment_.get(), locals_, options);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE((*after)->Restore((*stopped)->Checkpoint()).ok());
  EXPECT_TRUE((*after)->finished());
  EXPECT_EQ((*after)->stop_reason(), AggregationStopReason::kLossPlateau);
  // The rule only decides when to stop: the model is the one a run without
  // it has after as many iterations.
  AggregationOptions budget = TestAggregationOptions(done);
  auto reference = Aggregator::Create(environment_.get(), locals_, budget);
  ASSERT_TRUE(reference.ok());
  ASSERT_TRUE((*reference)->Run().ok());
  EXPECT_EQ((*reference)->stop_reason(), AggregationStopReason::kBudgetReached);
  PolicyNet a = (*stopped)->global_policy();
  PolicyNet b = (*reference)->global_policy();
  for (const auto& item : a->named_parameters()) {
    EXPECT_TRUE(
        torch::equal(item.value(), *b->named_parameters().find(item.key())))
        << item.key();
  }
}

// Random local models of `architecture` and exploring trajectories of another
// random policy, for comparing the stacked and per-model evaluations.
struct StackedCase {
  std::unique_ptr<Environment> environment;
  std::vector<PolicyNet> policies;
  Trajectories trajectories;
};

StackedCase MakeStackedCase(const PolicyArchitecture& architecture,
                            int models) {
  StackedCase c;
  c.environment = std::move(
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=8"))
          .value());
  for (int i = 0; i < models; ++i) {
    c.policies.push_back(
        *MakePolicy(*c.environment, architecture, 40 + i, torch::kCPU));
  }
  PolicyNet behaviour =
      *MakePolicy(*c.environment, architecture, 7, torch::kCPU);
  RandomSource random(11);
  c.trajectories = SampleTrajectories(behaviour, *c.environment, 96,
                                      {/*epsilon=*/0.3}, random);
  return c;
}

// Largest |stacked - per model| of the summed log p_F and log p_B.
double StackedError(StackedCase& c,
                    const StackedLocalModels::LogProbSums& sums) {
  double error = 0;
  int identical = 0;
  for (size_t i = 0; i < c.policies.size(); ++i) {
    const TrajectoryLogProbs reference = ComputeTrajectoryLogProbs(
        c.policies[i], *c.environment, c.trajectories);
    const torch::Tensor pf = sums.log_pf[i];
    const torch::Tensor pb = sums.log_pb[i];
    error =
        std::max({error, (pf - reference.SumLogPf()).abs().max().item<double>(),
                  (pb - reference.SumLogPb()).abs().max().item<double>()});
    identical += torch::equal(pf, reference.SumLogPf()) &&
                 torch::equal(pb, reference.SumLogPb());
  }
  std::printf(
      "stacked vs per-model: max |error| %.3g, bit-identical in %d of %zu\n",
      error, identical, c.policies.size());
  return error;
}

TEST(StackedLocalModelsTest, MatchesPerModelLogProbabilities) {
  for (const bool learned_backward : {false, true}) {
    PolicyArchitecture architecture = SmallArchitecture();
    architecture.learned_backward = learned_backward;
    StackedCase c = MakeStackedCase(architecture, 5);
    // In cache-sized groups (the default), all models at once (cap 0) and
    // one model at a time (the smallest cap): the same sums.
    for (const int64_t cap : {int64_t{1} << 17, int64_t{0}, int64_t{1}}) {
      auto stacked = StackedLocalModels::Create(c.policies, cap);
      ASSERT_TRUE(stacked.ok()) << stacked.status();
      EXPECT_LE(
          StackedError(c, stacked->Evaluate(*c.environment, c.trajectories)),
          1e-6);
    }
  }
}

TEST(StackedLocalModelsTest, WeightedTargetMatchesThePerModelPath) {
  StackedCase c = MakeStackedCase(SmallArchitecture(), 4);
  const std::vector<double> weights = {1.0, 0.5, 2.0, 1.0};
  std::vector<WeightedPolicy> locals;
  for (size_t i = 0; i < c.policies.size(); ++i) {
    locals.push_back(WeightedPolicy{c.policies[i], weights[i]});
  }
  AggregatingBalanceTarget stacked(c.environment.get(), locals);
  AggregatingBalanceTarget per_model(
      c.environment.get(), locals,
      AggregatingBalanceTarget::Evaluation::kPerModel);
  ASSERT_TRUE(stacked.stacked());
  ASSERT_FALSE(per_model.stacked());
  const torch::Tensor reference = per_model.LogTarget(c.trajectories);
  const double error = (stacked.LogTarget(c.trajectories) - reference)
                           .abs()
                           .max()
                           .item<double>();
  EXPECT_LE(error, 1e-6 * std::max(1.0, reference.abs().max().item<double>()));
}

TEST(StackedLocalModelsTest,
     ModelsOfDifferentArchitecturesAreEvaluatedOneByOne) {
  StackedCase c = MakeStackedCase(SmallArchitecture(), 2);
  PolicyArchitecture wider = SmallArchitecture();
  wider.hidden_width = 64;
  c.policies.push_back(*MakePolicy(*c.environment, wider, 3, torch::kCPU));
  EXPECT_EQ(StackedLocalModels::Create(c.policies).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<WeightedPolicy> locals;
  for (const PolicyNet& policy : c.policies) locals.push_back({policy, 1.0});
  AggregatingBalanceTarget target(c.environment.get(), locals);
  EXPECT_FALSE(target.stacked());
  torch::Tensor expected = torch::zeros({c.trajectories.batch_size()});
  for (PolicyNet& policy : c.policies) {
    expected += LogForwardOverBackward(
        ComputeTrajectoryLogProbs(policy, *c.environment, c.trajectories));
  }
  EXPECT_TRUE(torch::allclose(target.LogTarget(c.trajectories), expected));
}

}  // namespace
}  // namespace epgfn
