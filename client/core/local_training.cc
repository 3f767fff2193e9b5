#include "client/core/local_training.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/core/local_model_store.h"
#include "client/core/local_state.pb.h"
#include "client/core/round_statistics.h"
#include "client/core/update_identity.h"
#include "common/env/environment_registry.h"
#include "common/eval/flow_consistency.h"
#include "common/model/model_codec.h"
#include "common/spec/spec_conversion.h"
#include "common/train/local_diagnostics.h"
#include "common/train/streaming_update.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

using Persisted = PersistedModel;

LocalTrainingResult ReusedResult(const std::string& state_dir,
                                 Persisted persisted) {
  const client::v1::LocalModelRecord& record = persisted.record;
  LocalTrainingResult result;
  result.weights = std::move(persisted.weights);
  result.diagnostics = record.diagnostics();
  result.round = record.round();
  result.reused = true;
  result.training_seconds = record.training_seconds();
  result.model_path = LocalModelPath(state_dir);
  result.base_round = record.base_round();
  result.data = DataOf(record);
  return result;
}

// The record kept beside a trained result: ReusedResult's inverse.
client::v1::LocalModelRecord RecordOf(const std::string& spec_digest,
                                      const std::string& reward_text,
                                      const TrainingOptions& training,
                                      const LocalTrainingResult& result) {
  client::v1::LocalModelRecord record;
  record.set_spec_digest(spec_digest);
  record.set_reward(reward_text);
  record.set_iterations(training.iterations);
  record.set_batch_size(training.batch_size);
  record.set_round(result.round);
  record.set_base_round(result.base_round);
  for (const std::string& config : result.data) record.add_data(config);
  *record.mutable_diagnostics() = result.diagnostics;
  record.set_training_seconds(result.training_seconds);
  return record;
}

// An update's diagnostics are against its streaming target (the previous
// model times the new likelihood), not the posterior.
v1::LocalDiagnostics UpdateDiagnostics(const StreamingUpdateResult& update) {
  LocalDiagnostics diagnostics;
  diagnostics.alpha = update.diagnostics.alpha;
  diagnostics.beta = update.diagnostics.beta;
  diagnostics.log_z_estimate = update.diagnostics.log_z_estimate;
  diagnostics.num_trajectories = update.diagnostics.num_trajectories;
  return DiagnosticsToProto(diagnostics);
}

// The FCS at progress reports draws from its own seed, so that training
// and the final FCS are the same with it or without.
ProgressFcsOptions ProgressFcsOf(const LocalTrainingOptions& options,
                                 const TrainingOptions& training) {
  ProgressFcsOptions progress;
  progress.num_samples = options.progress_fcs_samples;
  progress.every = options.progress_fcs_every;
  progress.seed = training.seed + 3;
  return progress;
}

// Without `build_reward` the reward's data files are not read (a streaming
// update reads only its new data).
absl::StatusOr<LocalSetup> PrepareSetup(const v1::FederationSpec& spec,
                                        const LocalTrainingOptions& options,
                                        bool build_reward) {
  LocalSetup setup;
  ASSIGN_OR_RETURN(
      setup.environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  ASSIGN_OR_RETURN(setup.reward_config, RewardConfig::Parse(options.reward));
  if (build_reward) {
    ASSIGN_OR_RETURN(setup.reward,
                     MakeLogReward(*setup.environment, setup.reward_config,
                                   RewardContext{spec.client_ids_size()}));
  }
  ASSIGN_OR_RETURN(setup.architecture,
                   ArchitectureFromProto(spec.local_architecture()));
  ASSIGN_OR_RETURN(
      setup.training,
      TrainingOptionsFromProto(spec.local_training(), TrainingOptions()));
  TrainingOptions& training = setup.training;
  if (options.iterations > 0) training.iterations = options.iterations;
  if (options.batch_size > 0) training.batch_size = options.batch_size;
  if (options.progress_every > 0) {
    training.progress_every = options.progress_every;
  }
  RETURN_IF_ERROR(training.Validate());
  return setup;
}

// The spec's training (with the overrides) and the update's own schedule
// and replay.
StreamingUpdateOptions UpdateOptions(const LocalTrainingOptions& options,
                                     const TrainingOptions& training) {
  StreamingUpdateOptions update;
  update.training = training;
  update.training.learning_rate_schedule =
      options.update_learning_rate_schedule;
  update.training.learning_rate_floor = options.update_learning_rate_floor;
  update.replay_fraction = options.update_replay_fraction;
  update.diagnostics_trajectories = options.diagnostics_trajectories;
  return update;
}

// A reused update, with what this run asked for differently.
LocalTrainingResult ReusedUpdate(const std::string& state_dir,
                                 Persisted current,
                                 const std::string& options_key) {
  std::string ignored = IgnoredUpdateOptions(current.record, options_key);
  LocalTrainingResult reused = ReusedResult(state_dir, std::move(current));
  reused.ignored_update_options = std::move(ignored);
  return reused;
}

}  // namespace

