#include "common/env/sequence/sequence.h"

#include <torch/types.h>

#include <cmath>
#include <string>

#include "common/env/environment_registry.h"
#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// An int, so that it mixes with literals in torch::tensor initialisers.
constexpr int E = -1;
static_assert(E == SequenceEnvironment::kEmpty);

std::unique_ptr<SequenceEnvironment> MakeSequence(const std::string& params) {
  auto config = EnvironmentConfig::Parse("sequence:" + params);
  EXPECT_TRUE(config.ok());
  auto sequence = SequenceEnvironment::Create(*config);
  EXPECT_TRUE(sequence.ok()) << sequence.status();
  return std::move(sequence).value();
}

TEST(SequenceTest, StateGraphMatchesClosedForms) {
  for (auto [length, vocab] :
       {std::pair<int, int>{4, 4}, {3, 2}, {1, 5}, {5, 1}, {2, 7}}) {
    SCOPED_TRACE(testing::Message()
                 << "length=" << length << " vocab=" << vocab);
    auto sequence = MakeSequence("length=" + std::to_string(length) +
                                 ",vocab=" + std::to_string(vocab));
    StateGraphCounts counts = CheckStateGraph(*sequence);
    int64_t states = 0;
    int64_t power = 1;  // V^l
    for (int l = 0; l <= length; ++l, power *= vocab) states += power;
    EXPECT_EQ(counts.terminals, power / vocab);  // V^L
    EXPECT_EQ(counts.states, states);
    // A tree: every state but s0 has exactly one parent.
    EXPECT_EQ(counts.edges, states - 1);
  }
}

TEST(SequenceTest, ExitOnlyAtFullLengthAndNoAppendPastIt) {
  auto sequence = MakeSequence("length=3,vocab=2");
  torch::Tensor states =
      torch::tensor({{E, E, E}, {1, 0, E}, {1, 0, 1}}, torch::kInt64);
  EXPECT_TRUE(sequence->ForwardMask(states).equal(torch::tensor(
      {{true, true, false}, {true, true, false}, {false, false, true}})));
  EXPECT_TRUE(sequence->BackwardMask(states).equal(
      torch::tensor({{false}, {true}, {true}})));
}

TEST(SequenceTest, StepsAppendAndRemoveTheLastToken) {
  auto sequence = MakeSequence("length=3,vocab=4");
  EXPECT_TRUE(sequence->InitialStates(2, torch::kCPU)
                  .equal(torch::full({2, 3}, E, torch::kInt64)));
  torch::Tensor parents = torch::tensor({{3, E, E}, {E, E, E}}, torch::kInt64);
  torch::Tensor actions = torch::tensor({2, 1}, torch::kInt64);
  torch::Tensor children = sequence->Step(parents, actions);
  EXPECT_TRUE(
      children.equal(torch::tensor({{3, 2, E}, {1, E, E}}, torch::kInt64)));
  torch::Tensor backward = sequence->BackwardActionOf(children, actions);
  EXPECT_TRUE(backward.equal(torch::zeros({2}, torch::kInt64)));
  EXPECT_TRUE(sequence->BackwardStep(children, backward).equal(parents));
  EXPECT_TRUE(sequence->ForwardActionOf(children, backward).equal(actions));
}

TEST(SequenceTest, EncodesPositionsOneHotWithEmptySymbol) {
  auto sequence = MakeSequence("length=2,vocab=2");
  EXPECT_EQ(sequence->encoding_dim(), 6);
  torch::Tensor encoded =
      sequence->Encode(torch::tensor({{1, E}, {0, 1}}, torch::kInt64));
  EXPECT_TRUE(encoded.equal(torch::tensor(
      {{0.f, 1.f, 0.f, 0.f, 0.f, 1.f}, {1.f, 0.f, 0.f, 0.f, 1.f, 0.f}})));
}

