#include "common/eval/sample_quality.h"

#include <algorithm>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_set.h"

namespace epgfn {
namespace {

// Byte-wise keys of the rows of an int64 [N, D] tensor, for hashing.
absl::flat_hash_set<std::string> RowKeys(const torch::Tensor& states) {
  torch::Tensor cpu = states.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t width = cpu.size(1);
  const char* data = reinterpret_cast<const char*>(cpu.data_ptr<int64_t>());
  const size_t row_bytes = width * sizeof(int64_t);
  absl::flat_hash_set<std::string> keys;
  keys.reserve(cpu.size(0));
  for (int64_t i = 0; i < cpu.size(0); ++i) {
    keys.emplace(data + i * row_bytes, row_bytes);
  }
  return keys;
}

}  // namespace

double TopKMeanLogReward(const torch::Tensor& log_rewards_of_distinct_samples,
                         int64_t k) {
  TORCH_CHECK(k >= 1, "TopKMeanLogReward needs k >= 1");
  torch::Tensor values =
      log_rewards_of_distinct_samples.reshape({-1}).to(torch::kFloat64);
  TORCH_CHECK(values.numel() > 0, "TopKMeanLogReward needs some rewards");
  const int64_t kept = std::min(k, values.numel());
  return std::get<0>(values.topk(kept)).mean().item<double>();
}

torch::Tensor UniqueRows(const torch::Tensor& states) {
  TORCH_CHECK(states.dim() == 2, "UniqueRows needs a [N, D] tensor");
  return std::get<0>(torch::unique_dim(states, /*dim=*/0));
}

int64_t CountModesFound(const torch::Tensor& samples,
                        const torch::Tensor& mode_states) {
  TORCH_CHECK(samples.dim() == 2 && mode_states.dim() == 2 &&
                  samples.size(1) == mode_states.size(1),
              "CountModesFound needs [N, D] samples and [K, D] modes");
  const absl::flat_hash_set<std::string> seen = RowKeys(samples);
  int64_t found = 0;
  // Iterating the deduplicated modes counts a repeated mode row once.
  for (const std::string& mode : RowKeys(mode_states)) {
    if (seen.contains(mode)) ++found;
  }
  return found;
}

torch::Tensor ModeStates(const TerminalDistribution& target,
                         double relative_threshold) {
  TORCH_CHECK(target.probabilities.numel() > 0,
              "ModeStates needs a non-empty distribution");
  torch::Tensor probabilities =
      target.probabilities.to(torch::kCPU).to(torch::kFloat64);
  const double cutoff = relative_threshold * probabilities.max().item<double>();
  torch::Tensor keep = (probabilities >= cutoff).nonzero().squeeze(1);
  return target.states.to(torch::kCPU).index_select(0, keep);
}

}  // namespace epgfn
