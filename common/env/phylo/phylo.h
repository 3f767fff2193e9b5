#ifndef EPGFN_COMMON_ENV_PHYLO_PHYLO_H_
#define EPGFN_COMMON_ENV_PHYLO_PHYLO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/environment.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// Rooted binary tree topologies over n taxa (2 <= n <= 64), built bottom-up:
// s0 is the forest of n single leaves and each forward action merges two
// current roots under a new internal node, so n - 1 merges make a tree, and
// exit is allowed exactly then (and is the only action then).
//
// Raw state [B, n - 1] int64: the clades (leaf bitmasks, bit k = taxon k) of
// the internal nodes built so far, sorted in decreasing order and padded
// with 0. The 64 bits are compared as unsigned (uint64_t): with 64 taxa bit
// 63 is a leaf, not a sign; below 64 taxa the two orders coincide. A state is
// thus the set of clades, so merge orders that build the same forest meet in
// the same state (a DAG). Every root is named by its anchor, its smallest leaf.
//  - Forward action for the pair of anchors (a, b), a < b:
//    a * (2n - a - 1) / 2 + (b - a - 1), i.e. the lexicographic index among
//    the n(n-1)/2 pairs; then exit.
//  - Backward action k (n of them): remove the root whose anchor is k (it
//    must be an internal node), splitting it back into its two children.
// Encoding [B, n(n-1)/2 + n]: for each leaf pair, the size of the smallest
// clade holding both (0 in different trees), then each leaf's root size,
// all divided by n; the pair sizes determine every clade, so the encoding
// identifies the state.
//
// The encoding reads the state only, never data: the server evaluates every
// local model on its own trajectories without any alignment.
//
// Parameters (names only; the environment never opens a file):
//  - taxa: the taxa, separated by ';' (e.g. taxa=Homo_sapiens;Pan), or
//    num_taxa=k for synthetic names t1..tk (4 by default).
//  - alignment/sites are refused with a message pointing to the reward's
//    alignment=PATH: each client names its own file there.
// The canonical config always spells the taxa out.
class PhyloEnvironment : public Environment {
 public:
  static constexpr int64_t kMaxTaxa = 64;
  // EnumerateTerminalStates refuses above this many taxa ((2n-3)!! trees:
  // 135135 at 8, 2027025 at 9).
  static constexpr int64_t kMaxEnumeratedTaxa = 8;

  static absl::StatusOr<std::unique_ptr<PhyloEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t num_taxa() const { return n_; }
  const std::vector<std::string>& taxa() const { return taxa_; }

  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return n_ - 1; }
  int64_t encoding_dim() const override { return n_ * (n_ - 1) / 2 + n_; }
  int64_t num_forward_actions() const override { return n_ * (n_ - 1) / 2 + 1; }
  int64_t num_backward_actions() const override { return n_; }
  int64_t max_trajectory_length() const override { return n_; }

  // Index of the merge of the roots anchored at a and b (a < b).
  int64_t PairAction(int64_t a, int64_t b) const {
    return a * (2 * n_ - a - 1) / 2 + (b - a - 1);
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
  absl::StatusOr<at::Tensor> EnumerateTerminalStates() const override;
  // Newick with taxon names, children ordered by their smallest taxon index,
  // e.g. "((Homo_sapiens,Pan),Gorilla);". A forest prints each tree in
  // anchor order, separated by spaces.
  std::string Describe(const at::Tensor& state) const override;

  // For the terminal states [B, n - 1]: [B, n - 1] int64 left and right
  // child node indices of each internal node, in the node order of
  // likelihood.h (internal nodes by increasing clade size).
  void TreeChildren(const at::Tensor& states, at::Tensor* left,
                    at::Tensor* right) const;

  // The clades (leaf bitmasks, bit k = taxon k) of one state [n - 1].
  std::vector<uint64_t> Clades(const at::Tensor& state) const;
  // The state [n - 1] int64 holding exactly `clades`, in any order: they
  // must be distinct sets of >= 2 taxa, nested or disjoint, each splitting
  // into exactly two parts (child clades or single taxa). n - 1 clades make
  // a terminal state (the root is then the set of all taxa).
  absl::StatusOr<at::Tensor> StateFromClades(
      const std::vector<uint64_t>& clades) const;
  // The terminal state of a rooted binary Newick tree over exactly this
  // environment's taxa, by name, e.g. "((Homo_sapiens:0.1,Pan),Gorilla);"
  // (branch lengths, internal labels and 'quoted names' allowed; lengths
  // and labels ignored). Inverse of Describe on terminal states.
  absl::StatusOr<at::Tensor> TerminalStateFromNewick(
      absl::string_view newick) const;

 private:
  PhyloEnvironment(EnvironmentConfig config, std::vector<std::string> taxa);

  EnvironmentConfig config_;
  int64_t n_;
  std::vector<std::string> taxa_;
  std::vector<int64_t> pair_first_;   // anchor a of each pair action
  std::vector<int64_t> pair_second_;  // anchor b of each pair action
};

// log((2n - 3)!!), the number of rooted binary topologies on n taxa.
double LogNumRootedTopologies(int64_t n);

// The alignment columns client `index` of `count` holds: contiguous blocks,
// or a seeded random partition ("random"). The clients' sets partition
// 0..num_sites-1. Only for experiment binaries that split one file; a
// deployed client names its own file.
absl::StatusOr<std::vector<int64_t>> ClientSites(int64_t num_sites,
                                                 int64_t index, int64_t count,
                                                 const std::string& split,
                                                 int64_t seed);

// Reward kinds (terminal states only). Each names the client's own file:
// alignment=PATH (NEXUS, FASTA, relaxed PHYLIP or BEAST XML, gzipped or not;
// client_alignment.h matches its rows to the taxa by name; a taxon the file
// lacks is missing data for this client).
//  - "jc69" (alignment, branch_length = 0.1): log_likelihood = the
//    Jukes-Cantor log-likelihood with every branch of length branch_length
//    (Felsenstein pruning, uniform root).
//  - "parsimony" (alignment, lambda = 1): log_likelihood = -lambda x the
//    Fitch score.
//  In both log_prior is the uniform prior over topologies; the registry
//  composes (log_prior / num_clients + log_likelihood) / temperature, so the
//  product over clients is the (tempered) full-data posterior.
//  Both take compress (1, the default: identical columns are folded into
//  one weighted site pattern; 0: every site on its own, for benchmarks) and,
//  for experiment binaries that split one file, index, count,
//  split = contiguous|random and seed (ClientSites).
absl::StatusOr<RewardParts> MakePhyloReward(const PhyloEnvironment& environment,
                                            const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_PHYLO_H_
