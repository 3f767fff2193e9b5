#ifndef EPGFN_COMMON_ENV_PHYLO_JC69_KERNEL_H_
#define EPGFN_COMMON_ENV_PHYLO_JC69_KERNEL_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace epgfn {

// What Jc69Kernel::Create takes: an alignment's site patterns as the 4-bit
// nucleotide masks of alignment.h, and the one branch length of every edge.
struct Jc69KernelOptions {
  int64_t num_taxa = 0;
  // masks[k * num_patterns + p] is taxon k's mask (1..15) at pattern p,
  // where num_patterns = weights.size().
  std::vector<uint8_t> masks;
  // How many sites show each pattern.
  std::vector<double> weights;
  double branch_length = 0.1;

  // At least 3 taxa and one pattern, masks of the right size in 1..15,
  // finite non-negative weights and branch length.
  absl::Status Validate() const;
};

// Jc69LogLikelihoods (likelihood.h) in plain double-precision loops, with
// no LibTorch: the same trees, node order and per-tree result, so that it
// can be checked against the tensor kernel and timed against BEAGLE and
// libpll (tests/bench:kernel_comparison). The jc69 reward uses it with
// kernel=loops; its default stays the tensor kernel.
//
// Partials are rescaled by 2^256 only where the sum of a node's entries
// falls below 2^-256 (libpll's factor): exact in binary floating point,
// and needed only for trees far deeper than the benchmarks'.
//
// Immutable once made: LogLikelihoods allocates its own workspace (about
// 256 KiB) per call, so concurrent calls are safe.
class Jc69Kernel {
 public:
  static absl::StatusOr<Jc69Kernel> Create(Jc69KernelOptions options);

  // left/right: [B, n - 1] row-major child indices (likelihood.h's order);
  // out: [B] sum_p weights[p] * log L(pattern p | tree). InvalidArgument,
  // with out untouched past the bad tree, when a tree is not one: sizes,
  // an index out of range or not yet defined, a node used twice.
  absl::Status LogLikelihoods(absl::Span<const int64_t> left,
                              absl::Span<const int64_t> right,
                              absl::Span<double> out) const;

  int64_t num_taxa() const { return options_.num_taxa; }
  int64_t num_patterns() const {
    return static_cast<int64_t>(options_.weights.size());
  }

 private:
  explicit Jc69Kernel(Jc69KernelOptions options);

  // One call's scratch space.
  struct Workspace {
    // [n - 2, block, 4]: the propagated partials of the non-root internal
    // nodes of the current tree and block (uninitialised: each is written
    // before it is read).
    std::unique_ptr<double[]> nodes;
    // [block]: how many times each pattern's partials were scaled by 2^256.
    std::vector<int32_t> scalings;
    // [2n - 1]: which nodes the tree being checked has used as children.
    std::vector<char> used;
  };

  absl::Status CheckTree(const int64_t* left, const int64_t* right,
                         std::vector<char>& used) const;
  // Adds one block of patterns [start, start + size) of one tree to *total.
  void TreeBlock(const int64_t* left, const int64_t* right, int64_t start,
                 int64_t size, Workspace& workspace, double* total) const;

  Jc69KernelOptions options_;
  double same_ = 0.0;  // P(t) diagonal
  double diff_ = 0.0;  // P(t) off the diagonal
  // The propagated partials P(t) x of a tip, for each of the 16 masks.
  double tip_table_[16][4] = {};
  // [P]: each pattern's weight where it is whole and small enough to be
  // multiplied into the root's running product, else 0 (jc69_kernel.cc).
  std::vector<uint8_t> powers_;
  // Patterns per block: the block's internal partials stay in cache.
  int64_t block_ = 0;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_JC69_KERNEL_H_