std::string DiagnosticsUnsendable(const v1::LocalDiagnostics& diagnostics) {
  const std::string problems =
      DiagnosticsProblems(DiagnosticsFromProto(diagnostics));
  if (problems.empty()) return "";
  return absl::StrCat(problems,
                      ": the model is too far from its reward for a bound "
                      "(train longer or temper the reward)");
}

absl::StatusOr<LocalSetup> PrepareLocalTraining(
    const v1::FederationSpec& spec, const LocalTrainingOptions& options) {
  return PrepareSetup(spec, options, /*build_reward=*/true);
}

absl::StatusOr<std::string> CheckLocalTraining(
    const v1::FederationSpec& spec, const LocalTrainingOptions& options) {
  ASSIGN_OR_RETURN(LocalSetup setup, PrepareLocalTraining(spec, options));
  // The policy must build on this state graph (the architecture fits).
  RETURN_IF_ERROR(MakePolicy(*setup.environment, setup.architecture,
                             setup.training.seed, torch::kCPU)
                      .status());
  std::string scored = "not enumerable: reward not evaluated";
  if (absl::StatusOr<at::Tensor> states =
          setup.environment->EnumerateTerminalStates();
      states.ok()) {
    torch::NoGradGuard no_grad;
    const at::Tensor log_reward = (*setup.reward)(*states).to(torch::kFloat64);
    const int64_t bad =
        (log_reward.isnan() | (log_reward == INFINITY)).sum().item<int64_t>();
    if (bad > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the reward '", setup.reward_config.ToString(),
          "' is NaN or +inf on ", bad, " of ", states->size(0), " objects"));
    }
    scored =
        absl::StrCat("finite on all ", states->size(0), " objects, log R in [",
                     log_reward.min().item<double>(), ", ",
                     log_reward.max().item<double>(), "]");
  }
  return absl::StrCat("environment: ", setup.environment->config().ToString(),
                      "\n", "reward: ", setup.reward->Describe(), " (", scored,
                      ")\n", "local model: ", setup.architecture.ToString(),
                      ", ", setup.training.iterations, " iterations x ",
                      setup.training.batch_size, " trajectories\n");
}

