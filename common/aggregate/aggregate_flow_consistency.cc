#include "common/aggregate/aggregate_flow_consistency.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/eval/terminal_probability.h"

namespace epgfn {
namespace {

// log R_hat as a LogReward, so that SampledFlowConsistency draws and checks
// the pool exactly as it does for a client's reward. Stochastic (each call
// draws backward paths from `random`), which FCS's single call tolerates.
class EstimatedLocalProduct : public LogReward {
 public:
  EstimatedLocalProduct(std::vector<WeightedPolicy>* local_policies,
                        const Environment* environment,
                        int64_t num_backward_samples, RandomSource* random)
      : local_policies_(local_policies),
        environment_(environment),
        num_backward_samples_(num_backward_samples),
        random_(random) {}

  // float64 as well: a product of many small probabilities would lose its
  // ratios in float32.
  at::Tensor operator()(const at::Tensor& terminal_states) const override {
    return LogRewardFloat64(terminal_states);
  }
  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    return EstimateLogLocalProduct(*local_policies_, *environment_,
                                   terminal_states, num_backward_samples_,
                                   *random_);
  }
  std::string Describe() const override {
    return absl::StrCat("product of ", local_policies_->size(),
                        " local models' terminal distributions (estimated)");
  }

 private:
  std::vector<WeightedPolicy>* local_policies_;
  const Environment* environment_;
  int64_t num_backward_samples_;
  RandomSource* random_;
};

}  // namespace

torch::Tensor EstimateLogLocalProduct(
    std::vector<WeightedPolicy>& local_policies, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random) {
  torch::Tensor log_product =
      torch::zeros({terminal_states.size(0)}, torch::kFloat64);
  for (WeightedPolicy& local : local_policies) {
    log_product = log_product +
                  local.weight * EstimateLogTerminalProbability(
                                     local.policy, environment, terminal_states,
                                     num_backward_samples, random);
  }
  return log_product;
}

absl::StatusOr<double> FlowConsistencyToLocalProduct(
    PolicyNet& global, const Environment& environment,
    std::vector<WeightedPolicy>& local_policies, const FcsOptions& options,
    RandomSource& random) {
  if (local_policies.empty()) {
    return absl::InvalidArgumentError(
        "FCS to the local product needs at least one local model");
  }
  EstimatedLocalProduct product(&local_policies, &environment,
                                options.num_backward_samples, &random);
  return SampledFlowConsistency(global, environment, product, options, random);
}

FcsOptions NoFcs() {
  FcsOptions options;
  options.num_samples = 0;
  return options;
}

absl::Status ValidateFcsToLocalProduct(const FcsOptions& fcs,
                                       int64_t progress_samples) {
  if (fcs.num_samples < 0 || progress_samples < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FCS pool sizes must be >= 0 (0: off), got ", fcs.num_samples,
        " at the end and ", progress_samples, " at progress"));
  }
  if (fcs.subset_size < 1 || fcs.num_subsets < 1 ||
      fcs.num_backward_samples < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "FCS subset_size, num_subsets and num_backward_samples must be >= 1, "
        "got ",
        fcs.subset_size, ", ", fcs.num_subsets, ", ",
        fcs.num_backward_samples));
  }
  return absl::OkStatus();
}

}  // namespace epgfn