TEST(SequenceTest, DescribesTokensAsLetters) {
  auto sequence = MakeSequence("length=4,vocab=4");
  EXPECT_EQ(sequence->Describe(torch::tensor({0, 2, 1, 3}, torch::kInt64)),
            "ACBD");
  EXPECT_EQ(sequence->Describe(torch::tensor({0, 2, E, E}, torch::kInt64)),
            "AC..");
  auto wide = MakeSequence("length=3,vocab=30");
  EXPECT_EQ(wide->Describe(torch::tensor({0, 29, E}, torch::kInt64)),
            "[0,29,.]");
}

TEST(SequenceTest, EnumerationRefusedWhenHuge) {
  auto sequence = MakeSequence("length=32,vocab=4");
  auto terminals = sequence->EnumerateTerminalStates();
  ASSERT_FALSE(terminals.ok());
  EXPECT_EQ(terminals.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SequenceTest, UtilityRewardSumsThePositionTable) {
  auto sequence = MakeSequence("length=4,vocab=4");
  auto reward = MakeSplitLogReward(*sequence,
                                   ParseRewardConfig("utility:seed=7,scale=2"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  torch::Tensor u = SequenceUtilities(4, 4, 7, 2.0);
  ASSERT_EQ(u.sizes(), (std::vector<int64_t>{4, 4}));
  EXPECT_TRUE(torch::isfinite(u).all().item<bool>());
  EXPECT_GT(u.abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(u, 2.0 * SequenceUtilities(4, 4, 7, 1.0)));
  auto at = [&u](int p, int v) { return u[p][v].item<double>(); };
  // "ACBD" and "DDDA".
  torch::Tensor log_r =
      (**reward)(torch::tensor({{0, 2, 1, 3}, {3, 3, 3, 0}}, torch::kInt64));
  ASSERT_EQ(log_r.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(log_r[0].item<float>(), at(0, 0) + at(1, 2) + at(2, 1) + at(3, 3),
              1e-5);
  EXPECT_NEAR(log_r[1].item<float>(), at(0, 3) + at(1, 3) + at(2, 3) + at(3, 0),
              1e-5);
  // Deterministic in the seed, and the seed matters.
  EXPECT_TRUE(SequenceUtilities(4, 4, 7, 2.0).equal(u));
  EXPECT_FALSE(SequenceUtilities(4, 4, 8, 2.0).equal(u));
}

TEST(SequenceTest, ClientRewardsDifferByIndexAndRepeatForASeed) {
  auto sequence = MakeSequence("length=3,vocab=3");
  ExpectClientRewardsDifferByIndexAndRepeatForASeed(*sequence);
  // Hand-computed from the client's table.
  torch::Tensor u = SequenceClientUtilities(3, 3, 11, 2, 1.0);
  EXPECT_FALSE(u.equal(SequenceUtilities(3, 3, 11, 1.0)));
  auto reward = MakeSplitLogReward(
      *sequence, ParseRewardConfig("client:index=2,count=3,seed=11"));
  ASSERT_TRUE(reward.ok());
  torch::Tensor log_r = (**reward)(torch::tensor({{2, 0, 1}}, torch::kInt64));
  EXPECT_NEAR(
      log_r[0].item<float>(),
      u[0][2].item<double>() + u[1][0].item<double>() + u[2][1].item<double>(),
      1e-5);
}

TEST(SequenceTest, RegisteredWithCanonicalConfig) {
  ExpectCanonicalRegistration("sequence", "sequence:vocab=4,length=4",
                              "sequence:length=4,vocab=4");
}

void ExpectEnvironmentRefused(const std::string& text,
                              const std::string& name) {
  ExpectRefusedNaming(
      SequenceEnvironment::Create(*EnvironmentConfig::Parse(text)).status(),
      text, name);
}

TEST(SequenceTest, BadParametersAreRefusedWithTheirName) {
  ExpectEnvironmentRefused("sequence:length=0", "length");
  ExpectEnvironmentRefused("sequence:length=4,vocab=0", "vocab");
  ExpectEnvironmentRefused("sequence:vocab=x", "vocab");
  ExpectEnvironmentRefused("sequence:len=4", "len");
  ExpectUtilityRewardsRefuseBadParameters(*MakeSequence("length=4,vocab=4"));
}

}  // namespace
}  // namespace epgfn
