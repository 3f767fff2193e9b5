#include "client/core/local_training.h"

#include <google/protobuf/text_format.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/core/local_state.pb.h"
#include "common/aggregate/local_diagnostics.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/model/spec_conversion.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr int64_t kMaxRecordBytes = 1 << 20;
constexpr int64_t kMaxModelBytes = int64_t{1} << 30;

struct Persisted {
  client::v1::LocalModelRecord record;
  v1::ModelWeights weights;
};

// The record and model an earlier run left, if both are there and intact.
// Anything unreadable counts as absent: the model is then retrained.
std::optional<Persisted> LoadPersisted(const std::string& state_dir,
                                       const Environment& environment) {
  absl::StatusOr<std::string> text =
      ReadFileToString(LocalRecordPath(state_dir), kMaxRecordBytes);
  if (!text.ok()) return std::nullopt;
  Persisted persisted;
  if (!google::protobuf::TextFormat::ParseFromString(*text,
                                                     &persisted.record)) {
    return std::nullopt;
  }
  absl::StatusOr<std::string> model_bytes =
      ReadFileToString(LocalModelPath(state_dir), kMaxModelBytes);
  if (!model_bytes.ok() ||
      Sha256Hex(*model_bytes) != persisted.record.model_sha256() ||
      !persisted.weights.ParseFromString(*model_bytes)) {
    return std::nullopt;
  }
  // The model must also still fit the state graph (a spec digest collision
  // is not a concern; a stale binary with another encoding could be).
  if (!ImportModel(persisted.weights, environment, torch::kCPU).ok()) {
    return std::nullopt;
  }
  return persisted;
}

absl::Status Persist(const std::string& state_dir,
                     client::v1::LocalModelRecord record,
                     const v1::ModelWeights& weights) {
  RETURN_IF_ERROR(MakeDirectories(state_dir));
  // The model first: a crash in between leaves a record that does not match
  // the new model's digest, which reads as "no usable model".
  RETURN_IF_ERROR(WriteModelFile(LocalModelPath(state_dir), weights));
  // The digest of the bytes as written (map fields make re-serializing an
  // unreliable way to get them).
  ASSIGN_OR_RETURN(const std::string model_bytes,
                   ReadFileToString(LocalModelPath(state_dir), kMaxModelBytes));
  record.set_model_sha256(Sha256Hex(model_bytes));
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(record, &text)) {
    return absl::InternalError("could not print the local model record");
  }
  return WriteFileAtomically(LocalRecordPath(state_dir), text);
}

}  // namespace

std::string LocalModelPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/local.model");
}

std::string LocalRecordPath(const std::string& state_dir) {
  return absl::StrCat(state_dir, "/local.record");
}

absl::StatusOr<LocalSetup> PrepareLocalTraining(
    const v1::FederationSpec& spec, const LocalTrainingOptions& options) {
  LocalSetup setup;
  ASSIGN_OR_RETURN(setup.environment,
                   MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  ASSIGN_OR_RETURN(setup.reward_config, RewardConfig::Parse(options.reward));
  ASSIGN_OR_RETURN(setup.reward,
                   MakeLogReward(*setup.environment, setup.reward_config,
                                 RewardContext{spec.client_ids_size()}));
  ASSIGN_OR_RETURN(setup.architecture,
                   ArchitectureFromProto(spec.local_architecture()));
  ASSIGN_OR_RETURN(setup.training,
                   TrainingOptionsFromProto(spec.local_training(),
                                            TrainingOptions()));
  TrainingOptions& training = setup.training;
  if (options.iterations > 0) training.iterations = options.iterations;
  if (options.batch_size > 0) training.batch_size = options.batch_size;
  if (options.progress_every > 0) {
    training.progress_every = options.progress_every;
  }
  RETURN_IF_ERROR(training.Validate());
  return setup;
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
    const at::Tensor log_reward =
        (*setup.reward)(*states).to(torch::kFloat64);
    const int64_t bad =
        (log_reward.isnan() | (log_reward == INFINITY)).sum().item<int64_t>();
    if (bad > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the reward '", setup.reward_config.ToString(), "' is NaN or +inf on ",
          bad, " of ", states->size(0), " objects"));
    }
    scored = absl::StrCat("finite on all ", states->size(0),
                          " objects, log R in [",
                          log_reward.min().item<double>(), ", ",
                          log_reward.max().item<double>(), "]");
  }
  return absl::StrCat(
      "environment: ", setup.environment->config().ToString(), "\n",
      "reward: ", setup.reward->Describe(), " (", scored, ")\n",
      "local model: ", setup.architecture.ToString(), ", ",
      setup.training.iterations, " iterations x ", setup.training.batch_size,
      " trajectories\n");
}

absl::StatusOr<LocalTrainingResult> TrainOrReuseLocalModel(
    const v1::FederationSpec& spec, const std::string& spec_digest,
    const LocalTrainingOptions& options, const ProgressCallback& on_progress) {
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
        LocalTrainingResult result;
        result.weights = std::move(persisted->weights);
        result.diagnostics = record.diagnostics();
        result.round = record.round();
        result.reused = true;
        result.training_seconds = record.training_seconds();
        result.model_path = LocalModelPath(options.state_dir);
        return result;
      }
      // Same federation, new model: the server only takes newer rounds.
      round = record.round() + 1;
    }
  }

  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(PolicyNet policy,
                   MakePolicy(*environment, architecture, training.seed,
                              options.device));
  RewardTarget target(reward.get());
  ASSIGN_OR_RETURN(std::unique_ptr<Trainer> trainer,
                   Trainer::Create(environment.get(), policy, &target,
                                   training));
  RETURN_IF_ERROR(trainer->Run(on_progress));
  const double training_seconds = absl::ToDoubleSeconds(absl::Now() - start);

  RandomSource random(training.seed + 1);
  ASSIGN_OR_RETURN(
      LocalDiagnostics diagnostics,
      EstimateLocalDiagnostics(policy, *environment, *reward,
                               options.diagnostics_trajectories, random));

  LocalTrainingResult result;
  result.weights = ExportModel(*environment, policy);
  result.diagnostics = DiagnosticsToProto(diagnostics);
  result.round = round;
  result.training_seconds = training_seconds;
  if (!options.state_dir.empty()) {
    client::v1::LocalModelRecord record;
    record.set_spec_digest(spec_digest);
    record.set_reward(reward_text);
    record.set_iterations(training.iterations);
    record.set_batch_size(training.batch_size);
    record.set_round(round);
    *record.mutable_diagnostics() = result.diagnostics;
    record.set_training_seconds(training_seconds);
    RETURN_IF_ERROR(Persist(options.state_dir, record, result.weights));
    result.model_path = LocalModelPath(options.state_dir);
  }
  return result;
}

}  // namespace epgfn
