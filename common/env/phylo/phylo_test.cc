#include "common/env/phylo/phylo.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/env/environment_registry.h"
#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr char kPrimates[] = "common/env/phylo/testdata/primates.nex";

std::unique_ptr<PhyloEnvironment> MakePhylo(const std::string& params) {
  auto config = EnvironmentConfig::Parse("phylo:" + params);
  EXPECT_TRUE(config.ok()) << config.status();
  auto phylo = PhyloEnvironment::Create(*config);
  EXPECT_TRUE(phylo.ok()) << phylo.status();
  return std::move(phylo).value();
}

int64_t DoubleFactorial(int64_t k) {  // k!! for odd k >= -1
  int64_t result = 1;
  for (int64_t j = k; j > 1; j -= 2) result *= j;
  return result;
}

// Independent count of the state graph: a state is a forest of rooted binary
// trees whose leaf sets partition the n taxa, so summing over all set
// partitions (enumerated by brute force) the product of (2|B| - 3)!! counts
// the states; a forest with r trees has r(r-1)/2 merges out of it.
struct BruteForceCounts {
  int64_t states = 0;
  int64_t edges = 0;
};

BruteForceCounts CountForests(int n) {
  BruteForceCounts counts;
  std::vector<int> block_sizes;
  // Places element k into an existing block or a new one.
  std::function<void(int)> place = [&](int k) {
    if (k == n) {
      int64_t forests = 1;
      for (int size : block_sizes) forests *= DoubleFactorial(2 * size - 3);
      const int64_t r = static_cast<int64_t>(block_sizes.size());
      counts.states += forests;
      counts.edges += forests * r * (r - 1) / 2;
      return;
    }
    for (size_t b = 0; b < block_sizes.size(); ++b) {
      ++block_sizes[b];
      place(k + 1);
      --block_sizes[b];
    }
    block_sizes.push_back(1);
    place(k + 1);
    block_sizes.pop_back();
  };
  place(0);
  return counts;
}

TEST(PhyloTest, StateGraphMatchesBruteForceCounts) {
  for (int n : {2, 3, 4, 5}) {
    SCOPED_TRACE(testing::Message() << "n=" << n);
    auto phylo = MakePhylo("num_taxa=" + std::to_string(n));
    StateGraphCounts counts = CheckStateGraph(*phylo);
    BruteForceCounts expected = CountForests(n);
    EXPECT_EQ(counts.terminals, DoubleFactorial(2 * n - 3));
    EXPECT_EQ(counts.states, expected.states);
    EXPECT_EQ(counts.edges, expected.edges);
  }
  // By hand for n = 4, by partition shape: {4}: 15; {3,1}: 4 x 3; {2,2}:
  // 3 x 1; {2,1,1}: 6 x 1; {1,1,1,1}: 1.
  EXPECT_EQ(CountForests(4).states, 15 + 12 + 3 + 6 + 1);
}

TEST(PhyloTest, MergeOrdersMeetInOneState) {
  auto phylo = MakePhylo("num_taxa=4");
  torch::Tensor s0 = phylo->InitialStates(1, torch::kCPU);
  auto step = [&](torch::Tensor s, int a, int b) {
    return phylo->Step(s, torch::tensor({phylo->PairAction(a, b)}));
  };
  torch::Tensor first = step(step(s0, 0, 1), 2, 3);
  torch::Tensor second = step(step(s0, 2, 3), 0, 1);
  EXPECT_TRUE(first.equal(second));
  EXPECT_TRUE(first.equal(torch::tensor({{12, 3, 0}}, torch::kInt64)));
  torch::Tensor tree = step(first, 0, 2);
  EXPECT_TRUE(tree.equal(torch::tensor({{15, 12, 3}}, torch::kInt64)));
}

TEST(PhyloTest, MasksAllowMergesOfRootsAndExitOnlyForATree) {
  auto phylo = MakePhylo("num_taxa=3");
  // s0; {0,1} merged; the tree ((0,1),2).
  torch::Tensor states = torch::tensor({{0, 0}, {3, 0}, {7, 3}}, torch::kInt64);
  // Pairs (0,1) (0,2) (1,2), then exit.
  EXPECT_TRUE(phylo->ForwardMask(states).equal(
      torch::tensor({{true, true, true, false},
                     {false, true, false, false},
                     {false, false, false, true}})));
  EXPECT_TRUE(phylo->BackwardMask(states).equal(torch::tensor(
      {{false, false, false}, {true, false, false}, {true, false, false}})));
  EXPECT_EQ(phylo->num_forward_actions(), 4);
  EXPECT_EQ(phylo->max_trajectory_length(), 3);
}

