#include "common/env/dag/dag.h"

#include <torch/types.h>

#include <functional>
#include <string>
#include <vector>

#include "common/env/environment_registry.h"
#include "common/env/environment_testing.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

std::unique_ptr<DagEnvironment> MakeDag(int nodes) {
  auto dag = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=" + std::to_string(nodes)));
  EXPECT_TRUE(dag.ok()) << dag.status();
  return std::move(dag).value();
}

// Independent of the environment: depth-first search for a cycle in the
// row-major adjacency `a` of a d-node graph.
bool HasCycle(const std::vector<int64_t>& a, int d) {
  std::vector<int> color(d, 0);  // 0 unvisited, 1 on the stack, 2 done
  std::function<bool(int)> visit = [&](int i) {
    color[i] = 1;
    for (int j = 0; j < d; ++j) {
      if (!a[i * d + j]) continue;
      if (color[j] == 1) return true;
      if (color[j] == 0 && visit(j)) return true;
    }
    color[i] = 2;
    return false;
  };
  for (int i = 0; i < d; ++i) {
    if (color[i] == 0 && visit(i)) return true;
  }
  return false;
}

// Reachability by DFS, for checking the closure half of the state.
std::vector<int64_t> Reachability(const std::vector<int64_t>& a, int d) {
  std::vector<int64_t> reach(d * d, 0);
  for (int s = 0; s < d; ++s) {
    std::vector<int> stack = {s};
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      for (int j = 0; j < d; ++j) {
        if (a[i * d + j] && !reach[s * d + j]) {
          reach[s * d + j] = 1;
          stack.push_back(j);
        }
      }
    }
  }
  return reach;
}

std::vector<int64_t> Row(const torch::Tensor& row) {
  torch::Tensor cpu = row.contiguous();
  return std::vector<int64_t>(cpu.data_ptr<int64_t>(),
                              cpu.data_ptr<int64_t>() + cpu.numel());
}

TEST(DagTest, StateGraphIsEveryLabelledDag) {
  // Labelled DAGs on d nodes (OEIS A003024): 3, 25, 543. Every DAG is both a
  // state and a terminal.
  for (auto [d, dags] : {std::pair<int, int>{2, 3}, {3, 25}, {4, 543}}) {
    SCOPED_TRACE(testing::Message() << "nodes=" << d);
    auto dag = MakeDag(d);
    StateGraphCounts counts = CheckStateGraph(*dag);
    EXPECT_EQ(counts.terminals, dags);
    EXPECT_EQ(counts.states, dags);
    // Each edge of each DAG is the last-added one of exactly one transition.
    torch::Tensor all = *dag->EnumerateTerminalStates();
    EXPECT_EQ(counts.edges, all.narrow(1, 0, d * d).sum().item<int64_t>());
  }
}

TEST(DagTest, EnumeratesUpToFiveNodes) {
  auto five = MakeDag(5);
  auto all = five->EnumerateTerminalStates();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(0), 29281);
  EXPECT_EQ(all->size(1), 50);
  auto six = MakeDag(6)->EnumerateTerminalStates();
  ASSERT_FALSE(six.ok());
  EXPECT_EQ(six.status().code(), absl::StatusCode::kFailedPrecondition);
}

