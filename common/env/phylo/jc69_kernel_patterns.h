#ifndef EPGFN_COMMON_ENV_PHYLO_JC69_KERNEL_PATTERNS_H_
#define EPGFN_COMMON_ENV_PHYLO_JC69_KERNEL_PATTERNS_H_

#include "common/env/phylo/jc69_kernel.h"
#include "common/env/phylo/likelihood.h"

namespace epgfn {

// The plain-loop kernel's options for the tensor kernel's site patterns
// ([n, P] int64 masks, [P] float64 weights), so that both see the same data.
Jc69KernelOptions KernelOptionsFromPatterns(const SitePatterns& patterns,
                                            double branch_length);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_JC69_KERNEL_PATTERNS_H_
