#ifndef EPGFN_COMMON_ENV_DAG_DAG_H_
#define EPGFN_COMMON_ENV_DAG_DAG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/dag/bge.h"
#include "common/env/dag/bge_statistics.h"
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
// Encoding: adjacency and closure as float, 2 d^2 wide (data-free: the
// server evaluates policies on it without any rows).
//
// Parameters (exactly one of nodes and variables):
//  - variables=raf;mek;...  the variables by name (2..32 of them, distinct;
//                            letters, digits, '_', '.', '-'): each client's
//                            data file is matched to them by column name,
//                            and objects print as "raf->mek, pkc->pka";
//  - nodes=d                 (2..32, default 4) unnamed variables x0..x{d-1}
//                            for synthetic data (a data file is then read by
//                            position and must have exactly d columns);
//  - max_parents=k           (0..d-1, default d-1 = no limit) the maximum
//                            in-degree: adding i -> j is allowed only while
//                            j has fewer than k parents, so only DAGs with at
//                            most k parents per node are built. The BGe
//                            reward then tabulates sum_{s<=k} C(d, s) parent
//                            sets per node instead of 2^(d-1) (20 variables,
//                            k = 4: 6,196 instead of 524,288). Being part of
//                            the environment, it is in the federation spec,
//                            so the server and every client agree on it.
class DagEnvironment : public Environment {
 public:
  static absl::StatusOr<std::unique_ptr<DagEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t nodes() const { return nodes_; }
  int64_t max_parents() const { return max_parents_; }
  // The variable names (empty for nodes=d).
  const std::vector<std::string>& variables() const { return variables_; }
  // The name of node i: variables()[i], or "i" when unnamed.
  std::string NodeName(int64_t node) const;

  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return 2 * nodes_ * nodes_; }
  int64_t encoding_dim() const override { return 2 * nodes_ * nodes_; }
  int64_t num_forward_actions() const override { return nodes_ * nodes_ + 1; }
  int64_t num_backward_actions() const override { return nodes_ * nodes_; }
  // A DAG has at most sum_p min(p, max_parents) edges (node p of a
  // topological order has at most p parents), plus the exit.
  int64_t max_trajectory_length() const override;

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
  // Every labelled DAG with at most max_parents parents per node (d = 4:
  // 543, d = 5: 29281 without a limit); FailedPrecondition for d > 5 (d = 6
  // already has 3.8 million).
  absl::StatusOr<at::Tensor> EnumerateTerminalStates() const override;
  // The edges in row-major order, by name where the variables have names
  // ("pka->raf, pkc->pka"), else by index ("0->1, 2->1"); "empty" for none.
  std::string Describe(const at::Tensor& state) const override;

  // Raw states [B, 2 d^2] for adjacency matrices [B, d, d] (or [B, d^2]):
  // appends the transitive closure. The input must be acyclic.
  at::Tensor StatesFromAdjacency(const at::Tensor& adjacency) const;

 private:
  DagEnvironment(EnvironmentConfig config, std::vector<std::string> variables,
                 int64_t nodes, int64_t max_parents)
      : config_(std::move(config)),
        variables_(std::move(variables)),
        nodes_(nodes),
        max_parents_(max_parents) {}

  EnvironmentConfig config_;
  std::vector<std::string> variables_;
  int64_t nodes_;
  int64_t max_parents_;
};

// Reward kind "bge": a client's reward R_i(G) = prior(G)^(1/N) BGe(D_i | G)
// in the registry's two parts (environment_registry.h), where D_i are the
// client's own rows (see bge.h for the score and its hyper-parameters):
//   log_prior(G)      = -edge_penalty |E| with prior=edges (none for the
//                       uniform prior, the default); the registry divides it
//                       by the number of clients N of the federation and
//                       applies any temperature;
//   log_likelihood(G) = log BGe(D_i | G) = sum_j LocalScore(j, Pa_j), every
//                       local score precomputed in double precision for the
//                       parent sets the environment's max_parents allows, so
//                       a batch costs one gather and a sum. LogRewardFloat64
//                       returns these sums in double (log-rewards near -6000
//                       keep ~1e-12 relative precision; float32 would round
//                       them to ~5e-4).
// Parameters:
//  - data source, exactly one of
//      data=PATH             the client's own CSV or TSV file with a header
//                            (detected; data.h). With named variables its
//                            columns are matched by name in any order (extra
//                            columns are ignored, with a log line); with
//                            nodes=d it must have exactly d columns, read in
//                            order. Only the client opens it: the
//                            environment (what the server builds) never
//                            does;
//      synthetic=1           SampleLinearGaussianNetwork(d, edge_prob
//                            (default 0.5), samples (default 100), data_seed
//                            (default 0)) from data.h;
//  - standardize (0 default, or 1): centre and scale every variable to unit
//    sample variance over the client's own rows (after any index/count
//    split) before scoring; BGe's default prior expects unit scale, so raw
//    measurements such as the Sachs concentrations want it;
//  - alpha_mu (default 1), alpha_w (default d + 2): BGe hyper-parameters;
//  - prior: "uniform" (default) or "edges" (edge_penalty default 1);
//  - experiment binaries only: index (default 0), count (default 1), split
//    ("contiguous", default, or "random" with `seed`): use share `index` of
//    `count` of the file's rows, for splitting one file in process. A
//    deployed client names its own file and leaves them out.
//  - given=PATH: a streaming block (common/train/streaming_update.h). PATH
//    holds the BGe statistics of all the client's earlier blocks
//    (DagStreamStatistics, bge_statistics.h), and the likelihood is the
//    conditional BGe score log p(D_new | D_earlier, G) (BGeScore::
//    CreateConditional), so that the first block's reward plus every later
//    block's likelihood is exactly log prior(G) + log BGe(all rows | G).
//    The columns must match; not with standardize=1.
// BGe integrates the parameters out, so the product of the client rewards,
// prior(G) prod_i BGe(D_i | G), is not the full-data posterior
// prior(G) BGe(D | G) (see bge.h); federated training targets the product.
absl::StatusOr<RewardParts> MakeDagReward(const DagEnvironment& environment,
                                          const RewardConfig& config);

// The BGe statistics of all the data a streaming block's reward `config`
// (a dag reward as above, without federation-level parameters such as
// `temperature`) stands for: its own rows, merged with its `given`
// statistics when it names them. Written next to a block's model
// (WriteBgeStatistics), it is what the next block names as `given`.
// InvalidArgument as MakeDagReward, and with standardize=1.
absl::StatusOr<BgeSufficientStatistics> DagStreamStatistics(
    const DagEnvironment& environment, const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_DAG_H_