TEST(PhyloTest, EncodingsTellTreesApart) {
  auto phylo = MakePhylo("num_taxa=6");
  auto terminals = phylo->EnumerateTerminalStates();
  ASSERT_TRUE(terminals.ok()) << terminals.status();
  ASSERT_EQ(terminals->size(0), 945);
  torch::Tensor encoded = phylo->Encode(*terminals);
  ASSERT_EQ(encoded.size(1), phylo->encoding_dim());
  std::set<std::vector<float>> distinct;
  for (int64_t r = 0; r < encoded.size(0); ++r) {
    torch::Tensor row = encoded[r].contiguous();
    distinct.insert(std::vector<float>(row.data_ptr<float>(),
                                       row.data_ptr<float>() + row.numel()));
  }
  EXPECT_EQ(distinct.size(), 945u);
}

TEST(PhyloTest, EnumeratesEveryTopologyOnceAndRefusesLargeOnes) {
  auto phylo = MakePhylo("num_taxa=7");
  auto terminals = phylo->EnumerateTerminalStates();
  ASSERT_TRUE(terminals.ok()) << terminals.status();
  EXPECT_EQ(terminals->size(0), 10395);
  EXPECT_EQ(std::get<0>(at::unique_dim(*terminals, 0)).size(0), 10395);
  EXPECT_TRUE(phylo->ForwardMask(*terminals)
                  .select(1, phylo->exit_action())
                  .all()
                  .item<bool>());
  auto large = MakePhylo("num_taxa=9")->EnumerateTerminalStates();
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PhyloTest, DescribesNewickWithTaxonNames) {
  auto phylo = MakePhylo("taxa=Homo_sapiens;Pan;Gorilla;Pongo");
  // ((Homo_sapiens,Pan),Gorilla) plus Pongo alone; then the whole tree
  // (Pongo,((Homo,Pan),Gorilla)) prints children by smallest taxon index.
  EXPECT_EQ(phylo->Describe(torch::tensor({7, 3, 0}, torch::kInt64)),
            "((Homo_sapiens,Pan),Gorilla); Pongo;");
  EXPECT_EQ(phylo->Describe(torch::tensor({15, 7, 3}, torch::kInt64)),
            "(((Homo_sapiens,Pan),Gorilla),Pongo);");
  EXPECT_EQ(phylo->Describe(torch::tensor({15, 10, 5}, torch::kInt64)),
            "((Homo_sapiens,Gorilla),(Pan,Pongo));");
  EXPECT_EQ(phylo->Describe(torch::tensor({0, 0, 0}, torch::kInt64)),
            "Homo_sapiens; Pan; Gorilla; Pongo;");
}

