#include "server/core/federation_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/environment_registry.h"
#include "common/model/spec_conversion.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Config files are small; anything larger is a mistake (a model file?).
constexpr int64_t kMaxConfigBytes = 1 << 20;

absl::Status Prefixed(const std::string& field, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(field, ": ", status.message()));
}

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    // TextFormat reports 0-based lines and columns.
    errors_.push_back(absl::StrCat(line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  std::string Joined() const { return absl::StrJoin(errors_, "; "); }

 private:
  std::vector<std::string> errors_;
};

}  // namespace

bool FederationConfig::IsClient(const std::string& client_id) const {
  for (const std::string& id : spec.client_ids()) {
    if (id == client_id) return true;
  }
  return false;
}

bool IsValidClientId(const std::string& client_id) {
  if (client_id.empty() || client_id.size() > 128) return false;
  if (client_id == "." || client_id == "..") return false;
  for (char c : client_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<std::shared_ptr<const FederationConfig>>
FederationConfigFromSpec(const v1::FederationSpec& spec) {
  auto config = std::make_shared<FederationConfig>();
  config->spec = spec;
  config->spec_digest = FederationSpecDigest(spec);

  if (spec.environment().kind().empty()) {
    return absl::InvalidArgumentError("environment.kind must be set");
  }
  absl::StatusOr<std::unique_ptr<Environment>> environment =
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment()));
  if (!environment.ok()) {
    // An unknown kind is NotFound to the registry, but here it is simply a
    // bad config value.
    return absl::InvalidArgumentError(
        absl::StrCat("environment: ", environment.status().message()));
  }
  config->environment = std::move(environment).value();

  absl::StatusOr<PolicyArchitecture> local =
      ArchitectureFromProto(spec.local_architecture());
  if (!local.ok()) return Prefixed("local_architecture", local.status());
  config->local_architecture = *local;
  absl::StatusOr<PolicyArchitecture> global =
      ArchitectureFromProto(spec.global_architecture());
  if (!global.ok()) return Prefixed("global_architecture", global.status());
  config->global_architecture = *global;

  if (spec.client_ids().empty()) {
    return absl::InvalidArgumentError(
        "client_ids must list at least one client");
  }
  std::set<std::string> seen;
  for (int i = 0; i < spec.client_ids_size(); ++i) {
    const std::string& id = spec.client_ids(i);
    if (!IsValidClientId(id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "client_ids[", i, "] = '", id,
          "' is not a valid client id ([A-Za-z0-9._-]+, at most 128 "
          "characters)"));
    }
    if (!seen.insert(id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("client_ids[", i, "] = '", id, "' is listed twice"));
    }
  }
  const int n = spec.client_ids_size();
  if (spec.quorum() < 0 || spec.quorum() > n) {
    return absl::InvalidArgumentError(absl::StrCat("quorum must lie in [0, ", n,
                                                   "] (0 = every client), got ",
                                                   spec.quorum()));
  }
  config->quorum = spec.quorum() == 0 ? n : spec.quorum();
  if (spec.upload_deadline_seconds() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("upload_deadline_seconds must be >= 0, got ",
                     spec.upload_deadline_seconds()));
  }
  config->upload_deadline_seconds = spec.upload_deadline_seconds();
  // !(x >= 0) also refuses NaN.
  if (!(spec.exclusion().max_alpha() >= 0.0) ||
      !(spec.exclusion().max_alpha() < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exclusion.max_alpha must lie in [0, 1) (0 = no limit), got ",
        spec.exclusion().max_alpha()));
  }
  if (!(spec.exclusion().max_beta() >= 0.0) ||
      !std::isfinite(spec.exclusion().max_beta())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exclusion.max_beta must be finite and >= 0 (0 = no limit), got ",
        spec.exclusion().max_beta()));
  }
  config->exclusion.max_alpha = spec.exclusion().max_alpha();
  config->exclusion.max_beta = spec.exclusion().max_beta();

  absl::StatusOr<TrainingOptions> local_training =
      TrainingOptionsFromProto(spec.local_training(), TrainingOptions());
  if (!local_training.ok()) {
    return Prefixed("local_training", local_training.status());
  }
  config->local_training = *local_training;
  absl::StatusOr<TrainingOptions> aggregation =
      TrainingOptionsFromProto(spec.aggregation(), TrainingOptions());
  if (!aggregation.ok()) return Prefixed("aggregation", aggregation.status());
  if (aggregation->loss == LossKind::kDetailedBalance) {
    return absl::InvalidArgumentError(
        "aggregation.loss: \"db\" is not allowed for aggregation (it has no "
        "per-trajectory target); use \"cb\" or \"tb\"");
  }
  config->aggregation = *aggregation;
  return std::shared_ptr<const FederationConfig>(std::move(config));
}

absl::StatusOr<std::shared_ptr<const FederationConfig>> LoadFederationConfig(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxConfigBytes);
  if (!text.ok()) {
    return Prefixed(absl::StrCat("federation config ", path), text.status());
  }
  v1::FederationSpec spec;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(*text, &spec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("federation config ", path,
                     " is not a FederationSpec textproto: ", errors.Joined()));
  }
  absl::StatusOr<std::shared_ptr<const FederationConfig>> config =
      FederationConfigFromSpec(spec);
  if (!config.ok()) {
    return Prefixed(absl::StrCat("federation config ", path), config.status());
  }
  return config;
}

}  // namespace epgfn