absl::StatusOr<LocalTrainingResult> TrainOrReuseLocalModel(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const LocalTrainingOptions& options,
    const LocalProgressCallback& on_progress) {
  ASSIGN_OR_RETURN(LocalSetup setup, PrepareLocalTraining(spec, options));
  std::unique_ptr<Environment>& environment = setup.environment;
  std::unique_ptr<LogReward>& reward = setup.reward;
  const PolicyArchitecture& architecture = setup.architecture;
  const TrainingOptions& training = setup.training;
  const std::string reward_text = setup.reward_config.ToString();

  int64_t round = 1;
  if (!options.state_dir.empty()) {
    std::optional<Persisted> persisted =
        LoadPersisted(options.state_dir, *environment);
    if (persisted.has_value() &&
        persisted->record.spec_digest() == spec_digest) {
      const client::v1::LocalModelRecord& record = persisted->record;
      if (record.reward() == reward_text &&
          record.iterations() == training.iterations &&
          record.batch_size() == training.batch_size) {
        // (The latest streaming update or rollback of this reward, too.)
        return ReusedResult(options.state_dir, std::move(*persisted));
      }
      // Same federation, new model: the server only takes newer rounds.
      round = record.round() + 1;
    }
  }

  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(PolicyNet policy, MakePolicy(*environment, architecture,
                                                training.seed, options.device));
  RewardTarget target(reward.get());
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(environment.get(), policy, &target, training));
  RETURN_IF_ERROR(trainer->Run(WithProgressFcs(policy, *environment, *reward,
                                               ProgressFcsOf(options, training),
                                               on_progress)));
  const double training_seconds = absl::ToDoubleSeconds(absl::Now() - start);

  RandomSource random(training.seed + 1);
  ASSIGN_OR_RETURN(
      LocalDiagnostics diagnostics,
      EstimateLocalDiagnostics(policy, *environment, *reward,
                               options.diagnostics_trajectories, random));

  LocalTrainingResult result;
  if (options.fcs_samples > 0) {
    absl::StatusOr<double> value = FcsAfterTraining(
        policy, *environment, *reward, options.fcs_samples, training.seed);
    if (value.ok()) {
      diagnostics.fcs = *value;
    } else {
      // Not fatal: a posterior too peaked for a subset of distinct objects
      // is a legitimate model.
      result.fcs_not_computed = std::string(value.status().message());
    }
  }
  result.weights = ExportModel(*environment, policy);
  result.diagnostics = DiagnosticsToProto(diagnostics);
  result.round = round;
  result.training_seconds = training_seconds;
  result.data = {reward_text};
  if (!options.state_dir.empty()) {
    client::v1::LocalModelRecord record =
        RecordOf(spec_digest, reward_text, training, result);
    ASSIGN_OR_RETURN(*record.mutable_statistics_sha256(),
                     KeepRoundStatistics(*environment, setup.reward_config,
                                         options.state_dir, round));
    RETURN_IF_ERROR(Persist(options.state_dir, record, result.weights));
    result.model_path = LocalModelPath(options.state_dir);
  }
  return result;
}

