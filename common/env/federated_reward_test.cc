#include "common/env/federated_reward.h"

#include <torch/types.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

// log f(x) = weight * x[0], in double.
class LinearReward : public LogReward {
 public:
  explicit LinearReward(double weight) : weight_(weight) {}
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    return states.select(1, 0).to(torch::kFloat64) * weight_;
  }
  std::string Describe() const override { return "linear"; }

 private:
  double weight_;
};

RewardParts Parts(double prior_weight, double likelihood_weight) {
  RewardParts parts;
  parts.log_prior = std::make_unique<LinearReward>(prior_weight);
  parts.log_likelihood = std::make_unique<LinearReward>(likelihood_weight);
  return parts;
}

TEST(FederatedRewardTest, DividesThePriorByTheClientsAndAllByTheTemperature) {
  auto reward = ComposeFederatedReward(Parts(-8.0, 3.0), RewardContext{4}, 2.0);
  ASSERT_TRUE(reward.ok()) << reward.status();
  at::Tensor states = torch::tensor({{1}, {5}}, torch::kInt64);
  at::Tensor exact = (*reward)->LogRewardFloat64(states);
  ASSERT_EQ(exact.scalar_type(), torch::kFloat64);
  // (-8 x / 4 + 3 x) / 2 = x / 2.
  EXPECT_DOUBLE_EQ(exact[0].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(exact[1].item<double>(), 2.5);
  at::Tensor training = (**reward)(states);
  EXPECT_EQ(training.scalar_type(), torch::kFloat32);
  EXPECT_FLOAT_EQ(training[1].item<float>(), 2.5f);
}

TEST(FederatedRewardTest, TheProductOverClientsCountsThePriorOnce) {
  const int64_t clients = 3;
  at::Tensor states = torch::tensor({{2}, {7}}, torch::kInt64);
  at::Tensor product = torch::zeros({2}, torch::kFloat64);
  for (int64_t i = 0; i < clients; ++i) {
    auto reward = ComposeFederatedReward(Parts(-6.0, 1.0 + i),
                                         RewardContext{clients}, 1.0);
    ASSERT_TRUE(reward.ok());
    product += (*reward)->LogRewardFloat64(states);
  }
  // -6 x (the prior once) + (1 + 2 + 3) x.
  EXPECT_DOUBLE_EQ(product[0].item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(product[1].item<double>(), 0.0);
}

TEST(FederatedRewardTest, ANullPriorLeavesTheLikelihood) {
  RewardParts parts;
  parts.log_likelihood = std::make_unique<LinearReward>(2.0);
  auto reward = ComposeFederatedReward(std::move(parts), RewardContext{5}, 1.0);
  ASSERT_TRUE(reward.ok());
  EXPECT_DOUBLE_EQ(
      (*reward)
          ->LogRewardFloat64(torch::tensor({{3}}, torch::kInt64))[0]
          .item<double>(),
      6.0);
}

TEST(FederatedRewardTest, RefusesMissingLikelihoodAndBadFederations) {
  EXPECT_FALSE(
      ComposeFederatedReward(RewardParts{}, RewardContext{1}, 1.0).ok());
  EXPECT_FALSE(ComposeFederatedReward(Parts(1, 1), RewardContext{0}, 1.0).ok());
  EXPECT_FALSE(ComposeFederatedReward(Parts(1, 1), RewardContext{1}, 0.0).ok());
}

TEST(FederatedRewardTest, ReadsTemperatureAndStripsItForTheEnvironment) {
  auto config = RewardConfig::Parse("jc69:alignment=a.nex,temperature=20");
  ASSERT_TRUE(config.ok());
  auto params = ReadFederatedRewardParams(*config, RewardContext{4});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_DOUBLE_EQ(params->temperature, 20.0);
  EXPECT_EQ(params->environment_config.ToString(), "jc69:alignment=a.nex");
  EXPECT_FALSE(ReadFederatedRewardParams(
                   *RewardConfig::Parse("jc69:temperature=0"), RewardContext{1})
                   .ok());
}

TEST(FederatedRewardTest, ASharedFileSplitMustMatchTheFederation) {
  auto config = RewardConfig::Parse("client:index=1,count=3");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(ReadFederatedRewardParams(*config, RewardContext{3}).ok());
  auto mismatch = ReadFederatedRewardParams(*config, RewardContext{4});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("4 clients"), std::string::npos)
      << mismatch.status();
}

}  // namespace
}  // namespace epgfn
