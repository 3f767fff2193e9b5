#include "common/aggregate/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

// Adam's moments are float32 like the weights they follow.
v1::TensorData EncodeMoment(const std::string& name,
                            const torch::Tensor& tensor) {
  const torch::Tensor host =
      tensor.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  v1::TensorData data;
  data.set_name(name);
  for (const int64_t size : host.sizes()) data.add_shape(size);
  data.set_dtype(v1::DTYPE_FLOAT32);
  data.set_data(host.data_ptr<float>(), host.numel() * sizeof(float));
  return data;
}

absl::StatusOr<torch::Tensor> DecodeMoment(const v1::TensorData& data) {
  std::vector<int64_t> shape(data.shape().begin(), data.shape().end());
  int64_t numel = 1;
  for (const int64_t size : shape) {
    if (size < 0 || size > (int64_t{1} << 31)) {
      return absl::InvalidArgumentError(
          absl::StrCat("moment '", data.name(), "' has a bad shape"));
    }
    numel *= size;
  }
  if (data.dtype() != v1::DTYPE_FLOAT32 ||
      data.data().size() != static_cast<size_t>(numel) * sizeof(float)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "moment '", data.name(), "' is not float32 data of its shape"));
  }
  torch::Tensor tensor = torch::empty(shape, torch::kFloat32);
  if (numel > 0) {
    std::memcpy(tensor.data_ptr<float>(), data.data().data(),
                data.data().size());
  }
  return tensor;
}

// Copies every parameter and buffer of `source` into `target` in place, so
// that the trainer's optimizer keeps pointing at `target`'s tensors.
absl::Status CopyWeights(const PolicyNet& source, PolicyNet& target) {
  torch::NoGradGuard no_grad;
  auto copy =
      [](const torch::OrderedDict<std::string, torch::Tensor>& from,
         torch::OrderedDict<std::string, torch::Tensor>& to) -> absl::Status {
    if (from.size() != to.size()) {
      return absl::InvalidArgumentError(
          "checkpoint policy has other tensors than the global policy");
    }
    for (auto& item : to) {
      const torch::Tensor* value = from.find(item.key());
      if (value == nullptr || !value->defined() || !item.value().defined() ||
          value->sizes() != item.value().sizes()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "checkpoint policy lacks or misshapes '", item.key(), "'"));
      }
    }
    for (auto& item : to) item.value().copy_(*from.find(item.key()));
    return absl::OkStatus();
  };
  auto target_parameters = target->named_parameters();
  auto target_buffers = target->named_buffers();
  RETURN_IF_ERROR(copy(source->named_parameters(), target_parameters));
  return copy(source->named_buffers(), target_buffers);
}

// Keeps the FCS's draws apart from training's (seeded by the same seed).
constexpr uint64_t kFcsSeedOffset = 0x5eed0003;

bool HasUnitWeights(const std::vector<LocalModel>& local_models) {
  for (const LocalModel& local : local_models) {
    if (local.weight != 1.0) return false;
  }
  return true;
}

// The weights a checkpoint records: none for the plain product, so that its
// checkpoints are byte for byte as before exponents existed.
std::vector<double> CheckpointedWeights(
    const std::vector<LocalModel>& local_models) {
  std::vector<double> weights;
  if (HasUnitWeights(local_models)) return weights;
  for (const LocalModel& local : local_models) weights.push_back(local.weight);
  return weights;
}

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

aggregate::v1::AggregatorCheckpoint Aggregator::Checkpoint() const {
  const TrainerState state = trainer_->SaveState();
  aggregate::v1::AggregatorCheckpoint checkpoint;
  checkpoint.set_iteration(state.iterations_done);
  checkpoint.set_total_iterations(options_.training.iterations);
  checkpoint.set_seed(options_.training.seed);
  for (const LocalModel& local : local_models_) {
    checkpoint.add_client_ids(local.client_id);
  }
  for (double weight : CheckpointedWeights(local_models_)) {
    checkpoint.add_client_weights(weight);
  }
  PolicyNet global = global_;
  *checkpoint.mutable_policy() = ExportModel(*environment_, global);
  for (const TrainerState::Moments& moments : state.moments) {
    aggregate::v1::AdamMoments* out = checkpoint.add_moments();
    out->set_parameter(moments.parameter);
    out->set_step(moments.step);
    *out->mutable_exp_avg() = EncodeMoment("exp_avg", moments.exp_avg);
    *out->mutable_exp_avg_sq() = EncodeMoment("exp_avg_sq", moments.exp_avg_sq);
  }
  const torch::Tensor random_state = state.random_state.contiguous();
  checkpoint.set_random_state(random_state.data_ptr<uint8_t>(),
                              random_state.numel());
  checkpoint.set_loss_sum(state.loss_sum);
  checkpoint.set_loss_count(state.loss_count);
  if (options_.stopping.enabled()) {
    const PlateauMonitor::State& monitor = monitor_.state();
    aggregate::v1::StoppingState* stopping = checkpoint.mutable_stopping();
    for (double loss : monitor.recent_losses) stopping->add_recent_losses(loss);
    stopping->set_has_best_average(monitor.best_average.has_value());
    stopping->set_best_average(monitor.best_average.value_or(0.0));
    stopping->set_stale_reports(monitor.stale_reports);
    stopping->set_has_best_total_variation(
        monitor.best_total_variation.has_value());
    stopping->set_best_total_variation(
        monitor.best_total_variation.value_or(0.0));
    stopping->set_stale_total_variation_reports(
        monitor.stale_total_variation_reports);
    stopping->set_stop_reason(static_cast<int32_t>(stop_reason_));
  }
  return checkpoint;
}