absl::StatusOr<LocalTrainingResult> TrainOrReuseStreamingUpdate(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const LocalTrainingOptions& options,
    const LocalProgressCallback& on_progress) {
  if (options.update_reward.empty() || options.state_dir.empty()) {
    return absl::InvalidArgumentError(
        "a streaming update needs the new data's reward and a state dir");
  }
  ASSIGN_OR_RETURN(LocalSetup setup,
                   PrepareSetup(spec, options, /*build_reward=*/false));
  const std::string reward_text = setup.reward_config.ToString();
  ASSIGN_OR_RETURN(
      const RewardConfig update_config,
      UpdateAtBaseTemperature(setup.reward_config, options.update_reward));
  const std::string update_text = update_config.ToString();
  std::optional<Persisted> current =
      LoadPersisted(options.state_dir, *setup.environment);
  if (!current.has_value() || current->record.spec_digest() != spec_digest) {
    return absl::FailedPreconditionError(
        absl::StrCat("no local model of this federation under ",
                     options.state_dir, " to update with '", update_text,
                     "': run once without --update_reward first"));
  }
  const client::v1::LocalModelRecord& base = current->record;
  if (base.reward() != reward_text) {
    return absl::FailedPreconditionError(
        absl::StrCat("the current local model (round ", base.round(),
                     ") was trained on reward '", base.reward(), "', not '",
                     reward_text, "'"));
  }
  const StreamingUpdateOptions update_options =
      UpdateOptions(options, setup.training);
  const std::string options_key = UpdateOptionsKey(update_options);
  std::vector<std::string> data = DataOf(base);
  if (base.base_round() > 0 && data.back() == update_text) {
    // Trained by an earlier run (whose upload may or may not have got
    // through): the daemon uploads it unless the server holds it.
    return ReusedUpdate(options.state_dir, std::move(*current), options_key);
  }

  ASSIGN_OR_RETURN(
      PolicyNet previous,
      ImportModel(current->weights, *setup.environment, options.device));
  // Exact for BGe only when conditioned on every row the base has seen.
  ASSIGN_OR_RETURN(const RewardConfig conditioned,
                   ConditionOnBaseStatistics(*setup.environment, update_config,
                                             options.state_dir, base));
  ASSIGN_OR_RETURN(
      std::unique_ptr<LogReward> likelihood,
      MakeStreamingLikelihood(*setup.environment, conditioned,
                              RewardContext{spec.client_ids_size()}));
  ASSIGN_OR_RETURN(
      StreamingUpdateResult update,
      TrainStreamingUpdate(*setup.environment, previous, *likelihood,
                           update_options, options.device,
                           WithoutFcs(on_progress)));

  data.push_back(update_text);
  LocalTrainingResult result;
  if (options.fcs_samples > 0) {
    // Its reward is the product over every data set so far, and a streaming
    // update by design reads only the new one.
    result.fcs_not_computed =
        "a streaming update (its reward would need every earlier data set)";
  }
  result.weights = ExportModel(*setup.environment, update.policy);
  result.diagnostics = UpdateDiagnostics(update);
  result.round = base.round() + 1;
  result.base_round = base.round();
  result.training_seconds = update.training_seconds;
  result.data = std::move(data);
  result.model_path = LocalModelPath(options.state_dir);

  client::v1::LocalModelRecord record =
      RecordOf(spec_digest, reward_text, setup.training, result);
  record.set_update_options(options_key);
  ASSIGN_OR_RETURN(*record.mutable_statistics_sha256(),
                   KeepRoundStatistics(*setup.environment, conditioned,
                                       options.state_dir, result.round));
  RETURN_IF_ERROR(Persist(options.state_dir, record, result.weights));
  return result;
}

absl::StatusOr<LocalTrainingResult> RollBackLocalModel(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const std::string& state_dir, int64_t round) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<Environment> environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  std::optional<Persisted> current = LoadPersisted(state_dir, *environment);
  if (!current.has_value() || current->record.spec_digest() != spec_digest) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no current local model of this federation under ", state_dir));
  }
  if (current->record.rolled_back_to_round() == round) {
    return ReusedResult(state_dir, std::move(*current));  // done before
  }
  std::optional<Persisted> kept =
      LoadPersistedFiles(LocalRoundRecordPath(state_dir, round),
                         LocalRoundModelPath(state_dir, round), *environment);
  if (!kept.has_value() || kept->record.spec_digest() != spec_digest ||
      kept->record.round() != round) {
    return absl::NotFoundError(
        absl::StrCat("round ", round, " is not kept intact under ", state_dir,
                     " (", LocalRoundRecordPath(state_dir, round), ")"));
  }
  client::v1::LocalModelRecord record = kept->record;
  record.set_round(current->record.round() + 1);
  record.set_base_round(0);  // replaces the accepted upload, not an update
  record.set_rolled_back_to_round(round);
  record.clear_data();
  for (const std::string& config : DataOf(kept->record)) {
    record.add_data(config);
  }
  RETURN_IF_ERROR(CopyRoundStatistics(state_dir, kept->record, record.round()));
  RETURN_IF_ERROR(Persist(state_dir, record, kept->weights));
  Persisted rolled{record, std::move(kept->weights)};
  LocalTrainingResult result = ReusedResult(state_dir, std::move(rolled));
  result.reused = false;
  result.training_seconds = 0.0;
  return result;
}

}  // namespace epgfn
