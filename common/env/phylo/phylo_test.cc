#include "common/env/phylo/phylo.h"

#include <torch/torch.h>

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
  auto phylo = MakePhylo(std::string("alignment=") + kPrimates +
                         ",taxa=Homo_sapiens;Pan;Gorilla;Pongo");
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

TEST(PhyloTest, CanonicalConfigSpellsOutTheTaxa) {
  auto by_count = MakeEnvironment(*EnvironmentConfig::Parse(
      std::string("phylo:alignment=") + kPrimates + ",num_taxa=3"));
  ASSERT_TRUE(by_count.ok()) << by_count.status();
  auto by_name = MakeEnvironment(
      *EnvironmentConfig::Parse(std::string("phylo:alignment=") + kPrimates +
                                ",taxa=Tarsius_syrichta;Lemur_catta;"
                                "Homo_sapiens"));
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_EQ((*by_count)->config(), (*by_name)->config());
  EXPECT_EQ((*by_count)->config().ToString(),
            std::string("phylo:alignment=") + kPrimates +
                ",taxa=Tarsius_syrichta;Lemur_catta;Homo_sapiens");
  auto again = MakeEnvironment((*by_count)->config());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->config(), (*by_count)->config());
  auto reward = MakeSplitLogReward(**by_count, *RewardConfig::Parse("jc69"));
  ASSERT_TRUE(reward.ok()) << reward.status();
  EXPECT_NE((*reward)->Describe().find("JC69"), std::string::npos);
}

TEST(PhyloTest, SitesSelectAColumnRange) {
  auto phylo = MakePhylo(std::string("alignment=") + kPrimates +
                         ",num_taxa=4,sites=10-109");
  EXPECT_EQ(phylo->site_masks().size(0), 4);
  EXPECT_EQ(phylo->site_masks().size(1), 100);
}

void ExpectRefused(const std::string& params, const std::string& name) {
  auto phylo =
      PhyloEnvironment::Create(*EnvironmentConfig::Parse("phylo:" + params));
  ASSERT_FALSE(phylo.ok()) << params;
  EXPECT_NE(phylo.status().message().find(name), std::string::npos)
      << phylo.status();
}

TEST(PhyloTest, BadParametersAreRefusedWithTheirName) {
  const std::string alignment = std::string("alignment=") + kPrimates;
  ExpectRefused("num_taxa=1", "num_taxa");
  ExpectRefused("num_taxa=17", "num_taxa");
  ExpectRefused("taxa=a;b;a", "'a' twice");
  ExpectRefused("taxon=a;b", "taxon");
  ExpectRefused("taxa=a;b,num_taxa=2", "not both");
  ExpectRefused(alignment + ",taxa=Homo_sapiens;Yeti", "Yeti");
  ExpectRefused(alignment + ",num_taxa=13", "num_taxa");
  ExpectRefused(alignment + ",num_taxa=3,sites=0-898", "sites");
  ExpectRefused(alignment + ",num_taxa=3,sites=5", "sites");
  ExpectRefused("alignment=no/such.nex", "no/such.nex");
  ExpectRefused("num_taxa=3,sites=0-9", "sites");
}

TEST(PhyloTest, RewardsNeedAnAlignmentAndValidParameters) {
  auto bare = MakePhylo("num_taxa=4");
  auto reward = MakeSplitLogReward(*bare, *RewardConfig::Parse("jc69"));
  ASSERT_FALSE(reward.ok());
  EXPECT_EQ(reward.status().code(), absl::StatusCode::kFailedPrecondition);
  auto phylo = MakePhylo(std::string("alignment=") + kPrimates + ",num_taxa=4");
  for (const auto& [text, name] :
       std::vector<std::pair<std::string, std::string>>{
           {"jc69:branch_length=0", "branch_length"},
           {"jc69:index=3,count=3", "index"},
           {"jc69:split=striped", "split"},
           {"jc69:temperature=-1", "temperature"},
           {"jc69:lambda=2", "lambda"},
           {"parsimony:temperature=2", "temperature"},
           {"jc69:count=899", "count"},
           {"gtr", "gtr"}}) {
    auto refused = MakeSplitLogReward(*phylo, *RewardConfig::Parse(text));
    ASSERT_FALSE(refused.ok()) << text;
    EXPECT_NE(refused.status().message().find(name), std::string::npos)
        << refused.status();
  }
}

TEST(PhyloTest, UncompressedSitesGiveTheSameRewards) {
  auto phylo = MakePhylo(std::string("alignment=") + kPrimates + ",num_taxa=5");
  auto states = phylo->EnumerateTerminalStates();
  ASSERT_TRUE(states.ok()) << states.status();
  for (const std::string kind : {"jc69", "parsimony"}) {
    auto compressed = MakeSplitLogReward(
        *phylo, *RewardConfig::Parse(kind + ":index=1,count=3"));
    auto per_site = MakeSplitLogReward(
        *phylo, *RewardConfig::Parse(kind + ":index=1,count=3,compress=0"));
    ASSERT_TRUE(compressed.ok()) << compressed.status();
    ASSERT_TRUE(per_site.ok()) << per_site.status();
    EXPECT_NE((*per_site)->Describe(), (*compressed)->Describe());
    at::Tensor a = (**compressed)(*states);
    at::Tensor b = (**per_site)(*states);
    EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-3)) << kind;
    EXPECT_GT((a.max() - a.min()).item<float>(), 1.0f) << kind;
  }
  EXPECT_FALSE(
      MakeSplitLogReward(*phylo, *RewardConfig::Parse("jc69:compress=2")).ok());
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
