#include "common/aggregate/product_of_marginals.h"

#include "absl/strings/str_cat.h"

namespace epgfn {

absl::StatusOr<torch::Tensor> ProductOfMarginalsDistribution(
    const std::vector<torch::Tensor>& client_samples,
    const torch::Tensor& terminal_states, double smoothing) {
  if (client_samples.empty()) {
    return absl::InvalidArgumentError("no client samples");
  }
  if (!(smoothing > 0.0)) {
    return absl::InvalidArgumentError("smoothing must be > 0");
  }
  torch::Tensor terminals = terminal_states.to(torch::kCPU);
  const int64_t width = terminals.size(1);
  // Coordinate values are shifted to start at 0 for counting.
  torch::Tensor low = std::get<0>(terminals.min(0));
  torch::Tensor high = std::get<0>(terminals.max(0));
  torch::Tensor log_score = torch::zeros({terminals.size(0)}, torch::kFloat64);
  for (size_t i = 0; i < client_samples.size(); ++i) {
    torch::Tensor samples = client_samples[i].to(torch::kCPU);
    if (samples.dim() != 2 || samples.size(1) != width || samples.size(0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "client ", i, " samples must be a non-empty [N, ", width, "] tensor"));
    }
    for (int64_t d = 0; d < width; ++d) {
      const int64_t offset = low[d].item<int64_t>();
      const int64_t values = high[d].item<int64_t>() - offset + 1;
      torch::Tensor column = samples.select(1, d) - offset;
      torch::Tensor inside = (column >= 0) & (column < values);
      torch::Tensor counts =
          torch::bincount(column.masked_select(inside), {}, values)
              .to(torch::kFloat64) +
          smoothing;
      torch::Tensor log_marginal = (counts / counts.sum()).log();
      log_score = log_score +
                  log_marginal.index_select(0, terminals.select(1, d) - offset);
    }
  }
  return torch::softmax(log_score, 0);
}

}  // namespace epgfn
