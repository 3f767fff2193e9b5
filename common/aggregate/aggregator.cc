#include "common/aggregate/aggregator.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/model/model_codec.h"
#include "common/train/local_diagnostics.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

absl::Status CheckFitsEnvironment(const PolicyNet& policy,
                                  const Environment& environment,
                                  const std::string& who) {
  if (policy->encoding_dim() != environment.encoding_dim() ||
      policy->num_forward_actions() != environment.num_forward_actions() ||
      policy->num_backward_actions() != environment.num_backward_actions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, " reads encodings of width ", policy->encoding_dim(), " with ",
        policy->num_forward_actions(), "/", policy->num_backward_actions(),
        " actions; environment ", environment.config().ToString(), " has ",
        environment.encoding_dim(), " with ", environment.num_forward_actions(),
        "/", environment.num_backward_actions()));
  }
  return absl::OkStatus();
}

// Keeps the FCS's draws apart from training's (seeded by the same seed).
constexpr uint64_t kFcsSeedOffset = 0x5eed0003;

// The checks of one local model: a distinct client id, a finite
// non-negative weight, the federation's environment and a policy that fits it.
absl::Status CheckLocalModel(const Environment& environment,
                             const LocalModel& local,
                             std::set<std::string>* ids) {
  if (local.client_id.empty()) {
    return absl::InvalidArgumentError("a local model has no client id");
  }
  if (!std::isfinite(local.weight) || local.weight < 0.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("client '", local.client_id, "' has weight ", local.weight,
                     "; weights are finite and non-negative"));
  }
  if (!ids->insert(local.client_id).second) {
    return absl::InvalidArgumentError(
        absl::StrCat("two local models from client '", local.client_id, "'"));
  }
  if (local.environment != environment.config()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client '", local.client_id, "' trained on '",
        local.environment.ToString(), "' but the federation uses '",
        environment.config().ToString(), "'"));
  }
  if (!local.policy) {
    return absl::InvalidArgumentError(
        absl::StrCat("client '", local.client_id, "' has no policy"));
  }
  return CheckFitsEnvironment(
      local.policy, environment,
      absl::StrCat("client '", local.client_id, "' model"));
}

// The global policy training starts from: a copy of `warm_start` (checked
// against the environment and the architecture) or a fresh seeded one.
absl::StatusOr<PolicyNet> InitialGlobalPolicy(
    const Environment& environment, const AggregationOptions& options,
    const std::optional<PolicyNet>& warm_start) {
  if (!warm_start) {
    return MakePolicy(environment, options.architecture, options.training.seed,
                      options.device);
  }
  RETURN_IF_ERROR(
      CheckFitsEnvironment(*warm_start, environment, "warm-start model"));
  if ((*warm_start)->architecture() != options.architecture) {
    return absl::InvalidArgumentError(absl::StrCat(
        "warm-start model is ", (*warm_start)->architecture().ToString(),
        ", aggregation is configured for ", options.architecture.ToString()));
  }
  PolicyNet global = ClonePolicy(*warm_start);
  global->to(options.device);
  return global;
}

}  // namespace

absl::StatusOr<TerminalDistribution> ExactProductOfLocalModels(
    const Environment& environment,
    std::vector<WeightedPolicy>& local_policies) {
  ASSIGN_OR_RETURN(torch::Tensor states, environment.EnumerateTerminalStates());
  torch::Tensor log_product = torch::zeros({states.size(0)}, torch::kFloat64);
  for (WeightedPolicy& local : local_policies) {
    ASSIGN_OR_RETURN(torch::Tensor p, ExactLearnedProbabilities(
                                          local.policy, environment, states));
    log_product = log_product + local.weight * p.log();
  }
  return TerminalDistribution{states, torch::softmax(log_product, 0)};
}

