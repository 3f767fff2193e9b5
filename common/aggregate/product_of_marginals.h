#ifndef EPGFN_COMMON_AGGREGATE_PRODUCT_OF_MARGINALS_H_
#define EPGFN_COMMON_AGGREGATE_PRODUCT_OF_MARGINALS_H_

#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"

namespace epgfn {

// The comparison baseline for aggregation, in the spirit of PCVI's
// parametric approximations: each client's distribution is replaced by the
// product of its per-coordinate categorical marginals (each column of the raw
// terminal state is one categorical variable), fitted to samples with
// add-`smoothing` counts; the federated posterior is approximated by
// multiplying those factors across clients and renormalising over the valid
// objects. It ignores every dependency between coordinates, which is what
// GFlowNet aggregation is meant to keep.
//
// `client_samples[i]` is [N_i, D] int64 terminal states sampled from client
// i's model; returns probabilities aligned with `terminal_states` ([M, D]).
absl::StatusOr<torch::Tensor> ProductOfMarginalsDistribution(
    const std::vector<torch::Tensor>& client_samples,
    const torch::Tensor& terminal_states, double smoothing = 0.5);

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_PRODUCT_OF_MARGINALS_H_