TEST(PhyloTest, NewickAndCladesBuildTerminalStates) {
  auto phylo = MakePhylo("taxa=Homo_sapiens;Pan;Gorilla;Pongo");
  auto state = phylo->TerminalStateFromNewick(
      "(Pongo:0.3,('Gorilla':0.1,(Homo_sapiens:0.01,Pan:0.02)0.95:0.2):0.1);");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_TRUE(state->equal(torch::tensor({15, 7, 3}, torch::kInt64)));
  auto from_clades = phylo->StateFromClades({3, 15, 7});
  ASSERT_TRUE(from_clades.ok()) << from_clades.status();
  EXPECT_TRUE(from_clades->equal(*state));
  EXPECT_EQ(phylo->Clades(*state), (std::vector<uint64_t>{15, 7, 3}));
  // A forest (not terminal) is a valid state too.
  EXPECT_TRUE(phylo->StateFromClades({3})->equal(
      torch::tensor({3, 0, 0}, torch::kInt64)));
  for (const auto& [newick, what] :
       std::vector<std::pair<std::string, std::string>>{
           {"((Homo_sapiens,Pan),Gorilla);", "all 4 taxa"},
           {"((Homo_sapiens,Pan,Gorilla),Pongo);", "3 children"},
           {"((Homo_sapiens,Yeti),(Gorilla,Pongo));", "'Yeti'"},
           {"((Homo_sapiens,Pan),(Gorilla,Homo_sapiens));", "all 4 taxa"},
           {"((Homo_sapiens,Pan),(Gorilla,Pongo)", "expected ',' or ')'"}}) {
    auto refused = phylo->TerminalStateFromNewick(newick);
    ASSERT_FALSE(refused.ok()) << newick;
    EXPECT_NE(refused.status().message().find(what), std::string::npos)
        << refused.status();
  }
  for (const auto& [clades, what] :
       std::vector<std::pair<std::vector<uint64_t>, std::string>>{
           {{3, 6}, "overlap"},
           {{15}, "4 parts"},
           {{1}, "at least 2"},
           {{3, 3}, "twice"},
           {{3, 12, 15, 7}, "more than"}}) {
    auto refused = phylo->StateFromClades(clades);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.status().message().find(what), std::string::npos)
        << refused.status();
  }
}

// The encoding's definition computed the slow way: for each leaf pair the
// size of the smallest clade holding both, then each leaf's root size.
std::vector<float> ReferenceEncoding(const PhyloEnvironment& phylo,
                                     const torch::Tensor& state) {
  const int64_t n = phylo.num_taxa();
  const std::vector<uint64_t> clades = phylo.Clades(state);
  std::vector<float> row;
  auto smallest = [&](uint64_t leaves) {
    int size = 0;
    for (uint64_t c : clades) {
      const int count = __builtin_popcountll(c);
      if ((c & leaves) == leaves && (size == 0 || count < size)) size = count;
    }
    return size;
  };
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = a + 1; b < n; ++b) {
      row.push_back(smallest((uint64_t{1} << a) | (uint64_t{1} << b)) /
                    static_cast<float>(n));
    }
  }
  for (int64_t leaf = 0; leaf < n; ++leaf) {
    int root = 1;  // the largest clade holding the leaf
    for (uint64_t c : clades) {
      if ((c >> leaf) & 1) root = std::max(root, __builtin_popcountll(c));
    }
    row.push_back(root / static_cast<float>(n));
  }
  return row;
}

// 64 taxa: bit 63 is a leaf. A seeded random walk to a complete tree keeps
// the rows sorted as unsigned, undoes each step backwards, encodes as the
// definition says, and round-trips through Newick.
TEST(PhyloTest, SixtyFourTaxaWalkToATreeAndBack) {
  auto phylo = MakePhylo("num_taxa=64");
  ASSERT_EQ(phylo->encoding_dim(), 64 * 63 / 2 + 64);
  torch::manual_seed(11);
  torch::Tensor states = phylo->InitialStates(3, torch::kCPU);
  for (int64_t t = 0; t < 63; ++t) {
    torch::Tensor mask = phylo->ForwardMask(states);
    ASSERT_FALSE(mask.select(1, phylo->exit_action()).any().item<bool>());
    torch::Tensor actions =
        torch::multinomial(mask.to(torch::kFloat32), 1).squeeze(1);
    torch::Tensor next = phylo->Step(states, actions);
    torch::Tensor back = phylo->BackwardActionOf(next, actions);
    EXPECT_TRUE(phylo->BackwardStep(next, back).equal(states));
    EXPECT_TRUE(phylo->ForwardActionOf(next, back).equal(actions));
    if (t % 9 == 0 || t == 62) {
      torch::Tensor encoded = phylo->Encode(next);
      for (int64_t r = 0; r < 3; ++r) {
        torch::Tensor row = encoded[r].contiguous();
        EXPECT_EQ(std::vector<float>(row.data_ptr<float>(),
                                     row.data_ptr<float>() + row.numel()),
                  ReferenceEncoding(*phylo, next[r]))
            << "step " << t << " row " << r;
      }
    }
    states = next;
  }
  EXPECT_TRUE(phylo->ForwardMask(states)
                  .select(1, phylo->exit_action())
                  .all()
                  .item<bool>());
  for (int64_t r = 0; r < 3; ++r) {
    const std::vector<uint64_t> clades = phylo->Clades(states[r]);
    ASSERT_EQ(clades.size(), 63u);
    EXPECT_EQ(clades[0], ~uint64_t{0});  // the root holds all 64 leaves
    EXPECT_TRUE(std::is_sorted(clades.rbegin(), clades.rend()));
    auto again = phylo->TerminalStateFromNewick(phylo->Describe(states[r]));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->equal(states[r]));
  }
  torch::Tensor left;
  torch::Tensor right;
  phylo->TreeChildren(states, &left, &right);
  ASSERT_EQ(left.size(1), 63);
  // Every node but the root (2n - 2) is the child of exactly one node.
  for (int64_t r = 0; r < 3; ++r) {
    torch::Tensor children =
        std::get<0>(torch::sort(torch::cat({left[r], right[r]})));
    EXPECT_TRUE(children.equal(torch::arange(2 * 64 - 2, torch::kInt64)));
  }
}

