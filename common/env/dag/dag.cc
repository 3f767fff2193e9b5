#include "common/env/dag/dag.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/client_share.h"
#include "common/env/environment_registry.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Enumeration walks all 2^(d(d-1)) off-diagonal patterns: 1M at d = 5; d = 6
// would be 2^30 patterns for 3.8M DAGs, too many for exact evaluation anyway.
constexpr int64_t kMaxEnumeratedNodes = 5;

// Row bit masks of the transitive closure of the d-node graph whose row bit
// masks are `out` (out[i] bit j = edge i -> j); false when it has a cycle.
bool TransitiveClosure(const std::vector<uint32_t>& out,
                       std::vector<uint32_t>* closure) {
  const int64_t d = static_cast<int64_t>(out.size());
  *closure = out;
  // Warshall: after round k, paths through intermediates 0..k are closed.
  for (int64_t k = 0; k < d; ++k) {
    for (int64_t i = 0; i < d; ++i) {
      if ((*closure)[i] >> k & 1) (*closure)[i] |= (*closure)[k];
    }
  }
  for (int64_t i = 0; i < d; ++i) {
    if ((*closure)[i] >> i & 1) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DagEnvironment>> DagEnvironment::Create(
    const EnvironmentConfig& config) {
  RETURN_IF_ERROR(config.params.CheckKeys({"nodes"}));
  ASSIGN_OR_RETURN(const int64_t nodes, config.params.GetInt("nodes", 4, 2, 8));
  EnvironmentConfig canonical{"dag", {}};
  canonical.params.Set("nodes", std::to_string(nodes));
  return std::unique_ptr<DagEnvironment>(
      new DagEnvironment(std::move(canonical), nodes));
}

at::Tensor DagEnvironment::InitialStates(int64_t batch,
                                         c10::Device device) const {
  return torch::zeros({batch, raw_state_dim()},
                      torch::dtype(torch::kInt64).device(device));
}

at::Tensor DagEnvironment::Encode(const at::Tensor& states) const {
  return states.to(torch::kFloat32);
}

at::Tensor DagEnvironment::ForwardMask(const at::Tensor& states) const {
  const int64_t batch = states.size(0);
  const int64_t d = nodes_;
  at::Tensor adjacency = states.narrow(1, 0, d * d).reshape({batch, d, d});
  at::Tensor closure = states.narrow(1, d * d, d * d).reshape({batch, d, d});
  at::Tensor off_diagonal =
      torch::eye(d, torch::dtype(torch::kBool).device(states.device()))
          .logical_not();
  // i -> j closes a cycle iff j reaches i: the transposed closure.
  at::Tensor can_add = (adjacency == 0)
                           .logical_and(closure.transpose(1, 2) == 0)
                           .logical_and(off_diagonal)
                           .reshape({batch, d * d});
  at::Tensor can_exit = torch::ones(
      {batch, 1}, torch::dtype(torch::kBool).device(states.device()));
  return torch::cat({can_add, can_exit}, 1);
}

at::Tensor DagEnvironment::BackwardMask(const at::Tensor& states) const {
  return states.narrow(1, 0, nodes_ * nodes_) != 0;
}

at::Tensor DagEnvironment::Step(const at::Tensor& states,
                                const at::Tensor& actions) const {
  const int64_t batch = states.size(0);
  const int64_t d = nodes_;
  at::Tensor adjacency = states.narrow(1, 0, d * d);
  at::Tensor closure = states.narrow(1, d * d, d * d).reshape({batch, d, d});
  at::Tensor source = torch::div(actions, d, "floor");
  at::Tensor target = torch::remainder(actions, d);
  at::Tensor eye = torch::eye(d, states.options());
  // New paths a -> b are exactly those through the new edge: a reaches i (or
  // is i) and j reaches b (or is j).
  at::Tensor into_source =
      closure.gather(2, source.reshape({batch, 1, 1}).expand({batch, d, 1}))
          .squeeze(2) +
      eye.index_select(0, source);  // [B, d]: column i of C, plus e_i
  at::Tensor from_target =
      closure.gather(1, target.reshape({batch, 1, 1}).expand({batch, 1, d}))
          .squeeze(1) +
      eye.index_select(0, target);  // [B, d]: row j of C, plus e_j
  at::Tensor new_closure =
      torch::max(closure, into_source.unsqueeze(2) * from_target.unsqueeze(1));
  at::Tensor new_adjacency = adjacency + torch::one_hot(actions, d * d);
  return torch::cat({new_adjacency, new_closure.reshape({batch, d * d})}, 1);
}

at::Tensor DagEnvironment::StatesFromAdjacency(
    const at::Tensor& adjacency) const {
  const int64_t batch = adjacency.size(0);
  const int64_t d = nodes_;
  at::Tensor a = adjacency.reshape({batch, d, d}).to(torch::kFloat32);
  // Repeated squaring of reachability: after k rounds, paths of length up to
  // 2^k are covered, and d - 1 is the longest path in a DAG. Float matmul
  // because integer bmm is not available on every device; the entries are
  // small integers, so the result is exact.
  at::Tensor reach = a.clone();
  for (int64_t covered = 1; covered < d - 1; covered *= 2) {
    reach = torch::clamp_max(reach + torch::bmm(reach, reach), 1.0);
  }
  at::Tensor closure = (reach > 0).to(torch::kInt64);
  return torch::cat({adjacency.reshape({batch, d * d}).to(torch::kInt64),
                     closure.reshape({batch, d * d})},
                    1);
}

at::Tensor DagEnvironment::BackwardStep(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  const int64_t d = nodes_;
  // Removing an edge can cut many paths, so the closure is recomputed.
  at::Tensor adjacency =
      states.narrow(1, 0, d * d) - torch::one_hot(backward_actions, d * d);
  return StatesFromAdjacency(adjacency);
}

at::Tensor DagEnvironment::BackwardActionOf(
    const at::Tensor& next_states, const at::Tensor& forward_actions) const {
  return forward_actions;
}

at::Tensor DagEnvironment::ForwardActionOf(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  return backward_actions;
}

absl::StatusOr<at::Tensor> DagEnvironment::EnumerateTerminalStates() const {
  const int64_t d = nodes_;
  if (d > kMaxEnumeratedNodes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DAGs on ", d, " nodes are too many to enumerate (at most ",
        kMaxEnumeratedNodes, " nodes)"));
  }
  // Off-diagonal positions, in row-major order.
  std::vector<std::pair<int64_t, int64_t>> positions;
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = 0; j < d; ++j) {
      if (i != j) positions.emplace_back(i, j);
    }
  }
  const int64_t patterns = int64_t{1} << positions.size();
  std::vector<int64_t> flat;
  std::vector<uint32_t> out(d);
  std::vector<uint32_t> closure;
  for (int64_t pattern = 0; pattern < patterns; ++pattern) {
    std::fill(out.begin(), out.end(), 0);
    for (size_t k = 0; k < positions.size(); ++k) {
      if (pattern >> k & 1) {
        out[positions[k].first] |= uint32_t{1} << positions[k].second;
      }
    }
    if (!TransitiveClosure(out, &closure)) continue;
    for (int64_t i = 0; i < d; ++i) {
      for (int64_t j = 0; j < d; ++j) flat.push_back(out[i] >> j & 1);
    }
    for (int64_t i = 0; i < d; ++i) {
      for (int64_t j = 0; j < d; ++j) flat.push_back(closure[i] >> j & 1);
    }
  }
  const int64_t rows = static_cast<int64_t>(flat.size()) / raw_state_dim();
  return torch::from_blob(flat.data(), {rows, raw_state_dim()}, torch::kInt64)
      .clone();
}

