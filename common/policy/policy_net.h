#ifndef EPGFN_COMMON_POLICY_POLICY_NET_H_
#define EPGFN_COMMON_POLICY_POLICY_NET_H_

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"

namespace epgfn {

// The shape of a GFlowNet's networks. Together with the environment it fixes
// every parameter name and shape, which is what model import checks.
struct PolicyArchitecture {
  int64_t hidden_width = 256;
  int64_t hidden_layers = 2;
  // Learned p_B (a second head); otherwise p_B is uniform over the parents.
  bool learned_backward = false;
  // A log state-flow head, needed by detailed balance.
  bool state_flow = false;

  std::string ToString() const;
  bool operator==(const PolicyArchitecture& other) const {
    return hidden_width == other.hidden_width &&
           hidden_layers == other.hidden_layers &&
           learned_backward == other.learned_backward &&
           state_flow == other.state_flow;
  }
  bool operator!=(const PolicyArchitecture& other) const {
    return !(*this == other);
  }
  absl::Status Validate() const;
};

// An MLP torso shared by a forward-logit head, an optional backward-logit head
// and an optional log-flow head, plus a scalar log Z (used by trajectory
// balance only; kept in every model so all models have one layout).
class PolicyNetImpl : public torch::nn::Cloneable<PolicyNetImpl> {
 public:
  struct Output {
    torch::Tensor forward_logits;   // [B, num_forward_actions]
    torch::Tensor backward_logits;  // [B, num_backward_actions] or undefined
    torch::Tensor log_flow;         // [B] or undefined
  };

  // How the constructor (and reset()) fills the weights.
  enum class Initialisation {
    // LibTorch's default draws from the global generator (what training
    // starts from; MakePolicy seeds it).
    kDrawn,
    // Allocated but left as the memory was, for callers that overwrite every
    // weight (model import): skips a pass of random draws over every weight,
    // the largest part of an import. Leaves the global generator untouched.
    kUndrawn,
  };

  PolicyNetImpl(int64_t encoding_dim, int64_t num_forward_actions,
                int64_t num_backward_actions, PolicyArchitecture architecture,
                Initialisation initialisation = Initialisation::kDrawn);

  // Builds (or rebuilds, for clone()) every submodule and parameter.
  void reset() override;

  Output forward(const torch::Tensor& encoded_states);
  // The heads on the torso's output (the end of forward()).
  Output Heads(const torch::Tensor& hidden);

  // The Linear layers, for code that runs the network's passes itself
  // (ActivationTape); a head the architecture lacks is an empty holder.
  // Torso layer i (i < hidden_layers) is followed by an in-place LeakyReLU
  // of slope kNegativeSlope.
  torch::nn::Linear torso_layer(int64_t i) const;
  torch::nn::Linear forward_head() const { return forward_head_; }
  torch::nn::Linear backward_head() const { return backward_head_; }
  torch::nn::Linear flow_head() const { return flow_head_; }
  static constexpr double kNegativeSlope = 0.01;

  const PolicyArchitecture& architecture() const { return architecture_; }
  int64_t encoding_dim() const { return encoding_dim_; }
  int64_t num_forward_actions() const { return num_forward_actions_; }
  int64_t num_backward_actions() const { return num_backward_actions_; }
  torch::Tensor log_z() const { return log_z_; }
  torch::Device device() const { return log_z_.device(); }

 private:
  torch::nn::Linear MakeLinear(int64_t in_features, int64_t out_features) const;

  PolicyArchitecture architecture_;
  Initialisation initialisation_;
  int64_t encoding_dim_;
  int64_t num_forward_actions_;
  int64_t num_backward_actions_;
  torch::nn::Sequential torso_{nullptr};
  torch::nn::Linear forward_head_{nullptr};
  torch::nn::Linear backward_head_{nullptr};
  torch::nn::Linear flow_head_{nullptr};
  torch::Tensor log_z_;
};
TORCH_MODULE(PolicyNet);

// Builds a policy for `environment` with weights drawn from `seed`, on
// `device`. Deterministic for a given seed even when called from several
// threads (initialisation uses the global generator under a lock).
absl::StatusOr<PolicyNet> MakePolicy(const Environment& environment,
                                     const PolicyArchitecture& architecture,
                                     uint64_t seed, torch::Device device);

// A policy of the same layout as MakePolicy's whose weights are allocated but
// not initialised (any values, NaN included): only for callers that overwrite
// every parameter before the policy is used or seen, as ImportModel does. Does
// not touch the global generator.
absl::StatusOr<PolicyNet> MakeUninitialisedPolicy(
    const Environment& environment, const PolicyArchitecture& architecture,
    torch::Device device);

// A deep copy on the same device (for snapshots served while training goes on).
PolicyNet ClonePolicy(const PolicyNet& policy);

// What MaskedLogSoftmax puts in place of a disallowed logit: large,
// negative and finite (never -inf, so rows with nothing allowed stay finite
// and cannot poison gradients).
inline constexpr float kMaskedLogit = -1e9f;

// Log-softmax over the allowed entries; disallowed entries are replaced by
// kMaskedLogit first.
torch::Tensor MaskedLogSoftmax(const torch::Tensor& logits,
                               const torch::Tensor& mask);

}  // namespace epgfn

#endif  // EPGFN_COMMON_POLICY_POLICY_NET_H_
