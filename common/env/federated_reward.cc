#include "common/env/federated_reward.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// (log prior / num_clients + log likelihood) / temperature, in float64 from
// the parts' float64 values, so that training's float32 reward is rounded
// once.
class FederatedReward : public LogReward {
 public:
  FederatedReward(RewardParts parts, int64_t num_clients, double temperature)
      : parts_(std::move(parts)),
        num_clients_(num_clients),
        temperature_(temperature) {}

  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    at::Tensor value = parts_.log_likelihood->LogRewardFloat64(states);
    if (parts_.log_prior != nullptr) {
      value = value + parts_.log_prior->LogRewardFloat64(states) /
                          static_cast<double>(num_clients_);
    }
    return value / temperature_;
  }

  std::string Describe() const override {
    std::string text = parts_.log_likelihood->Describe();
    if (parts_.log_prior != nullptr) {
      absl::StrAppend(&text, "; prior ", parts_.log_prior->Describe(),
                      " to the power 1/", num_clients_);
    }
    if (temperature_ != 1.0)
      absl::StrAppend(&text, "; temperature ", temperature_);
    return text;
  }

 private:
  RewardParts parts_;
  int64_t num_clients_;
  double temperature_;
};

}  // namespace

absl::StatusOr<FederatedRewardParams> ReadFederatedRewardParams(
    const RewardConfig& config, const RewardContext& context) {
  if (context.num_clients < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a federation needs at least one client, got ", context.num_clients));
  }
  FederatedRewardParams result;
  ASSIGN_OR_RETURN(result.temperature,
                   config.params.GetDouble("temperature", 1.0, 1e-6, 1e6));
  if (config.params.Has("count")) {
    ASSIGN_OR_RETURN(const int64_t count,
                     config.params.GetInt("count", 1, 1, int64_t{1} << 40));
    if (count != context.num_clients) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reward '", config.ToString(), "' splits its data into count=", count,
          " shares but the federation has ", context.num_clients,
          " clients; the prior's share comes from the federation"));
    }
  }
  std::map<std::string, std::string> values = config.params.values();
  values.erase("temperature");
  result.environment_config.kind = config.kind;
  result.environment_config.params = ParamMap(std::move(values));
  return result;
}

absl::StatusOr<std::unique_ptr<LogReward>> ComposeFederatedReward(
    RewardParts parts, const RewardContext& context, double temperature) {
  if (parts.log_likelihood == nullptr) {
    return absl::InternalError("a reward maker returned no likelihood");
  }
  if (context.num_clients < 1 || !std::isfinite(temperature) ||
      temperature <= 0.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid federation for a reward: ", context.num_clients,
                     " clients, temperature ", temperature));
  }
  return std::unique_ptr<LogReward>(
      new FederatedReward(std::move(parts), context.num_clients, temperature));
}

}  // namespace epgfn
