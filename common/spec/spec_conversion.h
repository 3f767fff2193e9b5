#ifndef EPGFN_COMMON_SPEC_SPEC_CONVERSION_H_
#define EPGFN_COMMON_SPEC_SPEC_CONVERSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/aggregate/local_model.h"
#include "common/env/environment_config.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"
#include "proto/federation_spec.pb.h"
#include "proto/model.pb.h"

namespace epgfn {

// Conversions between the wire/config messages of proto/ and the core's
// structs. Values from the wire are validated here, once.

EnvironmentConfig EnvironmentConfigFromProto(const v1::EnvironmentSpec& spec);
v1::EnvironmentSpec EnvironmentConfigToProto(const EnvironmentConfig& config);

// InvalidArgument for out-of-range sizes.
absl::StatusOr<PolicyArchitecture> ArchitectureFromProto(
    const v1::PolicyArchitecture& proto);
v1::PolicyArchitecture ArchitectureToProto(
    const PolicyArchitecture& architecture);

// Zero fields keep the defaults of `defaults`; InvalidArgument for an unknown
// loss or invalid values.
absl::StatusOr<TrainingOptions> TrainingOptionsFromProto(
    const v1::TrainingConfig& proto, const TrainingOptions& defaults);

LocalDiagnostics DiagnosticsFromProto(const v1::LocalDiagnostics& proto);
v1::LocalDiagnostics DiagnosticsToProto(const LocalDiagnostics& diagnostics);

// Lower-case hex SHA-256 of the deterministic serialization of `spec`, which
// every upload quotes.
std::string FederationSpecDigest(const v1::FederationSpec& spec);

}  // namespace epgfn

#endif  // EPGFN_COMMON_SPEC_SPEC_CONVERSION_H_
