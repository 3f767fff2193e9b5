#ifndef EPGFN_COMMON_EVAL_PHYLO_TREE_MCMC_H_
#define EPGFN_COMMON_EVAL_PHYLO_TREE_MCMC_H_

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/eval/phylo/rooted_tree.h"
#include "common/eval/phylo/splits.h"

namespace epgfn {

// Metropolis-Hastings over rooted binary topologies targeting
//   pi(T) proportional to exp(log R(T))
// for the SAME LogReward object the phylo environment's GFlowNet is trained
// on (the uniform topology prior is part of log R there), so the chains are
// an independent reference for the GFlowNet's target.
//
// Proposals (each step draws NNI with probability nni_probability, else
// SPR; a mixture of symmetric kernels with fixed weights is symmetric):
//  - Rooted NNI: an internal non-root node u uniformly among the n - 2, then
//    one of u's two children uniformly, which swaps places with u's sibling.
//    The result differs from T in one clade (u's), so distinct choices give
//    distinct trees; the reverse move picks the new node u' (same n - 2
//    choices) and its child that came from u: q(T -> T') = 1 / (2(n-2)) =
//    q(T' -> T).
//  - Rooted SPR: a subtree x uniformly among the 2n - 2 non-root nodes is
//    pruned with its parent, leaving a tree R on the other n - |x| taxa with
//    m = 2(n - |x|) - 1 nodes; x is regrafted on the edge above a node y of
//    R chosen uniformly among the m - 1 other than x's old sibling s (the
//    root edge included). In T', x is intact and pruning it leaves the same
//    R, so the reverse move is (x, s) with the same probability
//    1 / ((2n - 2)(m - 1)); distinct (x, y) map to distinct reverses, so
//    summed over all routes q(T -> T') = q(T' -> T). When m = 1 (|x| =
//    n - 1) the step proposes T itself.
// Both kernels are symmetric, so the Hastings ratio is 1 and a move is
// accepted with probability min(1, R(T') / R(T)). Rooted NNI alone already
// connects every rooted topology (the rotation graph is connected), so the
// chain is irreducible; the tests check it visits all 945 trees on 6 taxa.
//
// Batching: LogReward is a batched call, and a chain's proposals from its
// current tree are independent draws from q(T, .). So each round draws up to
// max_batch proposals per chain from its current tree, scores the proposals
// of all chains in one reward call, and uses them in order: rejected ones
// are MH steps that keep T, and at the first acceptance the rest are
// discarded unused. This is exactly the sequential chain (the unused draws
// never influence it); the batch size follows the acceptance rate (about
// 1 / rate) so few evaluations are wasted.
struct TreeMcmcOptions {
  int num_chains = 2;
  uint64_t seed = 0;
  double nni_probability = 0.5;
  int64_t sample_every = 1;  // keep the current tree every this many steps
  int64_t max_batch = 32;    // proposals per chain per reward call

  absl::Status Validate() const;
};

struct ChainStats {
  int64_t steps = 0;
  int64_t accepted = 0;
  int64_t evaluated = 0;         // proposals scored (including discarded ones)
  double log_reward = 0.0;       // of the current tree
  double best_log_reward = 0.0;  // best tree the chain has been in
  std::vector<Clade> best_tree;
};

class TreeMcmc {
 public:
  // `reward` must outlive the sampler. Chains start from independent
  // uniformly random topologies (over-dispersed starts, as MrBayes' default
  // random starting trees, so the ASDSF sees chains that have not mixed).
  static absl::StatusOr<std::unique_ptr<TreeMcmc>> Create(
      int num_taxa, const LogReward* reward, const TreeMcmcOptions& options);

  // Advances every chain by `steps` Metropolis-Hastings steps.
  absl::Status Run(int64_t steps);

  int num_taxa() const { return n_; }
  int num_chains() const { return static_cast<int>(chains_.size()); }
  int64_t reward_calls() const { return reward_calls_; }
  const ChainStats& stats(int chain) const { return chains_[chain].stats; }
  // The trees kept by chain `chain` (internal clades, decreasing), in order.
  const std::vector<std::vector<Clade>>& samples(int chain) const {
    return chains_[chain].samples;
  }
  // Clade frequencies of one chain's samples after dropping the first
  // floor(burn_in_fraction * count); of all chains pooled (chain = -1).
  CladeFrequencies Frequencies(int chain, double burn_in_fraction) const;
  // ASDSF over the chains' post-burn-in samples.
  absl::StatusOr<Asdsf> AsdsfAfterBurnIn(double burn_in_fraction,
                                         double min_frequency = 0.1) const;

 private:
  struct Proposal {
    RootedTree tree;
    bool same = false;  // the move left the topology unchanged
  };
  struct Chain {
    std::mt19937_64 rng;
    RootedTree tree;
    std::vector<Clade> clades;  // of tree
    ChainStats stats;
    std::vector<std::vector<Clade>> samples;
  };
  TreeMcmc(int num_taxa, const LogReward* reward, TreeMcmcOptions options)
      : n_(num_taxa), reward_(reward), options_(options) {}

  Proposal Propose(Chain& chain) const;
  int64_t BatchSize(const Chain& chain) const;
  // The one place the reward is evaluated: float32 today; the float64 path
  // of LogReward (when main has it) belongs here.
  absl::StatusOr<std::vector<double>> LogRewards(
      const std::vector<std::vector<Clade>>& trees);
  void Record(Chain& chain) const;

  int n_;
  const LogReward* reward_;
  TreeMcmcOptions options_;
  std::vector<Chain> chains_;
  int64_t reward_calls_ = 0;
};

// Runs the chains until the ASDSF of their post-burn-in samples is at most
// target_asdsf (MrBayes' usual 0.01), checking every check_every steps per
// chain, or until max_steps per chain or max_seconds.
struct ConvergenceOptions {
  double target_asdsf = 0.01;
  double min_frequency = 0.1;
  double burn_in_fraction = 0.25;  // MrBayes' default relburnin
  int64_t check_every = 1000;      // steps per chain between checks
  int64_t min_samples = 100;       // post-burn-in samples per chain
  int64_t max_steps = 1000000;     // per chain
  double max_seconds = 600.0;
};
struct ConvergencePoint {
  int64_t steps = 0;  // per chain
  double seconds = 0.0;
  Asdsf asdsf;
};
struct ConvergenceReport {
  bool converged = false;
  std::vector<ConvergencePoint> trace;  // one point per check; last = final
};
absl::StatusOr<ConvergenceReport> RunUntilConverged(
    TreeMcmc& mcmc, const ConvergenceOptions& options);

}  // namespace epgfn

#endif  // EPGFN_COMMON_EVAL_PHYLO_TREE_MCMC_H_