TEST(PhyloTest, EncodingMatchesItsDefinitionOnEveryForestOfFiveTaxa) {
  auto phylo = MakePhylo("num_taxa=5");
  // Every state reachable from s0 (breadth first).
  std::vector<torch::Tensor> frontier = {phylo->InitialStates(1, torch::kCPU)};
  int64_t checked = 0;
  while (!frontier.empty()) {
    std::vector<torch::Tensor> next;
    for (const torch::Tensor& state : frontier) {
      torch::Tensor row = phylo->Encode(state)[0].contiguous();
      EXPECT_EQ(std::vector<float>(row.data_ptr<float>(),
                                   row.data_ptr<float>() + row.numel()),
                ReferenceEncoding(*phylo, state[0]));
      ++checked;
      torch::Tensor mask = phylo->ForwardMask(state)[0];
      for (int64_t a = 0; a + 1 < phylo->num_forward_actions(); ++a) {
        if (mask[a].item<bool>()) {
          next.push_back(phylo->Step(state, torch::tensor({a})));
        }
      }
    }
    frontier = std::move(next);
  }
  EXPECT_GT(checked, 100);
}

TEST(PhyloTest, CanonicalConfigSpellsOutTheTaxa) {
  auto by_count =
      MakeEnvironment(*EnvironmentConfig::Parse("phylo:num_taxa=3"));
  ASSERT_TRUE(by_count.ok()) << by_count.status();
  auto by_name =
      MakeEnvironment(*EnvironmentConfig::Parse("phylo:taxa=t1;t2;t3"));
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ((*by_count)->config(), (*by_name)->config());
  EXPECT_EQ((*by_count)->config().ToString(), "phylo:taxa=t1;t2;t3");
  auto again = MakeEnvironment((*by_count)->config());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->config(), (*by_count)->config());
}

void ExpectRefused(const std::string& params, const std::string& name) {
  auto phylo =
      PhyloEnvironment::Create(*EnvironmentConfig::Parse("phylo:" + params));
  ASSERT_FALSE(phylo.ok()) << params;
  EXPECT_NE(phylo.status().message().find(name), std::string::npos)
      << phylo.status();
}

TEST(PhyloTest, BadParametersAreRefusedWithTheirName) {
  ExpectRefused("num_taxa=1", "num_taxa");
  ExpectRefused("num_taxa=65", "num_taxa");
  ExpectRefused("taxa=a;b;a", "'a' twice");
  ExpectRefused("taxon=a;b", "taxon");
  ExpectRefused("taxa=a;b,num_taxa=2", "not both");
  ExpectRefused("taxa=a;;b", "empty");
}

// The server builds the environment, so it must never name a data file.
TEST(PhyloTest, AnEnvironmentNamingDataIsRefusedWithTheWayOut) {
  for (const std::string& params :
       {std::string("alignment=") + kPrimates + ",num_taxa=4",
        std::string("num_taxa=4,sites=0-9")}) {
    ExpectRefused(params, "put alignment=PATH in each client's reward");
  }
}

