#ifndef EPGFN_SERVER_CORE_FEDERATION_CONFIG_H_
#define EPGFN_SERVER_CORE_FEDERATION_CONFIG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"
#include "proto/federation_spec.pb.h"

namespace epgfn {

// FederationSpec.exclusion, validated: 0 means no limit.
struct ExclusionLimits {
  double max_alpha = 0.0;
  double max_beta = 0.0;

  bool any() const { return max_alpha > 0.0 || max_beta > 0.0; }
};

// The name that selects the default aggregate (the product of every
// client); a named aggregate may not take it.
inline constexpr char kDefaultAggregateName[] = "default";

// A validated FederationSpec.aggregate: a weighted product over a subset of
// the clients, published in its own version sequence.
struct NamedAggregateConfig {
  std::string name;
  // Client id -> exponent, as listed (zeros included: they are recorded).
  std::map<std::string, double> weights;

  // The client's exponent; 0 when not listed.
  double WeightOf(const std::string& client_id) const;
  // Clients with a positive weight, sorted.
  std::vector<std::string> Members() const;
};

// A validated federation: the spec as loaded, plus everything derived from
// it once at start-up so that no request has to re-parse or re-check it.
struct FederationConfig {
  v1::FederationSpec spec;
  // FederationSpecDigest(spec): what every upload must quote.
  std::string spec_digest;
  std::shared_ptr<const Environment> environment;
  PolicyArchitecture local_architecture;
  PolicyArchitecture global_architecture;
  TrainingOptions local_training;
  TrainingOptions aggregation;
  // Effective quorum in [1, number of clients] (the spec's 0 resolved).
  int quorum = 0;
  int64_t upload_deadline_seconds = 0;
  ExclusionLimits exclusion;
  // FederationSpec.aggregate, in the spec's order.
  std::vector<NamedAggregateConfig> aggregates;

  int num_clients() const { return spec.client_ids_size(); }
  bool IsClient(const std::string& client_id) const;
};

// Validates one named aggregate against `config`'s clients and the names
// already `taken`: a valid name (as client ids, not "default", not taken),
// known clients, finite non-negative weights with at least one positive.
// Errors are InvalidArgument and start with `field`.
absl::StatusOr<NamedAggregateConfig> ValidateNamedAggregate(
    const v1::NamedAggregate& aggregate, const FederationConfig& config,
    const std::vector<std::string>& taken, const std::string& field);

// Validates `spec`. Every error names the offending field.
absl::StatusOr<std::shared_ptr<const FederationConfig>>
FederationConfigFromSpec(const v1::FederationSpec& spec);

// Parses `text` as a FederationSpec textproto and validates it; errors name
// `source` (a file name, for messages).
absl::StatusOr<std::shared_ptr<const FederationConfig>> ParseFederationConfig(
    absl::string_view text, const std::string& source);

// Parses the textproto at `path` and validates it; errors name the file.
absl::StatusOr<std::shared_ptr<const FederationConfig>> LoadFederationConfig(
    const std::string& path);

// The largest policy (parameters + buffers) a federation may ask for: 2^28
// float32 values are 1 GiB, which keeps every model below protobuf's 2 GiB
// message limit with room to spare, and a config that a typo made a
// thousand times larger is refused instead of exhausting the server's memory.
inline constexpr int64_t kMaxPolicyParameters = int64_t{1} << 28;

// Client ids become file names under the state directory, so they are
// restricted to [A-Za-z0-9._-]+ (and may not be "." or "..").
bool IsValidClientId(const std::string& client_id);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_FEDERATION_CONFIG_H_
