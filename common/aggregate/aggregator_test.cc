// Aggregation trained for real: N local GFlowNets, each on its own client
// reward, are combined without evaluating any reward, and the global model is
// compared exactly with the normalised product of the client rewards.
#include "common/aggregate/aggregator.h"

#include <cstdio>

#include "common/aggregate/federation_testing.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
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

}  // namespace
}  // namespace epgfn
