// Weighted products and model reuse (EP-GFlowNets, multi-objective use): the
// same trained local models, aggregated with exponents w_i, sample in
// proportion to prod_i R_i^{w_i}; compared exactly with that normalised
// product of the client rewards.
#include <torch/types.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/aggregate/aggregator.h"
#include "common/aggregate/federation_testing.h"
#include "common/eval/exact_distribution.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// The exact normalised prod_i R_i^{w_i} over the enumerated objects.
TerminalDistribution WeightedRewardProduct(
    const SimulatedFederation& federation, const std::vector<double>& weights) {
  at::Tensor states = *federation.environment->EnumerateTerminalStates();
  at::Tensor log_product = torch::zeros({states.size(0)}, torch::kFloat64);
  for (size_t i = 0; i < weights.size(); ++i) {
    log_product += weights[i] * federation.rewards[i]->LogRewardFloat64(states);
  }
  return TerminalDistribution{states, torch::softmax(log_product, 0)};
}

std::vector<LocalModel> Weighted(const SimulatedFederation& federation,
                                 const std::vector<double>& weights) {
  std::vector<LocalModel> locals = federation.locals;
  for (size_t i = 0; i < weights.size(); ++i) locals[i].weight = weights[i];
  return locals;
}

// Reuses one federation's local models for every preference vector.
void ExpectWeightedAggregatesReachTheirTargets(const std::string& environment,
                                               const std::string& params) {
  SimulatedFederation federation = MakeFederation(environment, params, 3, 1000);
  for (const std::vector<double>& weights :
       std::vector<std::vector<double>>{{1.0, 0.5, 2.0}, {1.0, 0.0, 1.0}}) {
    const TerminalDistribution target =
        WeightedRewardProduct(federation, weights);
    const double tv = AggregateAndMeasure(
        *federation.environment, Weighted(federation, weights), target, 1000);
    std::printf("%s w=(%g, %g, %g): TV to exact prod R_i^w_i %.4f\n",
                environment.c_str(), weights[0], weights[1], weights[2], tv);
    EXPECT_LE(tv, 0.05) << environment;
  }
}

TEST(WeightedAggregateTest, HypergridWeightsAndSubsets) {
  ExpectWeightedAggregatesReachTheirTargets("hypergrid:dim=2,side=8", "");
}

TEST(WeightedAggregateTest, MultisetWeightsAndSubsets) {
  ExpectWeightedAggregatesReachTheirTargets("multiset:items=5,size=4",
                                            ",seed=3");
}

TEST(WeightedAggregateTest, SequenceWeightsAndSubsets) {
  ExpectWeightedAggregatesReachTheirTargets("sequence:length=4,vocab=4",
                                            ",seed=5");
}

class WeightRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    federation_ = MakeFederation("hypergrid:dim=2,side=8", "", 2, 1);
  }
  absl::Status CreateWith(const std::vector<double>& weights) {
    return Aggregator::Create(federation_.environment.get(),
                              Weighted(federation_, weights),
                              TestAggregationOptions(4))
        .status();
  }
  SimulatedFederation federation_;
};

TEST_F(WeightRefusalTest, RefusesNegativeNonFiniteAndAllZeroWeights) {
  EXPECT_TRUE(CreateWith({1.0, 0.0}).ok());
  for (const std::vector<double>& bad : std::vector<std::vector<double>>{
           {1.0, -0.5}, {1.0, std::nan("")}, {INFINITY, 1.0}, {0.0, 0.0}}) {
    const absl::Status status = CreateWith(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << bad[0] << ", " << bad[1] << ": " << status;
  }
  EXPECT_NE(CreateWith({1.0, -0.5}).message().find("client-1"),
            std::string::npos);
}

TEST_F(WeightRefusalTest, ACheckpointDoesNotResumeUnderOtherWeights) {
  auto first = Aggregator::Create(federation_.environment.get(),
                                  Weighted(federation_, {1.0, 0.5}),
                                  TestAggregationOptions(4));
  ASSERT_TRUE(first.ok());
  const auto checkpoint = (*first)->Checkpoint();
  EXPECT_EQ(checkpoint.client_weights_size(), 2);
  auto other = Aggregator::Create(federation_.environment.get(),
                                  Weighted(federation_, {1.0, 2.0}),
                                  TestAggregationOptions(4));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->Restore(checkpoint).code(),
            absl::StatusCode::kFailedPrecondition);
  // The plain product records no weights, as before exponents existed.
  auto plain =
      Aggregator::Create(federation_.environment.get(), federation_.locals,
                         TestAggregationOptions(4));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->Checkpoint().client_weights_size(), 0);
}

}  // namespace
}  // namespace epgfn
