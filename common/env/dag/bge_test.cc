#include "common/env/dag/bge.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/env/dag/bge_statistics.h"
#include "common/env/dag/dag.h"
#include "common/env/dag/data.h"
#include "common/env/environment_registry.h"
#include "common/util/file_io.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::unique_ptr<DagEnvironment> MakeDag(int nodes) {
  auto dag = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=" + std::to_string(nodes)));
  EXPECT_TRUE(dag.ok()) << dag.status();
  return std::move(dag).value();
}

// The composed reward (the registry divides the prior by the federation's
// size, here `count`, and applies any temperature).
std::unique_ptr<LogReward> MakeReward(const DagEnvironment& dag,
                                      const std::string& text) {
  auto config = RewardConfig::Parse(text);
  EXPECT_TRUE(config.ok()) << config.status();
  auto reward = MakeSplitLogReward(dag, *config);
  EXPECT_TRUE(reward.ok()) << text << ": " << reward.status();
  return std::move(reward).value();
}

// Row-major adjacency from an edge list.
std::vector<int64_t> Graph(int d, std::vector<std::pair<int, int>> edges) {
  std::vector<int64_t> adjacency(d * d, 0);
  for (auto [i, j] : edges) adjacency[i * d + j] = 1;
  return adjacency;
}

Dataset Synthetic(int d, int rows, int seed) {
  return SampleLinearGaussianNetwork(d, 0.6, rows, seed).value().data;
}

// log p(D^Y) for a 2-node dataset written out from Kuipers et al. (2014)
// directly, with the multivariate gamma expanded by hand:
// Gamma_1(x) = Gamma(x), Gamma_2(x) = sqrt(pi) Gamma(x) Gamma(x - 1/2).
struct TwoNodeMarginals {
  double x0, x1, both;
};

TwoNodeMarginals HandComputed(const std::vector<double>& a,
                              const std::vector<double>& b) {
  const double n = a.size();
  const double d = 2, am = 1, aw = d + 2;
  const double t = am * (aw - d - 1) / (am + 1);  // = 0.5
  double ma = 0, mb = 0;
  for (size_t r = 0; r < a.size(); ++r) ma += a[r] / n, mb += b[r] / n;
  double saa = 0, sab = 0, sbb = 0;
  for (size_t r = 0; r < a.size(); ++r) {
    saa += (a[r] - ma) * (a[r] - ma);
    sab += (a[r] - ma) * (b[r] - mb);
    sbb += (b[r] - mb) * (b[r] - mb);
  }
  const double k = n * am / (n + am);
  const double raa = t + saa + k * ma * ma;
  const double rab = sab + k * ma * mb;
  const double rbb = t + sbb + k * mb * mb;
  const double pi = std::acos(-1.0);
  auto one = [&](double r) {  // |Y| = 1
    return 0.5 * std::log(am / (n + am)) + std::lgamma((n + aw - d + 1) / 2) -
           std::lgamma((aw - d + 1) / 2) - 0.5 * n * std::log(pi) +
           0.5 * (aw - d + 1) * std::log(t) -
           0.5 * (n + aw - d + 1) * std::log(r);
  };
  auto gamma2 = [&](double x) {
    return 0.5 * std::log(pi) + std::lgamma(x) + std::lgamma(x - 0.5);
  };
  const double both = std::log(am / (n + am)) + gamma2((n + aw) / 2) -
                      gamma2(aw / 2) - n * std::log(pi) +
                      0.5 * aw * std::log(t * t) -
                      0.5 * (n + aw) * std::log(raa * rbb - rab * rab);
  return {one(raa), one(rbb), both};
}