// For every DAG on 4 nodes and every add action: allowed exactly when the
// result is acyclic (checked by DFS, not by the closure), and the stepped
// state carries the right closure.
TEST(DagTest, MaskAllowsExactlyTheAcyclicAdditions) {
  const int d = 4;
  auto dag = MakeDag(d);
  torch::Tensor states = *dag->EnumerateTerminalStates();
  torch::Tensor mask = dag->ForwardMask(states);
  ASSERT_EQ(mask.size(1), d * d + 1);
  EXPECT_TRUE(mask.select(1, d * d).all().item<bool>());  // exit everywhere
  int64_t checked = 0;
  for (int64_t k = 0; k < states.size(0); ++k) {
    const std::vector<int64_t> row = Row(states[k]);
    const std::vector<int64_t> adjacency(row.begin(), row.begin() + d * d);
    ASSERT_EQ(std::vector<int64_t>(row.begin() + d * d, row.end()),
              Reachability(adjacency, d));
    for (int action = 0; action < d * d; ++action) {
      const int i = action / d, j = action % d;
      const bool allowed = mask[k][action].item<bool>();
      if (i == j || adjacency[action]) {
        EXPECT_FALSE(allowed);
        continue;
      }
      std::vector<int64_t> added = adjacency;
      added[action] = 1;
      ASSERT_EQ(allowed, !HasCycle(added, d))
          << dag->Describe(states[k]) << " + " << i << "->" << j;
      if (!allowed) continue;
      torch::Tensor next =
          dag->Step(states[k].unsqueeze(0), torch::tensor({action}));
      std::vector<int64_t> expected = added;
      const std::vector<int64_t> reach = Reachability(added, d);
      expected.insert(expected.end(), reach.begin(), reach.end());
      ASSERT_EQ(Row(next[0]), expected);
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(DagTest, BackwardRemovesAndRecomputesTheClosure) {
  auto dag = MakeDag(3);
  // 0 -> 1 -> 2: removing 0 -> 1 also removes the path 0 ~> 2.
  torch::Tensor chain = dag->StatesFromAdjacency(
      torch::tensor({{0, 1, 0, 0, 0, 1, 0, 0, 0}}, torch::kInt64));
  EXPECT_EQ(Row(chain[0]), (std::vector<int64_t>{0, 1, 0, 0, 0, 1, 0, 0, 0, 0,
                                                 1, 1, 0, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(dag->BackwardMask(chain).equal(torch::tensor(
      {{false, true, false, false, false, true, false, false, false}})));
  torch::Tensor parent = dag->BackwardStep(chain, torch::tensor({1}));
  EXPECT_EQ(Row(parent[0]), (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                                                  0, 0, 0, 0, 1, 0, 0, 0}));
  // 2 -> 0 would close the cycle 0 -> 1 -> 2 -> 0.
  torch::Tensor mask = dag->ForwardMask(chain);
  EXPECT_FALSE(mask[0][2 * 3 + 0].item<bool>());
  EXPECT_FALSE(mask[0][1 * 3 + 0].item<bool>());
  EXPECT_TRUE(mask[0][0 * 3 + 2].item<bool>());
  EXPECT_TRUE(mask[0][9].item<bool>());
}

TEST(DagTest, ShapesEncodingAndDescription) {
  auto dag = MakeDag(3);
  EXPECT_EQ(dag->raw_state_dim(), 18);
  EXPECT_EQ(dag->encoding_dim(), 18);
  EXPECT_EQ(dag->num_forward_actions(), 10);
  EXPECT_EQ(dag->exit_action(), 9);
  EXPECT_EQ(dag->num_backward_actions(), 9);
  EXPECT_EQ(dag->max_trajectory_length(), 4);
  torch::Tensor s0 = dag->InitialStates(2, torch::kCPU);
  EXPECT_EQ(s0.sizes(), (std::vector<int64_t>{2, 18}));
  EXPECT_FALSE(dag->BackwardMask(s0).any().item<bool>());
  EXPECT_EQ(dag->Describe(s0[0]), "empty");
  torch::Tensor v = dag->StatesFromAdjacency(
      torch::tensor({{0, 1, 0, 0, 0, 0, 0, 1, 0}}, torch::kInt64));
  EXPECT_EQ(dag->Describe(v[0]), "0->1, 2->1");
  torch::Tensor encoded = dag->Encode(v);
  EXPECT_EQ(encoded.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(encoded.equal(v.to(torch::kFloat32)));
}

TEST(DagTest, RegisteredWithCanonicalConfig) {
  auto by_default = MakeEnvironment(*EnvironmentConfig::Parse("dag"));
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  EXPECT_EQ((*by_default)->config().ToString(), "dag:nodes=4");
  auto spelled = MakeEnvironment(*EnvironmentConfig::Parse("dag:nodes=4"));
  ASSERT_TRUE(spelled.ok());
  EXPECT_EQ((*by_default)->config(), (*spelled)->config());
}

TEST(DagTest, BadParametersAreRefusedWithTheirName) {
  for (const std::string text :
       {"dag:nodes=1", "dag:nodes=33", "dag:nodes=x", "dag:node=3"}) {
    auto dag = DagEnvironment::Create(*EnvironmentConfig::Parse(text));
    ASSERT_FALSE(dag.ok()) << text;
    EXPECT_EQ(dag.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(dag.status().message().find("node"), std::string::npos);
  }
}

TEST(DagTest, NamedVariablesPrintByName) {
  auto dag = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:variables=raf;pka;pkc"));
  ASSERT_TRUE(dag.ok()) << dag.status();
  EXPECT_EQ((*dag)->nodes(), 3);
  EXPECT_EQ((*dag)->config().ToString(), "dag:variables=raf;pka;pkc");
  // pka -> raf (1 -> 0) and pkc -> pka (2 -> 1).
  torch::Tensor state = (*dag)->StatesFromAdjacency(
      torch::tensor({{0, 0, 0, 1, 0, 0, 0, 1, 0}}, torch::kInt64));
  EXPECT_EQ((*dag)->Describe(state[0]), "pka->raf, pkc->pka");
  for (const std::string text :
       {"dag:variables=a", "dag:variables=a;a", "dag:variables=a;;b",
        "dag:variables=a;b c", "dag:variables=a;b,nodes=2"}) {
    auto bad = DagEnvironment::Create(*EnvironmentConfig::Parse(text));
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

// With max_parents = 1 every node has at most one parent: the DAGs are the
// rooted forests on d labelled nodes, (d + 1)^(d - 1) of them (125 at d = 4).
TEST(DagTest, MaxParentsBoundsTheInDegree) {
  auto dag = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=4,max_parents=1"));
  ASSERT_TRUE(dag.ok()) << dag.status();
  EXPECT_EQ((*dag)->config().ToString(), "dag:max_parents=1,nodes=4");
  EXPECT_EQ((*dag)->max_trajectory_length(), 3 + 1);
  StateGraphCounts counts = CheckStateGraph(**dag);
  EXPECT_EQ(counts.terminals, 125);
  EXPECT_EQ(counts.states, 125);
  torch::Tensor all = *(*dag)->EnumerateTerminalStates();
  EXPECT_EQ(all.size(0), 125);
  EXPECT_LE(
      all.narrow(1, 0, 16).reshape({-1, 4, 4}).sum(1).max().item<int64_t>(), 1);
  // No limit is spelled one way: max_parents = d - 1 is the default.
  auto unlimited = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=4,max_parents=3"));
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ((*unlimited)->config().ToString(), "dag:nodes=4");
  // Two parents of 20 nodes: trajectories of at most 0 + 1 + 2 * 18 edges.
  auto wide = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=20,max_parents=2"));
  ASSERT_TRUE(wide.ok()) << wide.status();
  EXPECT_EQ((*wide)->max_trajectory_length(), 37 + 1);
  EXPECT_EQ((*wide)->encoding_dim(), 800);
  auto too_many = DagEnvironment::Create(
      *EnvironmentConfig::Parse("dag:nodes=4,max_parents=4"));
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("max_parents"), std::string::npos);
}

}  // namespace
}  // namespace epgfn
