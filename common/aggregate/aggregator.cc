#include "common/aggregate/aggregator.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/aggregate/local_diagnostics.h"
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

}  // namespace

absl::StatusOr<TerminalDistribution> ExactProductOfLocalModels(
    const Environment& environment, std::vector<PolicyNet>& local_policies) {
  ASSIGN_OR_RETURN(torch::Tensor states, environment.EnumerateTerminalStates());
  torch::Tensor log_product = torch::zeros({states.size(0)}, torch::kFloat64);
  for (PolicyNet& policy : local_policies) {
    ASSIGN_OR_RETURN(torch::Tensor p,
                     ExactLearnedProbabilities(policy, environment, states));
    log_product = log_product + p.log();
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
  std::set<std::string> ids;
  std::vector<PolicyNet> local_policies;
  std::vector<LocalDiagnostics> diagnostics;
  for (const LocalModel& local : local_models) {
    if (local.client_id.empty()) {
      return absl::InvalidArgumentError("a local model has no client id");
    }
    if (!ids.insert(local.client_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two local models from client '", local.client_id, "'"));
    }
    if (local.environment != environment->config()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "client '", local.client_id, "' trained on '",
          local.environment.ToString(), "' but the federation uses '",
          environment->config().ToString(), "'"));
    }
    if (!local.policy) {
      return absl::InvalidArgumentError(
          absl::StrCat("client '", local.client_id, "' has no policy"));
    }
    RETURN_IF_ERROR(CheckFitsEnvironment(
        local.policy, *environment,
        absl::StrCat("client '", local.client_id, "' model")));
    local_policies.push_back(local.policy);
    if (local.diagnostics) diagnostics.push_back(*local.diagnostics);
  }

  std::unique_ptr<Aggregator> aggregator(new Aggregator);
  aggregator->environment_ = environment;
  aggregator->options_ = options;
  if (diagnostics.size() == local_models.size()) {
    ASSIGN_OR_RETURN(aggregator->jeffrey_bound_,
                     JeffreyDivergenceBound(diagnostics));
  }
  if (warm_start) {
    RETURN_IF_ERROR(
        CheckFitsEnvironment(*warm_start, *environment, "warm-start model"));
    if ((*warm_start)->architecture() != options.architecture) {
      return absl::InvalidArgumentError(absl::StrCat(
          "warm-start model is ", (*warm_start)->architecture().ToString(),
          ", aggregation is configured for ", options.architecture.ToString()));
    }
    aggregator->global_ = ClonePolicy(*warm_start);
    aggregator->global_->to(options.device);
  } else {
    ASSIGN_OR_RETURN(aggregator->global_,
                     MakePolicy(*environment, options.architecture,
                                options.training.seed, options.device));
  }
  if (options.evaluate_exact) {
    absl::StatusOr<TerminalDistribution> product =
        ExactProductOfLocalModels(*environment, local_policies);
    if (product.ok()) {
      aggregator->local_product_ = std::move(product).value();
    } else if (product.status().code() != absl::StatusCode::kFailedPrecondition) {
      return product.status();  // Enumerable, yet evaluation failed.
    }
  }
  aggregator->target_ = std::make_unique<AggregatingBalanceTarget>(
      environment, std::move(local_policies));
  ASSIGN_OR_RETURN(aggregator->trainer_,
                   Trainer::Create(environment, aggregator->global_,
                                   aggregator->target_.get(), options.training));
  aggregator->local_models_ = std::move(local_models);
  return aggregator;
}

absl::Status Aggregator::Run(const AggregationProgressCallback& on_progress) {
  absl::Status evaluation_status;
  absl::Status status = trainer_->Run([&](const TrainingProgress& training) {
    if (!on_progress) return;
    AggregationProgress progress;
    progress.training = training;
    if (local_product_) {
      absl::StatusOr<double> tv =
          ExactTotalVariation(global_, *environment_, *local_product_);
      if (tv.ok()) {
        progress.total_variation_to_local_product = *tv;
      } else {
        evaluation_status.Update(tv.status());
      }
    }
    on_progress(progress);
  });
  RETURN_IF_ERROR(status);
  return evaluation_status;
}

}  // namespace epgfn