std::string DagEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = state.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t* values = cpu.data_ptr<int64_t>();
  std::vector<std::string> edges;
  for (int64_t i = 0; i < nodes_; ++i) {
    for (int64_t j = 0; j < nodes_; ++j) {
      if (values[i * nodes_ + j] != 0)
        edges.push_back(absl::StrCat(i, "->", j));
    }
  }
  return edges.empty() ? "empty" : absl::StrJoin(edges, ", ");
}

namespace {

// The edge-penalty prior, log prior(G) = -penalty |E|.
class EdgePenaltyPrior : public LogReward {
 public:
  EdgePenaltyPrior(int64_t nodes, double penalty)
      : nodes_(nodes), penalty_(penalty) {}
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    return -penalty_ *
           states.narrow(1, 0, nodes_ * nodes_).sum(1).to(torch::kFloat64);
  }
  std::string Describe() const override {
    return absl::StrCat("edge penalty ", penalty_);
  }

 private:
  int64_t nodes_;
  double penalty_;
};

// log BGe(D | G) = sum_j local[j, Pa_j], with every local score precomputed
// in `local_scores` [d, 2^d] float64.
class BGeReward : public LogReward {
 public:
  BGeReward(int64_t nodes, at::Tensor local_scores, std::string description)
      : nodes_(nodes),
        local_scores_(std::move(local_scores)),
        description_(std::move(description)) {}

  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    const int64_t batch = states.size(0);
    const int64_t d = nodes_;
    at::Tensor adjacency = states.narrow(1, 0, d * d).reshape({batch, d, d});
    at::Tensor bits = torch::pow(
        2,
        torch::arange(d, torch::dtype(torch::kInt64).device(states.device())));
    // parents[b, j] = sum_i A[b, i, j] 2^i, the parent-set index of node j.
    at::Tensor parents = (adjacency * bits.view({1, d, 1})).sum(1);
    at::Tensor table = local_scores_.to(states.device());
    at::Tensor local = table.unsqueeze(0)
                           .expand({batch, d, table.size(1)})
                           .gather(2, parents.unsqueeze(2))
                           .squeeze(2);  // [B, d]
    return local.sum(1);
  }
  std::string Describe() const override { return description_; }

 private:
  int64_t nodes_;
  at::Tensor local_scores_;  // [d, 2^d] float64, CPU
  std::string description_;
};

}  // namespace