absl::StatusOr<std::unique_ptr<Aggregator>> Aggregator::Create(
    const Environment* environment, std::vector<LocalModel> local_models,
    const AggregationOptions& options, std::optional<PolicyNet> warm_start) {
  if (local_models.empty()) {
    return absl::InvalidArgumentError("aggregation needs at least one model");
  }
  if (options.training.loss == LossKind::kDetailedBalance) {
    return absl::InvalidArgumentError(
        "aggregation trains with the contrastive (cb) or trajectory (tb) "
        "balance loss; detailed balance has no per-trajectory target");
  }
  RETURN_IF_ERROR(options.architecture.Validate());
  RETURN_IF_ERROR(ValidateFcsToLocalProduct(options.fcs_to_local_product,
                                            options.fcs_progress_samples));
  RETURN_IF_ERROR(options.stopping.Validate());
  std::set<std::string> ids;
  std::vector<WeightedPolicy> local_policies;
  std::vector<LocalDiagnostics> diagnostics;
  for (const LocalModel& local : local_models) {
    RETURN_IF_ERROR(CheckLocalModel(*environment, local, &ids));
    // A weight of 0 leaves the client out of the product: never evaluated.
    if (local.weight > 0.0) {
      local_policies.push_back(WeightedPolicy{local.policy, local.weight});
    }
    if (local.diagnostics) diagnostics.push_back(*local.diagnostics);
  }
  if (local_policies.empty()) {
    return absl::InvalidArgumentError(
        "every local model has weight 0; at least one must be positive");
  }

  std::unique_ptr<Aggregator> aggregator(new Aggregator);
  aggregator->environment_ = environment;
  aggregator->options_ = options;
  aggregator->monitor_ = PlateauMonitor(options.stopping);
  // The bound of Theorem 4.3 is stated for the plain product.
  if (HasUnitWeights(local_models) &&
      diagnostics.size() == local_models.size()) {
    ASSIGN_OR_RETURN(aggregator->jeffrey_bound_,
                     JeffreyDivergenceBound(diagnostics));
  }
  ASSIGN_OR_RETURN(aggregator->global_,
                   InitialGlobalPolicy(*environment, options, warm_start));
  if (options.evaluate_exact) {
    absl::StatusOr<TerminalDistribution> product =
        ExactProductOfLocalModels(*environment, local_policies);
    if (product.ok()) {
      aggregator->local_product_ = std::move(product).value();
    } else if (product.status().code() !=
               absl::StatusCode::kFailedPrecondition) {
      return product.status();  // Enumerable, yet evaluation failed.
    }
  }
  aggregator->local_policies_ = local_policies;
  aggregator->target_ = std::make_unique<AggregatingBalanceTarget>(
      environment, std::move(local_policies));
  ASSIGN_OR_RETURN(
      aggregator->trainer_,
      Trainer::Create(environment, aggregator->global_,
                      aggregator->target_.get(), options.training));
  aggregator->local_models_ = std::move(local_models);
  return aggregator;
}

absl::Status Aggregator::Run(const AggregationProgressCallback& on_progress) {
  return RunUntil(options_.training.iterations, on_progress);
}

absl::Status Aggregator::RunUntil(
    int64_t iteration, const AggregationProgressCallback& on_progress) {
  absl::Status evaluation_status;
  const bool tv_rule = options_.stopping.total_variation_tolerance > 0.0;
  auto on_training = [&](const TrainingProgress& training) {
    if (!on_progress && !options_.stopping.enabled()) return;
    AggregationProgress progress;
    progress.training = training;
    if (local_product_ && (on_progress || tv_rule)) {
      absl::StatusOr<double> tv =
          ExactTotalVariation(global_, *environment_, *local_product_);
      if (tv.ok()) {
        progress.total_variation_to_local_product = *tv;
      } else {
        evaluation_status.Update(tv.status());
      }
    }
    if (on_progress && options_.fcs_progress_samples > 0) {
      // Not an error when it fails: a peaked model's small pool is
      // legitimate, and the report simply has no FCS.
      absl::StatusOr<double> fcs = FcsOnPool(options_.fcs_progress_samples);
      if (fcs.ok()) progress.fcs_to_local_product = *fcs;
    }
    if (options_.stopping.enabled() &&
        training.iteration < options_.training.iterations) {
      stop_reason_ = monitor_.Observe(
          training.loss, progress.total_variation_to_local_product);
    }
    if (on_progress) on_progress(progress);
  };
  const int64_t last = std::min(iteration, options_.training.iterations);
  // With the rule on, the trainer runs from one progress report to the next
  // (the same iterations and reports as one call), so that it can stop at
  // the report that fires the rule.
  const int64_t chunk = options_.stopping.enabled()
                            ? options_.training.progress_every
                            : options_.training.iterations;
  while (!finished() && trainer_->iterations_done() < last) {
    const int64_t next =
        std::min(last, (trainer_->iterations_done() / chunk + 1) * chunk);
    RETURN_IF_ERROR(trainer_->RunUntil(next, on_training));
    RETURN_IF_ERROR(evaluation_status);
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Aggregator::FcsToLocalProduct() const {
  if (options_.fcs_to_local_product.num_samples == 0) {
    return absl::FailedPreconditionError(
        "FCS to the local product is off (fcs_to_local_product.num_samples "
        "is 0)");
  }
  return FcsOnPool(options_.fcs_to_local_product.num_samples);
}

absl::StatusOr<double> Aggregator::FcsOnPool(int64_t num_samples) const {
  FcsOptions fcs = options_.fcs_to_local_product;
  fcs.num_samples = num_samples;
  RandomSource random(options_.training.seed + kFcsSeedOffset);
  PolicyNet global = global_;
  std::vector<WeightedPolicy> locals = local_policies_;
  return FlowConsistencyToLocalProduct(global, *environment_, locals, fcs,
                                       random);
}

}  // namespace epgfn
