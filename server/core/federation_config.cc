#include "server/core/federation_config.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/environment_registry.h"
#include "common/spec/spec_conversion.h"
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

// The path of the first string field of `message` (recursively) that is not
// valid UTF-8, if any. Proto3 string fields must hold UTF-8: a parser refuses
// a message with anything else, so a spec holding it would be served
// (GetSpec) to clients that cannot read it. TextFormat accepts such bytes
// from escapes ("\377") with only a logged error.
std::optional<std::string> FirstNonUtf8Field(
    const google::protobuf::Message& message, const std::string& prefix) {
  using google::protobuf::FieldDescriptor;
  // protobuf's own check, so a spec is refused exactly when parsers would.
  auto valid = [](const std::string& text) {
    return google::protobuf::internal::IsStructurallyValidUTF8(
        text.data(), static_cast<int>(text.size()));
  };
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string name = prefix + field->name();
    const int count =
        field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      const std::string path =
          field->is_repeated() ? absl::StrCat(name, "[", i, "]") : name;
      if (field->type() == FieldDescriptor::TYPE_STRING) {
        std::string scratch;
        const std::string& value =
            field->is_repeated()
                ? reflection->GetRepeatedStringReference(message, field, i,
                                                         &scratch)
                : reflection->GetStringReference(message, field, &scratch);
        if (!valid(value)) return path;
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        const google::protobuf::Message& child =
            field->is_repeated()
                ? reflection->GetRepeatedMessage(message, field, i)
                : reflection->GetMessage(message, field);
        std::optional<std::string> found = FirstNonUtf8Field(child, path + ".");
        if (found) return found;
      }
    }
  }
  return std::nullopt;
}

// Parameters of a policy of `architecture` on `environment` (see
// PolicyNetImpl::reset), or kMaxPolicyParameters + 1 when it is larger.
// Validate() bounds width by 2^16 and layers by 64, so with the encoding
// dimension and action counts clamped to 2^31 no product below overflows.
int64_t PolicyParameterCount(const PolicyArchitecture& architecture,
                             const Environment& environment) {
  constexpr int64_t kClamp = int64_t{1} << 31;
  const int64_t width = architecture.hidden_width;
  const int64_t input = std::min(environment.encoding_dim(), kClamp);
  const int64_t forward = std::min(environment.num_forward_actions(), kClamp);
  const int64_t backward = std::min(environment.num_backward_actions(), kClamp);
  int64_t count = (input + 1) * width;
  for (int64_t layer = 1; layer < architecture.hidden_layers; ++layer) {
    count += (width + 1) * width;
  }
  count += (width + 1) * forward;
  if (count > kMaxPolicyParameters) return kMaxPolicyParameters + 1;
  if (architecture.learned_backward) count += (width + 1) * backward;
  if (architecture.state_flow) count += width + 1;
  return std::min(count + 1, kMaxPolicyParameters + 1);  // + log Z
}

absl::Status CheckPolicySize(const std::string& field,
                             const PolicyArchitecture& architecture,
                             const Environment& environment) {
  const int64_t count = PolicyParameterCount(architecture, environment);
  if (count <= kMaxPolicyParameters) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", architecture.ToString(), " on ",
                   environment.config().ToString(), " has more than ",
                   kMaxPolicyParameters, " parameters (the limit)"));
}

}  // namespace

bool FederationConfig::IsClient(const std::string& client_id) const {
  for (const std::string& id : spec.client_ids()) {
    if (id == client_id) return true;
  }
  return false;
}

double NamedAggregateConfig::WeightOf(const std::string& client_id) const {
  auto it = weights.find(client_id);
  return it == weights.end() ? 0.0 : it->second;
}

std::vector<std::string> NamedAggregateConfig::Members() const {
  std::vector<std::string> members;
  for (const auto& [client_id, weight] : weights) {
    if (weight > 0.0) members.push_back(client_id);
  }
  return members;
}

absl::StatusOr<NamedAggregateConfig> ValidateNamedAggregate(
    const v1::NamedAggregate& aggregate, const FederationConfig& config,
    const std::vector<std::string>& taken, const std::string& field) {
  const std::string& name = aggregate.name();
  // The name becomes a folder under the state directory.
  if (!IsValidClientId(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".name = '", name,
        "' is not a valid aggregate name ([A-Za-z0-9._-]+, at most 128 "
        "characters)"));
  }
  if (name == kDefaultAggregateName) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".name = '", name,
        "' is the default aggregate's name (the product of every client)"));
  }
  if (std::find(taken.begin(), taken.end(), name) != taken.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".name = '", name, "' is used twice"));
  }
  if (aggregate.weights().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ('", name, "'): weights must list at least one client"));
  }
  NamedAggregateConfig named;
  named.name = name;
  bool any_positive = false;
  for (const auto& [client_id, weight] : aggregate.weights()) {
    const std::string where =
        absl::StrCat(field, " ('", name, "'): weights['", client_id, "']");
    if (!config.IsClient(client_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown client (not in client_ids)"));
    }
    // !(w >= 0) also refuses NaN.
    if (!(weight >= 0.0) || !std::isfinite(weight)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " = ", weight, ": weights must be finite and >= 0"));
    }
    any_positive = any_positive || weight > 0.0;
    named.weights[client_id] = weight;
  }
  if (!any_positive) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " ('", name,
        "'): every weight is 0; at least one client needs a positive weight"));
  }
  return named;
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