TEST(BGeTest, MatchesHandComputedTwoNodeValues) {
  const std::vector<double> a = {1.0, -0.5, 2.0, 0.2, -1.3, 0.7};
  const std::vector<double> b = {2.0, 0.3, 1.5, -1.0, -0.4, 1.1};
  Dataset data;
  data.names = {"a", "b"};
  data.rows = a.size();
  for (size_t r = 0; r < a.size(); ++r) {
    data.values.push_back(a[r]);
    data.values.push_back(b[r]);
  }
  auto score = BGeScore::Create(data, 1.0, 0.0);
  ASSERT_TRUE(score.ok()) << score.status();
  EXPECT_EQ(score->alpha_w(), 4.0);
  const TwoNodeMarginals expected = HandComputed(a, b);
  // Empty graph: p(D^{0}) p(D^{1}); either edge: p(D^{0,1}).
  EXPECT_NEAR(score->LogScore(Graph(2, {})), expected.x0 + expected.x1, 1e-9);
  EXPECT_NEAR(score->LogScore(Graph(2, {{0, 1}})), expected.both, 1e-9);
  EXPECT_NEAR(score->LogScore(Graph(2, {{1, 0}})), expected.both, 1e-9);
  EXPECT_NEAR(score->LocalScore(1, 0b01), expected.both - expected.x0, 1e-9);
  // And through the reward, on states (float32).
  auto dag = MakeDag(2);
  // The reward draws its own data; check the table route with a CSV instead.
  const std::string dir =
      std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
  const std::string path = dir + "/two_nodes.csv";
  std::string csv = "a,b\n";
  for (size_t r = 0; r < a.size(); ++r) {
    csv += std::to_string(a[r]) + "," + std::to_string(b[r]) + "\n";
  }
  ASSERT_TRUE(WriteFileAtomically(path, csv).ok());
  auto reward = MakeReward(*dag, "bge:data=" + path);
  torch::Tensor states = dag->StatesFromAdjacency(
      torch::tensor({{0, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, torch::kInt64));
  torch::Tensor log_r = (*reward)(states);
  ASSERT_EQ(log_r.scalar_type(), torch::kFloat32);
  EXPECT_NEAR(log_r[0].item<double>(), expected.x0 + expected.x1, 1e-4);
  EXPECT_NEAR(log_r[1].item<double>(), expected.both, 1e-4);
  EXPECT_NEAR(log_r[2].item<double>(), expected.both, 1e-4);
}

void ExpectSameScore(double x, double y) {
  EXPECT_NEAR(x, y, 1e-6 * std::abs(x)) << x << " vs " << y;
}

TEST(BGeTest, MarkovEquivalentGraphsScoreTheSame) {
  for (int seed : {1, 2, 3}) {
    auto score = BGeScore::Create(Synthetic(3, 50, seed), 1.0, 0.0);
    ASSERT_TRUE(score.ok());
    ExpectSameScore(score->LogScore(Graph(3, {{0, 1}})),
                    score->LogScore(Graph(3, {{1, 0}})));
    const double chain = score->LogScore(Graph(3, {{0, 1}, {1, 2}}));
    ExpectSameScore(chain, score->LogScore(Graph(3, {{2, 1}, {1, 0}})));
    ExpectSameScore(chain, score->LogScore(Graph(3, {{1, 0}, {1, 2}})));
    // The v-structure 0 -> 1 <- 2 is its own class.
    const double collider = score->LogScore(Graph(3, {{0, 1}, {2, 1}}));
    EXPECT_GT(std::abs(collider - chain), 1e-3 * std::abs(chain));
    // All 6 orderings of the complete graph are equivalent.
    ExpectSameScore(score->LogScore(Graph(3, {{0, 1}, {0, 2}, {1, 2}})),
                    score->LogScore(Graph(3, {{2, 1}, {2, 0}, {1, 0}})));
  }
}

TEST(BGeTest, RecoversTheGeneratingClassFromManyRows) {
  auto network = SampleLinearGaussianNetwork(3, 0.6, 5000, 4);
  ASSERT_TRUE(network.ok());
  auto score = BGeScore::Create(network->data, 1.0, 0.0);
  ASSERT_TRUE(score.ok());
  auto dag = MakeDag(3);
  torch::Tensor all = *dag->EnumerateTerminalStates();
  double best = -INFINITY;
  for (int64_t k = 0; k < all.size(0); ++k) {
    torch::Tensor row = all[k].narrow(0, 0, 9).contiguous();
    std::vector<int64_t> adjacency(row.data_ptr<int64_t>(),
                                   row.data_ptr<int64_t>() + 9);
    best = std::max(best, score->LogScore(adjacency));
  }
  ExpectSameScore(score->LogScore(network->adjacency), best);
}

TEST(BGeTest, RewardIsTheTableScoreWithPriorAndTemperature) {
  auto dag = MakeDag(4);
  torch::Tensor states = *dag->EnumerateTerminalStates();
  ASSERT_EQ(states.size(0), 543);
  const std::string base = "bge:synthetic=1,samples=80,data_seed=3";
  torch::Tensor plain = (*MakeReward(*dag, base))(states);
  auto score = BGeScore::Create(
      SampleLinearGaussianNetwork(4, 0.5, 80, 3)->data, 1.0, 0.0);
  ASSERT_TRUE(score.ok());
  torch::Tensor edges = states.narrow(1, 0, 16).sum(1).to(torch::kFloat64);
  for (int64_t k = 0; k < states.size(0); ++k) {
    torch::Tensor row = states[k].narrow(0, 0, 16).contiguous();
    std::vector<int64_t> adjacency(row.data_ptr<int64_t>(),
                                   row.data_ptr<int64_t>() + 16);
    const double expected = score->LogScore(adjacency);
    ASSERT_NEAR(plain[k].item<double>(), expected, 1e-6 * std::abs(expected))
        << dag->Describe(states[k]);
  }
  torch::Tensor penalised =
      (*MakeReward(*dag, base + ",prior=edges,edge_penalty=2"))(states);
  EXPECT_TRUE(torch::allclose(penalised.to(torch::kFloat64),
                              plain.to(torch::kFloat64) - 2.0 * edges, 0,
                              1e-3));
  torch::Tensor tempered = (*MakeReward(*dag, base + ",temperature=4"))(states);
  EXPECT_TRUE(torch::allclose(tempered, plain / 4, 1e-5, 1e-4));
  // Hyper-parameters matter.
  torch::Tensor other =
      (*MakeReward(*dag, base + ",alpha_mu=3,alpha_w=9"))(states);
  EXPECT_FALSE(torch::allclose(other, plain));
}

TEST(BGeTest, ClientRewardsUseTheirRowsAndShareThePrior) {
  auto dag = MakeDag(3);
  torch::Tensor states = *dag->EnumerateTerminalStates();
  const std::string base = "bge:synthetic=1,samples=60,data_seed=5,count=3";
  Dataset data = SampleLinearGaussianNetwork(3, 0.5, 60, 5)->data;
  for (int index = 0; index < 3; ++index) {
    const std::string text = base + ",index=" + std::to_string(index);
    torch::Tensor log_r = (*MakeReward(*dag, text))(states);
    std::vector<int64_t> rows;
    for (int r = index * 20; r < (index + 1) * 20; ++r) rows.push_back(r);
    auto score = BGeScore::Create(data.Subset(rows), 1.0, 0.0);
    ASSERT_TRUE(score.ok());
    // The single edge 0 -> 1 (row-major index 1).
    torch::Tensor one_edge = dag->StatesFromAdjacency(
        torch::tensor({{0, 1, 0, 0, 0, 0, 0, 0, 0}}, torch::kInt64));
    const double expected = score->LogScore(Graph(3, {{0, 1}}));
    EXPECT_NEAR((*MakeReward(*dag, text))(one_edge)[0].item<double>(), expected,
                1e-6 * std::abs(expected));
    // Each client carries prior^(1/3).
    torch::Tensor penalised =
        (*MakeReward(*dag, text + ",prior=edges,edge_penalty=3"))(states);
    torch::Tensor edges = states.narrow(1, 0, 9).sum(1).to(torch::kFloat32);
    EXPECT_TRUE(torch::allclose(penalised, log_r - edges, 0, 1e-3));
  }
  // A random split differs from the contiguous one.
  EXPECT_FALSE(torch::allclose(
      (*MakeReward(*dag, base + ",index=0"))(states),
      (*MakeReward(*dag, base + ",index=0,split=random,seed=1"))(states)));
}

// BGe integrates the parameters out, so prod_i p(D_i | G) is not p(D | G):
// the product of the client posteriors is a different (but perfectly valid)
// distribution over DAGs from the full-data posterior. Federated training
// targets the product; this test documents that the two are not the same.
TEST(BGeTest, ProductOfClientPosteriorsIsNotTheFullDataPosterior) {
  auto dag = MakeDag(3);
  torch::Tensor states = *dag->EnumerateTerminalStates();
  const std::string base = "bge:synthetic=1,samples=60,data_seed=5";
  torch::Tensor product = torch::zeros({states.size(0)}, torch::kFloat64);
  for (int index = 0; index < 3; ++index) {
    product += (*MakeReward(
        *dag, base + ",count=3,index=" + std::to_string(index)))(states)
                   .to(torch::kFloat64);
  }
  torch::Tensor full = (*MakeReward(*dag, base))(states).to(torch::kFloat64);
  torch::Tensor p = torch::softmax(product, 0);
  torch::Tensor q = torch::softmax(full, 0);
  for (const torch::Tensor& dist : {p, q}) {
    EXPECT_TRUE(torch::isfinite(dist).all().item<bool>());
    EXPECT_TRUE((dist >= 0).all().item<bool>());
    EXPECT_NEAR(dist.sum().item<double>(), 1.0, 1e-9);
  }
  const double tv = 0.5 * (p - q).abs().sum().item<double>();
  std::printf(
      "TV(product of 3 client posteriors, full-data posterior) = %.4f\n", tv);
  EXPECT_GT(tv, 0.01);
}

void ExpectRewardRefused(const std::string& text, const std::string& name) {
  auto dag = MakeDag(3);
  auto reward = MakeSplitLogReward(*dag, *RewardConfig::Parse(text));
  ASSERT_FALSE(reward.ok()) << text;
  EXPECT_EQ(reward.status().code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_NE(reward.status().message().find(name), std::string::npos)
      << reward.status();
}

TEST(BGeTest, BadRewardParametersAreRefusedWithTheirName) {
  ExpectRewardRefused("bge", "data");
  ExpectRewardRefused("bge:synthetic=1,data=/tmp/x.csv", "data");
  ExpectRewardRefused("bge:samples=10", "samples");
  ExpectRewardRefused("bge:synthetic=2", "synthetic");
  ExpectRewardRefused("bge:synthetic=1,alpha_w=3.5", "alpha_w");
  ExpectRewardRefused("bge:synthetic=1,alpha_mu=0", "alpha_mu");
  ExpectRewardRefused("bge:synthetic=1,prior=flat", "flat");
  ExpectRewardRefused("bge:synthetic=1,edge_penalty=2", "edge_penalty");
  ExpectRewardRefused("bge:synthetic=1,count=3,index=3", "index");
  ExpectRewardRefused("bge:synthetic=1,count=3,split=striped", "striped");
  ExpectRewardRefused("bge:synthetic=1,samples=2,count=3", "clients");
  ExpectRewardRefused("bge:synthetic=1,temprature=2", "temprature");
  ExpectRewardRefused("standard", "standard");
  auto dag = MakeDag(3);
  auto missing = MakeSplitLogReward(
      *dag, *RewardConfig::Parse("bge:data=/nonexistent/epgfn.csv"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  // Columns must match the nodes.
  const std::string dir =
      std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
  ASSERT_TRUE(WriteFileAtomically(dir + "/two.csv", "a,b\n1,2\n3,5\n").ok());
  ExpectRewardRefused("bge:data=" + dir + "/two.csv", "columns");
}

TEST(BGeTest, RegisteredAndDescribed) {
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse("dag:nodes=3"));
  ASSERT_TRUE(environment.ok()) << environment.status();
  auto reward = MakeSplitLogReward(
      **environment,
      *RewardConfig::Parse("bge:synthetic=1,samples=30,count=2,index=1"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  EXPECT_NE((*reward)->Describe().find("share 1 of 2"), std::string::npos)
      << (*reward)->Describe();
  EXPECT_NE((*reward)->Describe().find("15 of 30 rows"), std::string::npos)
      << (*reward)->Describe();
}

// With a maximum in-degree only the parent sets within it are tabulated, and
// they hold exactly the unlimited table's values; larger sets are -inf.
TEST(BGeTest, MaxParentsKeepsTheSameLocalScoresForSmallSets) {
  const Dataset data = Synthetic(6, 40, 7);
  auto full = BGeScore::Create(data, 1.0, 0.0);
  auto bounded = BGeScore::Create(data, 1.0, 0.0, 2);
  ASSERT_TRUE(full.ok() && bounded.ok());
  EXPECT_EQ(full->max_parents(), 5);
  EXPECT_EQ(bounded->max_parents(), 2);
  EXPECT_EQ(bounded->num_parent_sets(), 1 + 6 + 15);
  EXPECT_EQ(full->num_parent_sets(), 64 - 1);  // sets of at most 5 of 6
  int64_t checked = 0;
  for (int64_t node = 0; node < 6; ++node) {
    for (uint64_t parents = 0; parents < 64; ++parents) {
      if (parents >> node & 1) continue;
      if (__builtin_popcountll(parents) <= 2) {
        ASSERT_EQ(bounded->LocalScore(node, parents),
                  full->LocalScore(node, parents));
        ++checked;
      } else {
        EXPECT_EQ(bounded->LocalScore(node, parents), -INFINITY);
      }
    }
  }
  EXPECT_EQ(checked, 6 * (1 + 5 + 10));
  // The rank is the position in the table: by size, then by mask.
  EXPECT_EQ(bounded->ParentSetIndex(0), 0);
  EXPECT_EQ(bounded->ParentSetIndex(0b1), 1);
  EXPECT_EQ(bounded->ParentSetIndex(0b100000), 6);
  EXPECT_EQ(bounded->ParentSetIndex(0b11), 7);
  EXPECT_EQ(bounded->ParentSetIndex(0b110000), 21);
  // The by-mask layout holds the same values.
  const std::vector<double> by_mask = bounded->local_scores();
  ASSERT_EQ(by_mask.size(), 6u * 64u);
  EXPECT_EQ(by_mask[3 * 64 + 0b100101], bounded->LocalScore(3, 0b100101));
  EXPECT_EQ(by_mask[3 * 64 + 0b000101], full->LocalScore(3, 0b000101));
  // Three parents of node 0 are outside the model.
  EXPECT_EQ(bounded->LogScore(Graph(6, {{1, 0}, {2, 0}, {3, 0}})), -INFINITY);
}

// The reward gathers from that table: on random DAGs of 9 nodes with at most
// 3 parents it equals LogScore, and LogRewardFloat64 is the double sum.
TEST(BGeTest, BoundedRewardIsTheTableScoreInDouble) {
  auto dag = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=9,max_parents=3"));
  ASSERT_TRUE(dag.ok()) << dag.status();
  // 3,000 rows put log-likelihoods in the thousands, where float32 rounds.
  auto reward = MakeDagReward(
      **dag, *RewardConfig::Parse("bge:synthetic=1,samples=3000,data_seed=4"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  auto score = BGeScore::Create(
      SampleLinearGaussianNetwork(9, 0.5, 3000, 4)->data, 1.0, 0.0, 3);
  ASSERT_TRUE(score.ok());
  // Random DAGs: walk forward from s0 with random allowed actions.
  torch::manual_seed(3);
  torch::Tensor states = (*dag)->InitialStates(64, torch::kCPU);
  for (int step = 0; step < 20; ++step) {
    torch::Tensor mask = (*dag)->ForwardMask(states).narrow(1, 0, 81);
    torch::Tensor weights = mask.to(torch::kFloat64) + 1e-12;
    torch::Tensor actions = torch::multinomial(weights, 1).squeeze(1);
    torch::Tensor can = mask.any(1);
    torch::Tensor stepped = (*dag)->Step(states, actions);
    states = torch::where(can.unsqueeze(1), stepped, states);
  }
  torch::Tensor exact = reward->log_likelihood->LogRewardFloat64(states);
  ASSERT_EQ(exact.scalar_type(), torch::kFloat64);
  torch::Tensor rounded = (*reward->log_likelihood)(states);
  ASSERT_EQ(rounded.scalar_type(), torch::kFloat32);
  double worst_float32 = 0;
  for (int64_t b = 0; b < states.size(0); ++b) {
    torch::Tensor row = states[b].narrow(0, 0, 81).contiguous();
    const std::vector<int64_t> adjacency(row.data_ptr<int64_t>(),
                                         row.data_ptr<int64_t>() + 81);
    const double expected = score->LogScore(adjacency);
    ASSERT_LT(expected, -1000.0);
    ASSERT_NEAR(exact[b].item<double>(), expected, 1e-9 * std::abs(expected));
    worst_float32 =
        std::max(worst_float32, std::abs(rounded[b].item<double>() - expected));
  }
  EXPECT_GT(states.narrow(1, 0, 81).sum().item<int64_t>(), 64 * 5);
  std::printf("float32 rounding of the log-likelihoods: up to %.2e\n",
              worst_float32);
}

TEST(BGeTest, TwentyVariablesNeedAMaximumInDegree) {
  const Dataset data = Synthetic(20, 50, 1);
  auto unlimited = BGeScore::Create(data, 1.0, 0.0);
  ASSERT_FALSE(unlimited.ok());
  EXPECT_NE(unlimited.status().message().find("max_parents="),
            std::string::npos)
      << unlimited.status();
  auto bounded = BGeScore::Create(data, 1.0, 0.0, 4);
  ASSERT_TRUE(bounded.ok()) << bounded.status();
  EXPECT_EQ(bounded->num_parent_sets(), 1 + 20 + 190 + 1140 + 4845);
  EXPECT_TRUE(std::isfinite(bounded->LocalScore(19, 0b1111)));
}

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> rows;
  for (int64_t r = begin; r < end; ++r) rows.push_back(r);
  return rows;
}

// The exact stream's score: new rows given earlier ones, per local score, is
// BGe(all rows) - BGe(earlier rows), with or without a maximum in-degree
// (the earlier rows themselves arrive as merged blocks).
TEST(BGeTest, ConditionalScoreIsTheDifferenceOfTheTwoScores) {
  const Dataset data = Synthetic(5, 60, 8);
  BgeSufficientStatistics earlier;
  ASSERT_TRUE(
      earlier.Merge(BgeSufficientStatistics::Of(data.Subset(Range(0, 12))))
          .ok());
  ASSERT_TRUE(
      earlier.Merge(BgeSufficientStatistics::Of(data.Subset(Range(12, 30))))
          .ok());
  const Dataset new_rows = data.Subset(Range(30, 45));
  for (int64_t max_parents : {-1, 2}) {
    auto conditional = BGeScore::CreateConditional(
        earlier, BgeSufficientStatistics::Of(new_rows), 1.0, 0.0, max_parents);
    auto all =
        BGeScore::Create(data.Subset(Range(0, 45)), 1.0, 0.0, max_parents);
    auto before =
        BGeScore::Create(data.Subset(Range(0, 30)), 1.0, 0.0, max_parents);
    auto alone = BGeScore::Create(new_rows, 1.0, 0.0, max_parents);
    ASSERT_TRUE(conditional.ok()) << conditional.status();
    ASSERT_TRUE(all.ok() && before.ok() && alone.ok());
    int64_t checked = 0;
    double worst = 0.0, farthest_from_alone = 0.0;
    for (int64_t node = 0; node < 5; ++node) {
      for (uint64_t parents = 0; parents < 32; ++parents) {
        if (parents >> node & 1) continue;
        const double actual = conditional->LocalScore(node, parents);
        if (max_parents >= 0 && __builtin_popcountll(parents) > max_parents) {
          EXPECT_EQ(actual, -INFINITY);  // outside the model
          continue;
        }
        const double expected =
            all->LocalScore(node, parents) - before->LocalScore(node, parents);
        ASSERT_NEAR(actual, expected, 1e-9) << node << " " << parents;
        worst = std::max(worst, std::abs(actual - expected));
        farthest_from_alone =
            std::max(farthest_from_alone,
                     std::abs(actual - alone->LocalScore(node, parents)));
        ++checked;
      }
    }
    EXPECT_EQ(checked, max_parents < 0 ? 5 * 16 : 5 * (1 + 4 + 6));
    // The earlier rows matter: the new rows scored alone differ.
    EXPECT_GT(farthest_from_alone, 0.1);
    std::printf(
        "conditional BGe, max_parents %lld: %lld local scores within %.1e of "
        "the difference; up to %.3f from the new rows scored alone\n",
        static_cast<long long>(max_parents), static_cast<long long>(checked),
        worst, farthest_from_alone);
  }
  // Nothing given: the plain score, bit for bit.
  auto plain = BGeScore::CreateConditional(
      BgeSufficientStatistics(), BgeSufficientStatistics::Of(new_rows), 1.0,
      0.0);
  auto direct = BGeScore::Create(new_rows, 1.0, 0.0);
  ASSERT_TRUE(plain.ok() && direct.ok());
  EXPECT_EQ(plain->local_score_table(), direct->local_score_table());
}

// A stream of four blocks through the reward: block t names the statistics
// that DagStreamStatistics wrote after block t - 1 (which merge everything
// before), and the blocks' likelihoods sum to the all-rows BGe score on
// every DAG.
TEST(BGeTest, GivenStatisticsMakeTheStreamOfBlocksExact) {
  auto dag = MakeDag(3);
  torch::Tensor states = *dag->EnumerateTerminalStates();
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string data = "bge:synthetic=1,samples=60,data_seed=5,count=4";
  torch::Tensor stream = torch::zeros({states.size(0)}, torch::kFloat64);
  std::string given;
  for (int t = 0; t < 4; ++t) {
    const RewardConfig config =
        *RewardConfig::Parse(data + ",index=" + std::to_string(t) + given);
    auto parts = MakeDagReward(*dag, config);
    ASSERT_TRUE(parts.ok()) << parts.status();
    stream += parts->log_likelihood->LogRewardFloat64(states);
    if (t > 0) {
      EXPECT_NE(parts->log_likelihood->Describe().find(
                    "given " + std::to_string(15 * t) + " earlier rows"),
                std::string::npos)
          << parts->log_likelihood->Describe();
    }
    auto statistics = DagStreamStatistics(*dag, config);
    ASSERT_TRUE(statistics.ok()) << statistics.status();
    EXPECT_EQ(statistics->rows, 15 * (t + 1));
    const std::string path = dir + "/stream_" + std::to_string(t) + ".stats";
    ASSERT_TRUE(WriteBgeStatistics(path, *statistics).ok());
    given = ",given=" + path;
  }
  auto full = MakeDagReward(
      *dag, *RewardConfig::Parse("bge:synthetic=1,samples=60,data_seed=5"));
  ASSERT_TRUE(full.ok()) << full.status();
  torch::Tensor expected = full->log_likelihood->LogRewardFloat64(states);
  const double worst = (stream - expected).abs().max().item<double>();
  std::printf(
      "stream of 4 conditional blocks vs all 60 rows: %lld DAGs, largest "
      "difference %.1e (log-likelihoods near %.1f)\n",
      static_cast<long long>(states.size(0)), worst,
      expected.mean().item<double>());
  EXPECT_LE(worst, 1e-9);
}

TEST(BGeTest, GivenStatisticsAreChecked) {
  auto dag = MakeDag(3);
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string base = "bge:synthetic=1,samples=30,data_seed=5";
  auto statistics = DagStreamStatistics(*dag, *RewardConfig::Parse(base));
  ASSERT_TRUE(statistics.ok()) << statistics.status();
  const std::string good = dir + "/good.stats";
  ASSERT_TRUE(WriteBgeStatistics(good, *statistics).ok());
  BgeSufficientStatistics renamed = *statistics;
  renamed.names = {"x0", "x1", "other"};
  const std::string bad = dir + "/renamed.stats";
  ASSERT_TRUE(WriteBgeStatistics(bad, renamed).ok());

  ExpectRewardRefused(base + ",given=" + bad, "other");
  ExpectRewardRefused(base + ",standardize=1,given=" + good, "standardize=1");
  auto standardized =
      DagStreamStatistics(*dag, *RewardConfig::Parse(base + ",standardize=1"));
  EXPECT_EQ(standardized.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = MakeSplitLogReward(
      *dag, *RewardConfig::Parse(base + ",given=" + dir + "/none.stats"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DagStreamStatistics(*dag, *RewardConfig::Parse("standard"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
