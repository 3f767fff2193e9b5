#include "common/env/dag/dag.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Enumeration walks all 2^(d(d-1)) off-diagonal patterns: 1M at d = 5; d = 6
// would be 2^30 patterns for 3.8M DAGs, too many for exact evaluation anyway.
constexpr int64_t kMaxEnumeratedNodes = 5;
// Masks and BGe tables are indexed with 64-bit parent masks; the encoding
// (2 d^2 floats) and the action space (d^2 + 1) stay small up to here.
constexpr int64_t kMaxNodes = 32;

bool IsNameCharacter(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '.' || c == '-';
}

// "raf;mek;..." -> the names, checked: 2..kMaxNodes distinct, non-empty
// names of letters, digits, '_', '.' and '-' (so that "a->b" stays
// unambiguous and the names survive every config and log format).
absl::StatusOr<std::vector<std::string>> ParseVariables(
    const std::string& text) {
  std::vector<std::string> names = absl::StrSplit(text, ';');
  if (names.size() < 2 || static_cast<int64_t>(names.size()) > kMaxNodes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dag: variables= needs 2 to ", kMaxNodes,
        " names separated by ';', got ", names.size(), " in '", text, "'"));
  }
  absl::flat_hash_set<std::string> seen;
  for (size_t k = 0; k < names.size(); ++k) {
    const std::string& name = names[k];
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), IsNameCharacter) ||
        absl::StrContains(name, "->")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dag: variable ", k + 1, " '", name,
          "' must be a non-empty name of letters, digits, '_', '.', '-'"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("dag: variable '", name, "' is named twice"));
    }
  }
  return names;
}

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
  const ParamMap& params = config.params;
  RETURN_IF_ERROR(params.CheckKeys({"nodes", "variables", "max_parents"}));
  std::vector<std::string> variables;
  int64_t nodes = 0;
  if (params.Has("variables")) {
    if (params.Has("nodes")) {
      return absl::InvalidArgumentError(
          "dag: give either variables=a;b;... or nodes=d, not both");
    }
    ASSIGN_OR_RETURN(variables,
                     ParseVariables(params.GetString("variables", "")));
    nodes = static_cast<int64_t>(variables.size());
  } else {
    ASSIGN_OR_RETURN(nodes, params.GetInt("nodes", 4, 2, kMaxNodes));
  }
  ASSIGN_OR_RETURN(const int64_t max_parents,
                   params.GetInt("max_parents", nodes - 1, 0, nodes - 1));
  EnvironmentConfig canonical{"dag", {}};
  if (variables.empty()) {
    canonical.params.Set("nodes", std::to_string(nodes));
  } else {
    canonical.params.Set("variables", absl::StrJoin(variables, ";"));
  }
  // No limit is spelled one way only, so that equal graphs digest equally.
  if (max_parents < nodes - 1) {
    canonical.params.Set("max_parents", std::to_string(max_parents));
  }
  return std::unique_ptr<DagEnvironment>(new DagEnvironment(
      std::move(canonical), std::move(variables), nodes, max_parents));
}

std::string DagEnvironment::NodeName(int64_t node) const {
  return variables_.empty() ? std::to_string(node) : variables_[node];
}

int64_t DagEnvironment::max_trajectory_length() const {
  int64_t edges = 0;
  for (int64_t p = 0; p < nodes_; ++p) edges += std::min(p, max_parents_);
  return edges + 1;
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
                           .logical_and(off_diagonal);
  if (max_parents_ < d - 1) {
    // j may gain a parent only while it has fewer than max_parents.
    at::Tensor in_degree = adjacency.sum(1);  // [B, d], column sums
    can_add = can_add.logical_and((in_degree < max_parents_).unsqueeze(1));
  }
  can_add = can_add.reshape({batch, d * d});
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
    bool within_in_degree = true;
    for (int64_t j = 0; j < d && within_in_degree; ++j) {
      int64_t parents = 0;
      for (int64_t i = 0; i < d; ++i) parents += out[i] >> j & 1;
      within_in_degree = parents <= max_parents_;
    }
    if (!within_in_degree) continue;
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
      if (values[i * nodes_ + j] != 0) {
        edges.push_back(absl::StrCat(NodeName(i), "->", NodeName(j)));
      }
    }
  }
  return edges.empty() ? "empty" : absl::StrJoin(edges, ", ");
}

}  // namespace epgfn
