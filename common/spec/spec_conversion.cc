#include "common/spec/spec_conversion.h"

#include "common/model/deterministic_bytes.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"

namespace epgfn {

EnvironmentConfig EnvironmentConfigFromProto(const v1::EnvironmentSpec& spec) {
  EnvironmentConfig config;
  config.kind = spec.kind();
  for (const auto& [key, value] : spec.params()) config.params.Set(key, value);
  return config;
}

v1::EnvironmentSpec EnvironmentConfigToProto(const EnvironmentConfig& config) {
  v1::EnvironmentSpec spec;
  spec.set_kind(config.kind);
  for (const auto& [key, value] : config.params.values()) {
    (*spec.mutable_params())[key] = value;
  }
  return spec;
}

absl::StatusOr<PolicyArchitecture> ArchitectureFromProto(
    const v1::PolicyArchitecture& proto) {
  PolicyArchitecture architecture;
  architecture.hidden_width = proto.hidden_width();
  architecture.hidden_layers = proto.hidden_layers();
  architecture.learned_backward = proto.learned_backward();
  architecture.state_flow = proto.state_flow();
  RETURN_IF_ERROR(architecture.Validate());
  return architecture;
}

v1::PolicyArchitecture ArchitectureToProto(
    const PolicyArchitecture& architecture) {
  v1::PolicyArchitecture proto;
  proto.set_hidden_width(architecture.hidden_width);
  proto.set_hidden_layers(architecture.hidden_layers);
  proto.set_learned_backward(architecture.learned_backward);
  proto.set_state_flow(architecture.state_flow);
  return proto;
}

absl::StatusOr<TrainingOptions> TrainingOptionsFromProto(
    const v1::TrainingConfig& proto, const TrainingOptions& defaults) {
  TrainingOptions options = defaults;
  if (!proto.loss().empty()) {
    ASSIGN_OR_RETURN(options.loss, ParseLossKind(proto.loss()));
  }
  if (proto.iterations() != 0) options.iterations = proto.iterations();
  if (proto.batch_size() != 0) options.batch_size = proto.batch_size();
  if (proto.learning_rate() != 0) options.learning_rate = proto.learning_rate();
  if (proto.epsilon() != 0) options.exploration.epsilon = proto.epsilon();
  if (proto.seed() != 0) options.seed = proto.seed();
  if (proto.max_gradient_norm() != 0) {
    options.max_gradient_norm = proto.max_gradient_norm();
  }
  RETURN_IF_ERROR(options.Validate());
  return options;
}

LocalDiagnostics DiagnosticsFromProto(const v1::LocalDiagnostics& proto) {
  LocalDiagnostics diagnostics;
  diagnostics.alpha = proto.alpha();
  diagnostics.beta = proto.beta();
  diagnostics.log_z_estimate = proto.log_z_estimate();
  diagnostics.num_trajectories = proto.num_trajectories();
  if (proto.has_fcs()) diagnostics.fcs = proto.fcs();
  return diagnostics;
}

v1::LocalDiagnostics DiagnosticsToProto(const LocalDiagnostics& diagnostics) {
  v1::LocalDiagnostics proto;
  proto.set_alpha(diagnostics.alpha);
  proto.set_beta(diagnostics.beta);
  proto.set_log_z_estimate(diagnostics.log_z_estimate);
  proto.set_num_trajectories(diagnostics.num_trajectories);
  if (diagnostics.fcs) proto.set_fcs(*diagnostics.fcs);
  return proto;
}

std::string FederationSpecDigest(const v1::FederationSpec& spec) {
  // Equal specs must hash equally on every party, whatever their map order.
  // A spec never approaches the 2 GiB limit (the config loader caps it).
  // Named aggregates are the server's business, not the clients': adding
  // one must not invalidate the uploads already accepted.
  v1::FederationSpec hashed = spec;
  hashed.clear_aggregate();
  absl::StatusOr<std::string> bytes = DeterministicBytes(hashed);
  return Sha256Hex(bytes.ok() ? *bytes : std::string());
}

}  // namespace epgfn
