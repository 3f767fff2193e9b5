// The project's own JC69 kernels as TreeKernels (tree_kernels.h).
#include <torch/types.h>

#include <string>
#include <utility>

#include "tests/bench/tree_kernels.h"

namespace epgfn {
namespace {

class TensorKernel : public TreeKernel {
 public:
  TensorKernel(const SitePatterns& patterns, double branch_length)
      : tips_(TipPartials(patterns.masks)),
        weights_(patterns.weights),
        branch_length_(branch_length) {}

  std::string name() const override { return "tensor (Jc69LogLikelihoods)"; }

  absl::Status LogLikelihoods(absl::Span<const int64_t> left,
                              absl::Span<const int64_t> right,
                              absl::Span<double> out) override {
    const int64_t batch = static_cast<int64_t>(out.size());
    const int64_t internal = tips_.size(0) - 1;
    // from_blob: the trees are not copied, as the reward's are already
    // tensors.
    auto options = torch::TensorOptions().dtype(torch::kInt64);
    const at::Tensor l = torch::from_blob(const_cast<int64_t*>(left.data()),
                                          {batch, internal}, options);
    const at::Tensor r = torch::from_blob(const_cast<int64_t*>(right.data()),
                                          {batch, internal}, options);
    const at::Tensor result =
        Jc69LogLikelihoods(l, r, tips_, weights_, branch_length_).contiguous();
    std::copy(result.data_ptr<double>(), result.data_ptr<double>() + batch,
              out.begin());
    return absl::OkStatus();
  }

 private:
  at::Tensor tips_;
  at::Tensor weights_;
  double branch_length_;
};

class PlainKernel : public TreeKernel {
 public:
  explicit PlainKernel(Jc69Kernel kernel) : kernel_(std::move(kernel)) {}
  std::string name() const override { return "plain loops (Jc69Kernel)"; }
  absl::Status LogLikelihoods(absl::Span<const int64_t> left,
                              absl::Span<const int64_t> right,
                              absl::Span<double> out) override {
    return kernel_.LogLikelihoods(left, right, out);
  }

 private:
  Jc69Kernel kernel_;
};

}  // namespace

std::unique_ptr<TreeKernel> MakeTensorKernel(const SitePatterns& patterns,
                                             double branch_length) {
  return std::make_unique<TensorKernel>(patterns, branch_length);
}

absl::StatusOr<std::unique_ptr<TreeKernel>> MakePlainKernel(
    const Jc69KernelOptions& data) {
  absl::StatusOr<Jc69Kernel> kernel = Jc69Kernel::Create(data);
  if (!kernel.ok()) return kernel.status();
  return std::make_unique<PlainKernel>(std::move(kernel).value());
}

}  // namespace epgfn