TEST(PhyloTest, RewardsNeedTheClientsOwnFileAndValidParameters) {
  auto phylo = MakePhylo("taxa=Homo_sapiens;Pan;Gorilla;Pongo");
  const std::string own = std::string("alignment=") + kPrimates;
  for (const auto& [text, name] :
       std::vector<std::pair<std::string, std::string>>{
           {"jc69", "needs alignment=PATH"},
           {"jc69:alignment=no/such.nex", "no/such.nex"},
           {"jc69:" + own + ",branch_length=0", "branch_length"},
           {"jc69:" + own + ",index=3,count=3", "index"},
           {"jc69:" + own + ",split=striped", "split"},
           {"jc69:" + own + ",lambda=2", "lambda"},
           {"parsimony:" + own + ",branch_length=2", "branch_length"},
           {"jc69:" + own + ",count=899", "count"},
           {"jc69:" + own + ",compress=2", "compress"},
           {"gtr:" + own, "gtr"}}) {
    auto refused = MakePhyloReward(*phylo, *RewardConfig::Parse(text));
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_NE(refused.status().message().find(name), std::string::npos)
        << refused.status();
  }
  auto reward = MakePhyloReward(*phylo, *RewardConfig::Parse("jc69:" + own));
  ASSERT_TRUE(reward.ok()) << reward.status();
  EXPECT_NE(reward->log_likelihood->Describe().find("JC69"), std::string::npos);
  EXPECT_NE(reward->log_likelihood->Describe().find(kPrimates),
            std::string::npos);
  ASSERT_NE(reward->log_prior, nullptr);
  torch::Tensor tree = torch::tensor({{15, 7, 3}}, torch::kInt64);
  EXPECT_DOUBLE_EQ(reward->log_prior->LogRewardFloat64(tree).item<double>(),
                   -std::log(15.0));
}

TEST(PhyloTest, UncompressedSitesGiveTheSameRewards) {
  auto phylo =
      MakePhylo("taxa=Tarsius_syrichta;Lemur_catta;Homo_sapiens;Pan;Gorilla");
  auto states = phylo->EnumerateTerminalStates();
  ASSERT_TRUE(states.ok()) << states.status();
  const std::string own = std::string("alignment=") + kPrimates;
  for (const std::string kind : {"jc69", "parsimony"}) {
    auto compressed = MakePhyloReward(
        *phylo, *RewardConfig::Parse(kind + ":" + own + ",index=1,count=3"));
    auto per_site = MakePhyloReward(
        *phylo,
        *RewardConfig::Parse(kind + ":" + own + ",index=1,count=3,compress=0"));
    ASSERT_TRUE(compressed.ok()) << compressed.status();
    ASSERT_TRUE(per_site.ok()) << per_site.status();
    EXPECT_NE(per_site->log_likelihood->Describe(),
              compressed->log_likelihood->Describe());
    at::Tensor a = compressed->log_likelihood->LogRewardFloat64(*states);
    at::Tensor b = per_site->log_likelihood->LogRewardFloat64(*states);
    EXPECT_EQ(a.scalar_type(), torch::kFloat64);
    EXPECT_TRUE(torch::allclose(a, b, 1e-12, 1e-9)) << kind;
    EXPECT_GT((a.max() - a.min()).item<double>(), 1.0) << kind;
    // The float32 operator() is the double value rounded.
    EXPECT_TRUE(
        (*compressed->log_likelihood)(*states).equal(a.to(torch::kFloat32)));
  }
}

TEST(PhyloTest, ClientSitesPartitionTheAlignment) {
  for (const std::string split : {"contiguous", "random"}) {
    std::vector<int64_t> all;
    for (int index = 0; index < 3; ++index) {
      auto sites = ClientSites(10, index, 3, split, 7);
      ASSERT_TRUE(sites.ok()) << sites.status();
      EXPECT_GE(sites->size(), 3u);
      all.insert(all.end(), sites->begin(), sites->end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  EXPECT_EQ(*ClientSites(10, 0, 3, "contiguous", 0),
            (std::vector<int64_t>{0, 1, 2}));
  EXPECT_NE(*ClientSites(10, 0, 3, "random", 1),
            *ClientSites(10, 0, 3, "random", 2));
  EXPECT_EQ(*ClientSites(10, 1, 3, "random", 5),
            *ClientSites(10, 1, 3, "random", 5));
}

}  // namespace
}  // namespace epgfn