absl::StatusOr<RewardParts> MakeDagReward(const DagEnvironment& environment,
                                          const RewardConfig& config) {
  if (config.kind != "bge") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown dag reward kind '", config.kind, "'; expected 'bge'"));
  }
  const ParamMap& params = config.params;
  const int64_t d = environment.nodes();
  constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();
  RETURN_IF_ERROR(params.CheckKeys(
      {"data", "synthetic", "samples", "edge_prob", "data_seed", "alpha_mu",
       "alpha_w", "prior", "edge_penalty", "index", "count", "split", "seed"}));
  ASSIGN_OR_RETURN(const int64_t synthetic,
                   params.GetInt("synthetic", 0, 0, 1));
  const std::string path = params.GetString("data", "");
  Dataset data;
  std::string source;
  if (synthetic == 1) {
    if (!path.empty()) {
      return absl::InvalidArgumentError(
          "dag reward: give either data=PATH or synthetic=1, not both");
    }
    ASSIGN_OR_RETURN(const int64_t samples,
                     params.GetInt("samples", 100, 2, 10'000'000));
    ASSIGN_OR_RETURN(const double edge_prob,
                     params.GetDouble("edge_prob", 0.5, 0.0, 1.0));
    ASSIGN_OR_RETURN(const int64_t data_seed,
                     params.GetInt("data_seed", 0, 0, kMaxSeed));
    ASSIGN_OR_RETURN(
        LinearGaussianNetwork network,
        SampleLinearGaussianNetwork(d, edge_prob, samples, data_seed));
    data = std::move(network.data);
    source = absl::StrCat("synthetic data (", samples, " rows, edge_prob ",
                          edge_prob, ", data_seed ", data_seed, ")");
  } else {
    for (const char* key : {"samples", "edge_prob", "data_seed"}) {
      if (params.Has(key)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "dag reward: ", key, " applies only with synthetic=1"));
      }
    }
    if (path.empty()) {
      return absl::InvalidArgumentError(
          "dag reward needs a data source: data=PATH (CSV) or synthetic=1");
    }
    ASSIGN_OR_RETURN(data, ReadCsv(path));
    if (data.columns() != d) {
      return absl::InvalidArgumentError(
          absl::StrCat("data ", path, " has ", data.columns(),
                       " columns but the environment has ", d, " nodes"));
    }
    source = absl::StrCat("data ", path, " (", data.rows, " rows)");
  }

  ASSIGN_OR_RETURN(const ClientShare client_share, ReadClientShare(params));
  const int64_t index = client_share.index;
  const int64_t count = client_share.count;
  const std::string split = params.GetString("split", "contiguous");
  ASSIGN_OR_RETURN(const int64_t seed, ReadRewardSeed(params));
  ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                   ClientRows(data.rows, index, count, split, seed));
  const Dataset share = data.Subset(rows);

  ASSIGN_OR_RETURN(const double alpha_mu,
                   params.GetDouble("alpha_mu", 1.0, 1e-12, 1e12));
  ASSIGN_OR_RETURN(const double alpha_w,
                   params.GetDouble("alpha_w", static_cast<double>(d) + 2.0,
                                    static_cast<double>(d) + 1.0, 1e12));
  ASSIGN_OR_RETURN(BGeScore score, BGeScore::Create(share, alpha_mu, alpha_w));

  const std::string prior = params.GetString("prior", "uniform");
  RewardParts parts;
  if (prior == "edges") {
    ASSIGN_OR_RETURN(const double penalty,
                     params.GetDouble("edge_penalty", 1.0, 0.0, 1e6));
    parts.log_prior = std::make_unique<EdgePenaltyPrior>(d, penalty);
  } else if (prior != "uniform") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown prior '", prior, "'; expected 'uniform' or 'edges'"));
  } else if (params.Has("edge_penalty")) {
    return absl::InvalidArgumentError(
        "edge_penalty applies only with prior=edges");
  }

  at::Tensor table = torch::tensor(score.local_scores(), torch::kFloat64)
                         .view({d, int64_t{1} << d})
                         .clone();
  parts.log_likelihood = std::make_unique<BGeReward>(
      d, std::move(table),
      absl::StrCat("dag BGe likelihood, client ", index, " of ", count, " (",
                   share.rows, " of ", data.rows, " rows of ", source, ", ",
                   split, " split; prior ", prior, ")"));
  return parts;
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "dag",
    TypedEnvironmentFactory<DagEnvironment>(
        "dag:nodes=d (2..8). Rewards: bge:data=PATH|synthetic=1[,samples,"
        "edge_prob,data_seed,alpha_mu,alpha_w,prior=uniform|edges,edge_penalty,"
        "index,count,split=contiguous|random,seed,temperature]",
        &MakeDagReward));

}  // namespace
}  // namespace epgfn
