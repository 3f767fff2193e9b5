// The Aggregator's checkpoints (Checkpoint / Restore, aggregator.h): the
// global policy, Adam's moments, the random state and the stopping rule's
// state, so that a restored aggregation continues bit for bit.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/aggregate/aggregator.h"
#include "common/model/model_codec.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

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

// The weights a checkpoint records: none for the plain product, so that its
// checkpoints are byte for byte as before exponents existed.
std::vector<double> CheckpointedWeights(
    const std::vector<LocalModel>& local_models) {
  std::vector<double> weights;
  if (HasUnitWeights(local_models)) return weights;
  for (const LocalModel& local : local_models) weights.push_back(local.weight);
  return weights;
}

// A checkpoint is of this aggregation: the same clients in the same order,
// with the same weights, seed and iteration budget.
absl::Status CheckSameAggregation(
    const aggregate::v1::AggregatorCheckpoint& checkpoint,
    const std::vector<LocalModel>& local_models,
    const AggregationOptions& options) {
  std::vector<std::string> client_ids;
  for (const LocalModel& local : local_models) {
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
      CheckpointedWeights(local_models)) {
    return absl::FailedPreconditionError(
        "checkpoint aggregates the clients with other weights");
  }
  if (checkpoint.seed() != options.training.seed ||
      checkpoint.total_iterations() != options.training.iterations) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint trains ", checkpoint.total_iterations(),
        " iterations with seed ", checkpoint.seed(), ", this aggregation ",
        options.training.iterations, " with seed ", options.training.seed));
  }
  return absl::OkStatus();
}

struct RestoredStopping {
  PlateauMonitor::State monitor;
  AggregationStopReason reason = AggregationStopReason::kNotStopped;
};

absl::StatusOr<RestoredStopping> DecodeStopping(
    const aggregate::v1::StoppingState& stopping) {
  RestoredStopping restored;
  PlateauMonitor::State& monitor = restored.monitor;
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
  restored.reason = static_cast<AggregationStopReason>(reason);
  return restored;
}

// The trainer's state: iteration, random state, the loss since the last
// report, and Adam's moments.
absl::StatusOr<TrainerState> DecodeTrainerState(
    const aggregate::v1::AggregatorCheckpoint& checkpoint) {
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
  return state;
}

}  // namespace

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
  RETURN_IF_ERROR(CheckSameAggregation(checkpoint, local_models_, options_));
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
  ASSIGN_OR_RETURN(RestoredStopping stopping,
                   DecodeStopping(checkpoint.stopping()));
  PlateauMonitor restored_monitor(options_.stopping);
  RETURN_IF_ERROR(restored_monitor.Restore(std::move(stopping.monitor)));
  ASSIGN_OR_RETURN(TrainerState state, DecodeTrainerState(checkpoint));
  // A refused trainer state puts the previous weights back, so that a
  // refused checkpoint leaves the aggregator as it was.
  PolicyNet backup = ClonePolicy(global_);
  RETURN_IF_ERROR(CopyWeights(*policy, global_));
  if (absl::Status status = trainer_->RestoreState(state); !status.ok()) {
    RETURN_IF_ERROR(CopyWeights(backup, global_));
    return status;
  }
  monitor_ = std::move(restored_monitor);
  stop_reason_ = stopping.reason;
  return absl::OkStatus();
}

}  // namespace epgfn
