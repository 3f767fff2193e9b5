#ifndef EPGFN_COMMON_AGGREGATE_AGGREGATOR_H_
#define EPGFN_COMMON_AGGREGATE_AGGREGATOR_H_

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/aggregate/aggregate_flow_consistency.h"
#include "common/aggregate/aggregating_balance_target.h"
#include "common/aggregate/aggregation_stopping.h"
#include "common/aggregate/aggregator_checkpoint.pb.h"
#include "common/aggregate/local_model.h"
#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"

namespace epgfn {

struct AggregationOptions {
  // Architecture of the global model.
  PolicyArchitecture architecture;
  // Iterations, batch, learning rate, exploration and seed of the global
  // training. The loss must be contrastive (the aggregating balance loss
  // proper) or trajectory balance (the same target with a learned log Z).
  TrainingOptions training;
  torch::Device device = torch::kCPU;
  // On enumerable instances, report the exact TV between the global model and
  // the normalised product of the local models' terminal distributions (the
  // distribution aggregation can at best reach; no reward is evaluated).
  bool evaluate_exact = true;
  // FCS of the global model against the weighted product of the local
  // models' terminal distributions (aggregate_flow_consistency.h), which
  // needs no reward and no enumeration: on a pool of
  // fcs_to_local_product.num_samples trajectories for FcsToLocalProduct()
  // (0: off), and of fcs_progress_samples at each progress report (0: off;
  // keep it small, every report pays (locals + 1) x pool x backward
  // samples). Subsets and backward samples come from fcs_to_local_product.
  FcsOptions fcs_to_local_product = NoFcs();
  int64_t fcs_progress_samples = 0;
  // Stop before training.iterations once converged (off by default; the
  // iteration budget is always the cap). The rule is evaluated at each
  // progress report (training.progress_every).
  AggregationStoppingOptions stopping;
};

struct AggregationProgress {
  TrainingProgress training;
  std::optional<double> total_variation_to_local_product;
  // With fcs_progress_samples > 0; unset too when the global model's pool
  // held fewer distinct objects than a subset (a very peaked model).
  std::optional<double> fcs_to_local_product;
};

using AggregationProgressCallback =
    std::function<void(const AggregationProgress&)>;

// EP-GFlowNets' aggregation step, in process and without RPC: trains a global
// GFlowNet whose p_F(t)/p_B(t|x) matches prod_i p_F^i(t)/p_B^i(t|x), so that it
// samples in proportion to prod_i R_i. Never evaluates a reward.
class Aggregator {
 public:
  // Refuses (InvalidArgument / FailedPrecondition, naming the client) local
  // models built for another environment or encoding, duplicate or empty
  // client ids, negative or non-finite weights or all weights 0, a warm
  // start of another architecture, and FCS options out of range. The global
  // model samples in proportion to prod_i R_i^{w_i} (LocalModel::weight).
  // `environment` must outlive the aggregator.
  static absl::StatusOr<std::unique_ptr<Aggregator>> Create(
      const Environment* environment, std::vector<LocalModel> local_models,
      const AggregationOptions& options,
      std::optional<PolicyNet> warm_start = std::nullopt);

  // Trains up to options.training.iterations (the remaining ones after a
  // Restore), or until options.stopping says it has converged.
  absl::Status Run(const AggregationProgressCallback& on_progress = nullptr);
  // Trains until min(iteration, total) iterations are done or the run has
  // stopped, so that a caller can checkpoint or stop between chunks;
  // progress is reported at the same iterations as Run().
  absl::Status RunUntil(
      int64_t iteration,
      const AggregationProgressCallback& on_progress = nullptr);
  int64_t iterations_done() const { return trainer_->iterations_done(); }
  int64_t total_iterations() const { return options_.training.iterations; }
  // Whether training is over: the budget is reached or the stopping rule
  // fired (later RunUntil calls do nothing).
  bool finished() const {
    return stop_reason_ != AggregationStopReason::kNotStopped ||
           iterations_done() >= total_iterations();
  }
  // kNotStopped while training; then why it stopped.
  AggregationStopReason stop_reason() const {
    return stop_reason_ != AggregationStopReason::kNotStopped || !finished()
               ? stop_reason_
               : AggregationStopReason::kBudgetReached;
  }

  // The whole training state: global weights, Adam moments, the random
  // generator and the iteration. An Aggregator created with the same
  // environment, local models (same client ids, same order), options and
  // warm start that Restore()s it continues bit for bit as this one would
  // (the stopping rule's state and reason included).
  aggregate::v1::AggregatorCheckpoint Checkpoint() const;
  // FailedPrecondition (nothing changed) when `checkpoint` belongs to another
  // aggregation: other clients, seed, iteration count or architecture;
  // InvalidArgument when it is malformed.
  absl::Status Restore(const aggregate::v1::AggregatorCheckpoint& checkpoint);

  PolicyNet global_policy() const { return global_; }
  // sum_i log((1 + beta_i)/(1 - alpha_i)) when every local model carries
  // diagnostics.
  std::optional<double> jeffrey_bound() const { return jeffrey_bound_; }
  // The normalised product of the local terminal distributions, when
  // evaluate_exact is set and the instance is enumerable.
  const std::optional<TerminalDistribution>& local_product() const {
    return local_product_;
  }
  // The global model's FCS to the local product now, on a pool of
  // options.fcs_to_local_product.num_samples, with a generator seeded from
  // the training seed (the same model scores the same; training's own
  // draws are untouched). FailedPrecondition when that pool size is 0;
  // InvalidArgument when the pool has fewer distinct objects than a subset.
  absl::StatusOr<double> FcsToLocalProduct() const;

 private:
  Aggregator() = default;
  absl::StatusOr<double> FcsOnPool(int64_t num_samples) const;

  const Environment* environment_ = nullptr;
  std::vector<LocalModel> local_models_;
  AggregationOptions options_;
  PolicyNet global_{nullptr};
  // The product's terms (also held by target_), for the FCS.
  std::vector<WeightedPolicy> local_policies_;
  std::unique_ptr<AggregatingBalanceTarget> target_;
  std::unique_ptr<Trainer> trainer_;
  std::optional<double> jeffrey_bound_;
  std::optional<TerminalDistribution> local_product_;
  PlateauMonitor monitor_{AggregationStoppingOptions{}};
  AggregationStopReason stop_reason_ = AggregationStopReason::kNotStopped;
};

// The normalised weighted product prod_i p_T^i(x)^{w_i} of the local models'
// exact terminal distributions over the enumerated terminal states.
absl::StatusOr<TerminalDistribution> ExactProductOfLocalModels(
    const Environment& environment,
    std::vector<WeightedPolicy>& local_policies);

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_AGGREGATOR_H_
