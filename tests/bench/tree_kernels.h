#ifndef EPGFN_TESTS_BENCH_TREE_KERNELS_H_
#define EPGFN_TESTS_BENCH_TREE_KERNELS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/env/phylo/jc69_kernel.h"
#include "common/env/phylo/likelihood.h"

namespace epgfn {

// One JC69 likelihood implementation under comparison
// (tests/bench:kernel_comparison): the per-tree log-likelihoods of a batch
// of trees given as Jc69Kernel::LogLikelihoods takes them, every edge of
// the one branch length the kernel was made with.
class TreeKernel {
 public:
  virtual ~TreeKernel() = default;
  // What the table's first column shows, e.g. the library's own
  // implementation name.
  virtual std::string name() const = 0;
  virtual absl::Status LogLikelihoods(absl::Span<const int64_t> left,
                                      absl::Span<const int64_t> right,
                                      absl::Span<double> out) = 0;
};

// The project's kernels: Jc69LogLikelihoods (LibTorch tensors, one call per
// batch) and Jc69Kernel (plain loops).
std::unique_ptr<TreeKernel> MakeTensorKernel(const SitePatterns& patterns,
                                             double branch_length);
absl::StatusOr<std::unique_ptr<TreeKernel>> MakePlainKernel(
    const Jc69KernelOptions& data);

// BEAGLE 3.1 on the CPU in double precision, one thread, JC69 from its
// eigen decomposition, one tree per beagleUpdatePartials call; `rescale`
// writes a scale buffer per internal node (BEAGLE_FLAG_SCALING_MANUAL).
absl::StatusOr<std::unique_ptr<TreeKernel>> MakeBeagleKernel(
    const Jc69KernelOptions& data, bool rescale);

// libpll 0.3 with its fastest vector unit on this CPU, tip-pattern
// lookups, per-site scalers on every internal node (as RAxML-NG runs it).
absl::StatusOr<std::unique_ptr<TreeKernel>> MakePllKernel(
    const Jc69KernelOptions& data);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_TREE_KERNELS_H_
