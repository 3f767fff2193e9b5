#include "common/env/phylo/jc69_kernel_patterns.h"

#include <torch/types.h>

namespace epgfn {

Jc69KernelOptions KernelOptionsFromPatterns(const SitePatterns& patterns,
                                            double branch_length) {
  const at::Tensor masks = patterns.masks.to(torch::kUInt8).contiguous();
  const at::Tensor weights = patterns.weights.to(torch::kFloat64).contiguous();
  Jc69KernelOptions options;
  options.num_taxa = masks.size(0);
  options.masks.assign(masks.data_ptr<uint8_t>(),
                       masks.data_ptr<uint8_t>() + masks.numel());
  options.weights.assign(weights.data_ptr<double>(),
                         weights.data_ptr<double>() + weights.numel());
  options.branch_length = branch_length;
  return options;
}

}  // namespace epgfn