namespace {

// The steps of FederationConfigFromSpec, in the order it checks the spec
// (so the first problem reported stays the same); each fills its part of
// `config`.

absl::Status SetEnvironment(const v1::FederationSpec& spec,
                            FederationConfig& config) {
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
  config.environment = std::move(environment).value();
  return absl::OkStatus();
}

absl::StatusOr<PolicyArchitecture> CheckedArchitecture(
    const std::string& field, const v1::PolicyArchitecture& proto,
    const Environment& environment) {
  absl::StatusOr<PolicyArchitecture> architecture =
      ArchitectureFromProto(proto);
  if (!architecture.ok()) return Prefixed(field, architecture.status());
  RETURN_IF_ERROR(CheckPolicySize(field, *architecture, environment));
  return architecture;
}

absl::Status CheckClientIds(const v1::FederationSpec& spec) {
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
  return absl::OkStatus();
}

// Quorum, deadline and the exclusion policy.
absl::Status SetAggregationRules(const v1::FederationSpec& spec,
                                 FederationConfig& config) {
  const int n = spec.client_ids_size();
  if (spec.quorum() < 0 || spec.quorum() > n) {
    return absl::InvalidArgumentError(absl::StrCat("quorum must lie in [0, ", n,
                                                   "] (0 = every client), got ",
                                                   spec.quorum()));
  }
  config.quorum = spec.quorum() == 0 ? n : spec.quorum();
  if (spec.upload_deadline_seconds() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("upload_deadline_seconds must be >= 0, got ",
                     spec.upload_deadline_seconds()));
  }
  config.upload_deadline_seconds = spec.upload_deadline_seconds();
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
  config.exclusion.max_alpha = spec.exclusion().max_alpha();
  config.exclusion.max_beta = spec.exclusion().max_beta();
  return absl::OkStatus();
}

absl::Status SetTraining(const v1::FederationSpec& spec,
                         FederationConfig& config) {
  absl::StatusOr<TrainingOptions> local_training =
      TrainingOptionsFromProto(spec.local_training(), TrainingOptions());
  if (!local_training.ok()) {
    return Prefixed("local_training", local_training.status());
  }
  config.local_training = *local_training;
  absl::StatusOr<TrainingOptions> aggregation =
      TrainingOptionsFromProto(spec.aggregation(), TrainingOptions());
  if (!aggregation.ok()) return Prefixed("aggregation", aggregation.status());
  if (aggregation->loss == LossKind::kDetailedBalance) {
    return absl::InvalidArgumentError(
        "aggregation.loss: \"db\" is not allowed for aggregation (it has no "
        "per-trajectory target); use \"cb\" or \"tb\"");
  }
  config.aggregation = *aggregation;
  return absl::OkStatus();
}

absl::Status SetNamedAggregates(const v1::FederationSpec& spec,
                                FederationConfig& config) {
  std::vector<std::string> names;
  for (int i = 0; i < spec.aggregate_size(); ++i) {
    ASSIGN_OR_RETURN(
        NamedAggregateConfig named,
        ValidateNamedAggregate(spec.aggregate(i), config, names,
                               absl::StrCat("aggregate[", i, "]")));
    names.push_back(named.name);
    config.aggregates.push_back(std::move(named));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const FederationConfig>>
FederationConfigFromSpec(const v1::FederationSpec& spec) {
  if (std::optional<std::string> field = FirstNonUtf8Field(spec, "")) {
    return absl::InvalidArgumentError(
        absl::StrCat(*field, ": not valid UTF-8 (string fields must be)"));
  }
  auto config = std::make_shared<FederationConfig>();
  config->spec = spec;
  config->spec_digest = FederationSpecDigest(spec);
  RETURN_IF_ERROR(SetEnvironment(spec, *config));
  ASSIGN_OR_RETURN(
      config->local_architecture,
      CheckedArchitecture("local_architecture", spec.local_architecture(),
                          *config->environment));
  ASSIGN_OR_RETURN(
      config->global_architecture,
      CheckedArchitecture("global_architecture", spec.global_architecture(),
                          *config->environment));
  RETURN_IF_ERROR(CheckClientIds(spec));
  RETURN_IF_ERROR(SetAggregationRules(spec, *config));
  RETURN_IF_ERROR(SetTraining(spec, *config));
  RETURN_IF_ERROR(SetNamedAggregates(spec, *config));
  return std::shared_ptr<const FederationConfig>(std::move(config));
}

absl::StatusOr<std::shared_ptr<const FederationConfig>> ParseFederationConfig(
    absl::string_view text, const std::string& source) {
  v1::FederationSpec spec;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  // ParseFromString takes a std::string in protobuf 3.21.
  if (!parser.ParseFromString(std::string(text), &spec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("federation config ", source,
                     " is not a FederationSpec textproto: ", errors.Joined()));
  }
  absl::StatusOr<std::shared_ptr<const FederationConfig>> config =
      FederationConfigFromSpec(spec);
  if (!config.ok()) {
    return Prefixed(absl::StrCat("federation config ", source),
                    config.status());
  }
  return config;
}

absl::StatusOr<std::shared_ptr<const FederationConfig>> LoadFederationConfig(
    const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxConfigBytes);
  if (!text.ok()) {
    return Prefixed(absl::StrCat("federation config ", path), text.status());
  }
  return ParseFederationConfig(*text, path);
}

}  // namespace epgfn