absl::Status Aggregator::Restore(
    const aggregate::v1::AggregatorCheckpoint& checkpoint) {
  std::vector<std::string> client_ids;
  for (const LocalModel& local : local_models_) {
    client_ids.push_back(local.client_id);
  }
  const std::vector<std::string> checkpoint_clients(
      checkpoint.client_ids().begin(), checkpoint.client_ids().end());
  if (checkpoint_clients != client_ids) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint aggregates clients [",
        absl::StrJoin(checkpoint_clients, ", "), "], this aggregation [",
        absl::StrJoin(client_ids, ", "), "]"));
  }
  if (std::vector<double>(checkpoint.client_weights().begin(),
                          checkpoint.client_weights().end()) !=
      CheckpointedWeights(local_models_)) {
    return absl::FailedPreconditionError(
        "checkpoint aggregates the clients with other weights");
  }
  if (checkpoint.seed() != options_.training.seed ||
      checkpoint.total_iterations() != options_.training.iterations) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint trains ", checkpoint.total_iterations(),
        " iterations with seed ", checkpoint.seed(), ", this aggregation ",
        options_.training.iterations, " with seed ", options_.training.seed));
  }
  absl::StatusOr<PolicyNet> policy =
      ImportModel(checkpoint.policy(), *environment_, options_.device);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint policy: ", policy.status().message()));
  }
  if ((*policy)->architecture() != options_.architecture) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint policy is ", (*policy)->architecture().ToString(),
        ", aggregation is configured for ", options_.architecture.ToString()));
  }
  const aggregate::v1::StoppingState& stopping = checkpoint.stopping();
  PlateauMonitor::State monitor;
  monitor.recent_losses.assign(stopping.recent_losses().begin(),
                               stopping.recent_losses().end());
  if (stopping.has_best_average()) {
    monitor.best_average = stopping.best_average();
  }
  monitor.stale_reports = stopping.stale_reports();
  if (stopping.has_best_total_variation()) {
    monitor.best_total_variation = stopping.best_total_variation();
  }
  monitor.stale_total_variation_reports =
      stopping.stale_total_variation_reports();
  const int32_t reason = stopping.stop_reason();
  if (reason != static_cast<int32_t>(AggregationStopReason::kNotStopped) &&
      reason != static_cast<int32_t>(AggregationStopReason::kLossPlateau) &&
      reason !=
          static_cast<int32_t>(AggregationStopReason::kTotalVariationPlateau)) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint has stop reason ", reason));
  }
  PlateauMonitor restored_monitor(options_.stopping);
  RETURN_IF_ERROR(restored_monitor.Restore(std::move(monitor)));
  TrainerState state;
  state.iterations_done = checkpoint.iteration();
  state.random_state = torch::empty(
      {static_cast<int64_t>(checkpoint.random_state().size())}, torch::kUInt8);
  std::memcpy(state.random_state.data_ptr<uint8_t>(),
              checkpoint.random_state().data(),
              checkpoint.random_state().size());
  state.loss_sum = checkpoint.loss_sum();
  state.loss_count = checkpoint.loss_count();
  for (const aggregate::v1::AdamMoments& moments : checkpoint.moments()) {
    TrainerState::Moments decoded;
    decoded.parameter = moments.parameter();
    decoded.step = moments.step();
    ASSIGN_OR_RETURN(decoded.exp_avg, DecodeMoment(moments.exp_avg()));
    ASSIGN_OR_RETURN(decoded.exp_avg_sq, DecodeMoment(moments.exp_avg_sq()));
    state.moments.push_back(std::move(decoded));
  }
  // A refused trainer state puts the previous weights back, so that a
  // refused checkpoint leaves the aggregator as it was.
  PolicyNet backup = ClonePolicy(global_);
  RETURN_IF_ERROR(CopyWeights(*policy, global_));
  if (absl::Status status = trainer_->RestoreState(state); !status.ok()) {
    RETURN_IF_ERROR(CopyWeights(backup, global_));
    return status;
  }
  monitor_ = std::move(restored_monitor);
  stop_reason_ = static_cast<AggregationStopReason>(reason);
  return absl::OkStatus();
}

}  // namespace epgfn
