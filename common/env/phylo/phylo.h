#ifndef EPGFN_COMMON_ENV_PHYLO_PHYLO_H_
#define EPGFN_COMMON_ENV_PHYLO_PHYLO_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// Rooted binary tree topologies over n taxa (2 <= n <= 16), built bottom-up:
// s0 is the forest of n single leaves and each forward action merges two
// current roots under a new internal node, so n - 1 merges make a tree, and
// exit is allowed exactly then (and is the only action then).
//
// Raw state [B, n - 1] int64: the clades (leaf bitmasks, bit k = taxon k) of
// the internal nodes built so far, sorted in decreasing order and padded
// with 0. A state is thus the set of clades, so merge orders that build the
// same forest meet in the same state (a DAG). Every root is named by its
// anchor, its smallest leaf.
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
// Parameters:
//  - alignment: path to a NEXUS or FASTA DNA alignment (optional; without it
//    the graph exists but the rewards cannot be built).
//  - taxa: the taxa to use, separated by ';' (e.g. taxa=Homo_sapiens;Pan),
//    or num_taxa=k for the first k taxa of the alignment (all by default).
//    Without an alignment, num_taxa gives synthetic names t1..tk.
//  - sites: optional inclusive 0-based range "first-last" of alignment
//    columns.
// The canonical config always spells the taxa out.
class PhyloEnvironment : public Environment {
 public:
  static constexpr int64_t kMaxTaxa = 16;
  // EnumerateTerminalStates refuses above this many taxa ((2n-3)!! trees:
  // 135135 at 8, 2027025 at 9).
  static constexpr int64_t kMaxEnumeratedTaxa = 8;

  static absl::StatusOr<std::unique_ptr<PhyloEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t num_taxa() const { return n_; }
  const std::vector<std::string>& taxa() const { return taxa_; }
  // [n, S] int64 masks of the selected taxa and sites; undefined without an
  // alignment.
  const at::Tensor& site_masks() const { return site_masks_; }
  bool has_alignment() const { return site_masks_.defined(); }

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

 private:
  PhyloEnvironment(EnvironmentConfig config, std::vector<std::string> taxa,
                   at::Tensor site_masks);

  EnvironmentConfig config_;
  int64_t n_;
  std::vector<std::string> taxa_;
  at::Tensor site_masks_;
  std::vector<int64_t> pair_first_;   // anchor a of each pair action
  std::vector<int64_t> pair_second_;  // anchor b of each pair action
};

// log((2n - 3)!!), the number of rooted binary topologies on n taxa.
double LogNumRootedTopologies(int64_t n);

// The alignment columns (indices into site_masks) client `index` of `count`
// holds: contiguous blocks, or a seeded random partition ("random"). The
// clients' sets partition 0..num_sites-1.
absl::StatusOr<std::vector<int64_t>> ClientSites(int64_t num_sites,
                                                 int64_t index, int64_t count,
                                                 const std::string& split,
                                                 int64_t seed);

// Reward kinds (terminal states only; each client holds the sites
// ClientSites gives it, by default index=0,count=1 = all sites):
//  - "jc69" (branch_length = 0.1, index, count, split = contiguous|random,
//    seed = 0, temperature = 1): log R_i = ((1/N) log prior +
//    log L(sites_i | tree)) / temperature (N the federation's clients; the
//    registry applies both), with a uniform prior over
//    topologies and the Jukes-Cantor likelihood with every branch of length
//    branch_length (Felsenstein pruning, uniform root). The product over
//    clients is the (tempered) full-data posterior up to normalisation.
//    Temperature > 1 flattens posteriors that real data make very peaked.
//  - "parsimony" (lambda = 1, index, count, split, seed): log R_i =
//    (1/N) log prior - lambda * Fitch score of sites_i.
// Both take compress (1, the default: identical columns are folded into one
// weighted site pattern, so the cost is linear in distinct patterns; 0:
// every site is evaluated on its own, linear in sites, for benchmarks).
absl::StatusOr<RewardParts> MakePhyloReward(const PhyloEnvironment& environment,
                                            const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_PHYLO_H_
