#ifndef EPGFN_COMMON_ENV_DAG_DAG_H_
#define EPGFN_COMMON_ENV_DAG_DAG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/dag/bge.h"
#include "common/env/dag/data.h"
#include "common/env/environment.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// Bayesian network structures: directed acyclic graphs on d labelled nodes,
// built from the empty graph (s0) by adding one edge at a time without ever
// closing a cycle (Deleu et al. 2022, "Bayesian structure learning with
// generative flow networks"). Every DAG is a terminal state: exit is allowed
// everywhere, the empty graph included.
//
// Raw state [B, 2 d^2] int64: the adjacency matrix (A[i][j] = 1 iff i -> j,
// row-major at i * d + j) followed by its transitive closure (C[i][j] = 1 iff
// a directed path of length >= 1 leads from i to j). The closure is a function
// of the adjacency, so states stay canonical; it is kept to make the mask a
// lookup: adding i -> j closes a cycle exactly when j already reaches i.
// Forward action i * d + j adds i -> j (allowed iff i != j, the edge is absent
// and C[j][i] = 0); action d^2 is exit. Backward action i * d + j removes
// i -> j (allowed iff present); both directions use the same index.
// Encoding: adjacency and closure as float, 2 d^2 wide.
// Parameters: nodes (d, 2..8, default 4).
class DagEnvironment : public Environment {
 public:
  static absl::StatusOr<std::unique_ptr<DagEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t nodes() const { return nodes_; }

  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return 2 * nodes_ * nodes_; }
  int64_t encoding_dim() const override { return 2 * nodes_ * nodes_; }
  int64_t num_forward_actions() const override { return nodes_ * nodes_ + 1; }
  int64_t num_backward_actions() const override { return nodes_ * nodes_; }
  // A DAG has at most d(d-1)/2 edges, plus the exit.
  int64_t max_trajectory_length() const override {
    return nodes_ * (nodes_ - 1) / 2 + 1;
  }

  at::Tensor InitialStates(int64_t batch, c10::Device device) const override;
  at::Tensor Encode(const at::Tensor& states) const override;
  at::Tensor ForwardMask(const at::Tensor& states) const override;
  at::Tensor BackwardMask(const at::Tensor& states) const override;
  at::Tensor Step(const at::Tensor& states,
                  const at::Tensor& actions) const override;
  at::Tensor BackwardStep(const at::Tensor& states,
                          const at::Tensor& backward_actions) const override;
  at::Tensor BackwardActionOf(const at::Tensor& next_states,
                              const at::Tensor& forward_actions) const override;
  at::Tensor ForwardActionOf(const at::Tensor& states,
                             const at::Tensor& backward_actions) const override;
  // Every labelled DAG (d = 4: 543, d = 5: 29281); FailedPrecondition for
  // d > 5 (d = 6 already has 3.8 million).
  absl::StatusOr<at::Tensor> EnumerateTerminalStates() const override;
  // The edges in row-major order, e.g. "0->1, 2->1"; "empty" for none.
  std::string Describe(const at::Tensor& state) const override;

  // Raw states [B, 2 d^2] for adjacency matrices [B, d, d] (or [B, d^2]):
  // appends the transitive closure. The input must be acyclic.
  at::Tensor StatesFromAdjacency(const at::Tensor& adjacency) const;

 private:
  DagEnvironment(EnvironmentConfig config, int64_t nodes)
      : config_(std::move(config)), nodes_(nodes) {}

  EnvironmentConfig config_;
  int64_t nodes_;
};

// Reward kind "bge": log R(G) = (log prior(G) / N + log BGe(D_i | G)) /
// temperature, where D_i is client `index`'s share of the data (see bge.h for
// the score and its hyper-parameters). Parameters:
//  - data source, exactly one of
//      data=PATH             a CSV with a header and d numeric columns, or
//      synthetic=1           SampleLinearGaussianNetwork(d, edge_prob
//                            (default 0.5), samples (default 100), data_seed
//                            (default 0)) from data.h;
//  - alpha_mu (default 1), alpha_w (default d + 2): BGe hyper-parameters;
//  - prior: "uniform" (default) or "edges" (log prior = -edge_penalty |E|,
//    edge_penalty default 1);
//  - federation: index (default 0), count (default 1), split ("contiguous",
//    default: client i gets rows [i N / count, (i + 1) N / count); or
//    "random": the same after a permutation drawn from `seed`, default 0).
//    Each client's share of the prior is prior^(1/count), so the product of
//    the client rewards is prior(G) prod_i BGe(D_i | G) -- which, because
//    BGe integrates the parameters out, is not the full-data posterior
//    prior(G) BGe(D | G) (see bge.h);
//  - temperature (default 1): divides the log reward, flattening a posterior
//    too peaked to be an interesting test target.
// The full-data reward is count=1. All local scores (d 2^(d-1) parent sets)
// are precomputed, so a batch costs one gather and a sum.
absl::StatusOr<RewardParts> MakeDagReward(const DagEnvironment& environment,
                                          const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_DAG_H_
