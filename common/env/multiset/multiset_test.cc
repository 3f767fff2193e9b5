#include "common/env/multiset/multiset.h"

#include <torch/types.h>

#include <cmath>
#include <string>

#include "common/env/environment_registry.h"
#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::unique_ptr<MultisetEnvironment> MakeMultiset(const std::string& params) {
  auto config = EnvironmentConfig::Parse("multiset:" + params);
  EXPECT_TRUE(config.ok());
  auto multiset = MultisetEnvironment::Create(*config);
  EXPECT_TRUE(multiset.ok()) << multiset.status();
  return std::move(multiset).value();
}

int64_t Binomial(int64_t n, int64_t k) {
  int64_t result = 1;
  for (int64_t j = 1; j <= k; ++j) result = result * (n - k + j) / j;
  return result;
}

TEST(MultisetTest, StateGraphMatchesClosedForms) {
  for (auto [items, size] :
       {std::pair<int, int>{5, 4}, {3, 3}, {1, 2}, {4, 1}, {2, 6}}) {
    SCOPED_TRACE(testing::Message() << "items=" << items << " size=" << size);
    auto multiset = MakeMultiset("items=" + std::to_string(items) +
                                 ",size=" + std::to_string(size));
    StateGraphCounts counts = CheckStateGraph(*multiset);
    int64_t states = 0;
    int64_t inner = 0;  // states below full size, each with `items` children
    for (int s = 0; s <= size; ++s) {
      states += Binomial(items + s - 1, s);
      if (s < size) inner += Binomial(items + s - 1, s);
    }
    EXPECT_EQ(counts.terminals, Binomial(items + size - 1, size));
    EXPECT_EQ(counts.states, states);
    EXPECT_EQ(counts.edges, items * inner);
  }
}

TEST(MultisetTest, ExitOnlyAtFullSizeAndNoAddPastIt) {
  auto multiset = MakeMultiset("items=3,size=2");
  torch::Tensor states = torch::tensor(
      {{0, 0, 0}, {0, 1, 0}, {1, 0, 1}, {0, 0, 2}}, torch::kInt64);
  EXPECT_TRUE(multiset->ForwardMask(states).equal(
      torch::tensor({{true, true, true, false},
                     {true, true, true, false},
                     {false, false, false, true},
                     {false, false, false, true}})));
  EXPECT_TRUE(multiset->BackwardMask(states).equal(
      torch::tensor({{false, false, false},
                     {false, true, false},
                     {true, false, true},
                     {false, false, true}})));
}

TEST(MultisetTest, EncodesCountsOneHot) {
  auto multiset = MakeMultiset("items=2,size=2");
  EXPECT_EQ(multiset->encoding_dim(), 6);
  torch::Tensor encoded =
      multiset->Encode(torch::tensor({{2, 0}, {1, 1}}, torch::kInt64));
  EXPECT_TRUE(encoded.equal(torch::tensor(
      {{0.f, 0.f, 1.f, 1.f, 0.f, 0.f}, {0.f, 1.f, 0.f, 0.f, 1.f, 0.f}})));
}

TEST(MultisetTest, DescribesItemsWithMultiplicity) {
  auto multiset = MakeMultiset("items=5,size=4");
  EXPECT_EQ(multiset->Describe(torch::tensor({2, 0, 1, 0, 1}, torch::kInt64)),
            "{0,0,2,4}");
  EXPECT_EQ(multiset->Describe(torch::zeros({5}, torch::kInt64)), "{}");
}

TEST(MultisetTest, EnumerationRefusedWhenHuge) {
  auto multiset = MakeMultiset("items=1024,size=256");
  auto terminals = multiset->EnumerateTerminalStates();
  ASSERT_FALSE(terminals.ok());
  EXPECT_EQ(terminals.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(MultisetTest, UtilityRewardIsTheWeightedCount) {
  auto multiset = MakeMultiset("items=5,size=4");
  auto reward = MakeSplitLogReward(*multiset,
                                   ParseRewardConfig("utility:seed=7,scale=2"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  torch::Tensor u = MultisetUtilities(5, 7, 2.0);
  ASSERT_EQ(u.numel(), 5);
  EXPECT_TRUE(torch::isfinite(u).all().item<bool>());
  EXPECT_GT(u.abs().sum().item<double>(), 0.0);
  // Scale multiplies a fixed standard-normal draw.
  EXPECT_TRUE(torch::allclose(u, 2.0 * MultisetUtilities(5, 7, 1.0)));
  const double u0 = u[0].item<double>();
  const double u2 = u[2].item<double>();
  const double u4 = u[4].item<double>();
  torch::Tensor log_r = (**reward)(
      torch::tensor({{2, 0, 1, 0, 1}, {0, 0, 0, 0, 4}}, torch::kInt64));
  ASSERT_EQ(log_r.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(log_r[0].item<float>(), 2 * u0 + u2 + u4, 1e-5);
  EXPECT_NEAR(log_r[1].item<float>(), 4 * u4, 1e-5);
  // Deterministic in the seed, and the seed matters.
  EXPECT_TRUE(MultisetUtilities(5, 7, 2.0).equal(u));
  EXPECT_FALSE(MultisetUtilities(5, 8, 2.0).equal(u));
}

TEST(MultisetTest, ClientRewardsDifferByIndexAndRepeatForASeed) {
  auto multiset = MakeMultiset("items=5,size=4");
  ExpectClientRewardsDifferByIndexAndRepeatForASeed(*multiset);
  // Hand-computed from the client's utilities.
  torch::Tensor u = MultisetClientUtilities(5, 11, 1, 1.0);
  EXPECT_FALSE(u.equal(MultisetUtilities(5, 11, 1.0)));
  auto reward = MakeSplitLogReward(
      *multiset, ParseRewardConfig("client:index=1,count=3,seed=11"));
  ASSERT_TRUE(reward.ok());
  torch::Tensor log_r =
      (**reward)(torch::tensor({{0, 3, 0, 1, 0}}, torch::kInt64));
  EXPECT_NEAR(log_r[0].item<float>(),
              3 * u[1].item<double>() + u[3].item<double>(), 1e-5);
}

TEST(MultisetTest, RegisteredWithCanonicalConfig) {
  ExpectCanonicalRegistration("multiset", "multiset:size=4,items=5",
                              "multiset:items=5,size=4");
}

void ExpectEnvironmentRefused(const std::string& text,
                              const std::string& name) {
  ExpectRefusedNaming(
      MultisetEnvironment::Create(*EnvironmentConfig::Parse(text)).status(),
      text, name);
}

TEST(MultisetTest, BadParametersAreRefusedWithTheirName) {
  ExpectEnvironmentRefused("multiset:items=0", "items");
  ExpectEnvironmentRefused("multiset:items=5,size=0", "size");
  ExpectEnvironmentRefused("multiset:size=four", "size");
  ExpectEnvironmentRefused("multiset:item=5", "item");
  ExpectUtilityRewardsRefuseBadParameters(*MakeMultiset("items=5,size=4"));
}

}  // namespace
}  // namespace epgfn
