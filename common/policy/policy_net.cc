#include "common/policy/policy_net.h"

#include <torch/utils.h>

#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

std::mutex& InitialisationMutex() {
  static std::mutex* mutex = new std::mutex;
  return *mutex;
}

}  // namespace

std::string PolicyArchitecture::ToString() const {
  return absl::StrCat("mlp(width=", hidden_width, ",layers=", hidden_layers,
                      ",learned_backward=", learned_backward ? 1 : 0,
                      ",state_flow=", state_flow ? 1 : 0, ")");
}

absl::Status PolicyArchitecture::Validate() const {
  if (hidden_width < 1 || hidden_width > 65536) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hidden_width must lie in [1, 65536], got ", hidden_width));
  }
  if (hidden_layers < 1 || hidden_layers > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("hidden_layers must lie in [1, 64], got ", hidden_layers));
  }
  return absl::OkStatus();
}

PolicyNetImpl::PolicyNetImpl(int64_t encoding_dim, int64_t num_forward_actions,
                             int64_t num_backward_actions,
                             PolicyArchitecture architecture,
                             Initialisation initialisation)
    : architecture_(architecture),
      initialisation_(initialisation),
      encoding_dim_(encoding_dim),
      num_forward_actions_(num_forward_actions),
      num_backward_actions_(num_backward_actions) {
  reset();
}

void PolicyNetImpl::reset() {
  torso_ = torch::nn::Sequential();
  int64_t width = encoding_dim_;
  for (int64_t layer = 0; layer < architecture_.hidden_layers; ++layer) {
    torso_->push_back(MakeLinear(width, architecture_.hidden_width));
    // In place: the activation overwrites the Linear output it follows
    // (autograd's leaky_relu_ backward reads the result, negative slope
    // 0.01 > 0), saving one [B, width] allocation and pass per layer.
    torso_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions()
                                               .negative_slope(kNegativeSlope)
                                               .inplace(true)));
    width = architecture_.hidden_width;
  }
  torso_ = register_module("torso", torso_);
  forward_head_ =
      register_module("forward_head", MakeLinear(width, num_forward_actions_));
  if (architecture_.learned_backward) {
    backward_head_ = register_module("backward_head",
                                     MakeLinear(width, num_backward_actions_));
  }
  if (architecture_.state_flow) {
    flow_head_ = register_module("flow_head", MakeLinear(width, 1));
  }
  log_z_ = register_parameter("log_z", torch::zeros({1}));
}

torch::nn::Linear PolicyNetImpl::MakeLinear(int64_t in_features,
                                            int64_t out_features) const {
  if (initialisation_ == Initialisation::kDrawn) {
    return torch::nn::Linear(in_features, out_features);
  }
  // LibTorch 1.13's LinearImpl draws its weights in its constructor and has
  // no way to skip that. Built with no outputs it draws nothing (its weight
  // is [0, in_features], so the fan-in its bounds use stays in_features);
  // the parameters then get their real sizes in place, keeping the tensors
  // the module registered (as Cloneable::clone does with set_data).
  torch::nn::Linear linear(torch::nn::LinearOptions(in_features, 0));
  linear->options.out_features(out_features);
  torch::NoGradGuard no_grad;
  linear->weight.set_data(torch::empty({out_features, in_features}));
  linear->bias.set_data(torch::empty({out_features}));
  return linear;
}

PolicyNetImpl::Output PolicyNetImpl::forward(
    const torch::Tensor& encoded_states) {
  return Heads(torso_->forward(encoded_states));
}

PolicyNetImpl::Output PolicyNetImpl::Heads(const torch::Tensor& hidden) {
  Output output;
  output.forward_logits = forward_head_->forward(hidden);
  if (backward_head_) output.backward_logits = backward_head_->forward(hidden);
  if (flow_head_) output.log_flow = flow_head_->forward(hidden).squeeze(-1);
  return output;
}

torch::nn::Linear PolicyNetImpl::torso_layer(int64_t i) const {
  // The torso alternates Linear and LeakyReLU.
  return torch::nn::Linear(torso_->ptr<torch::nn::LinearImpl>(2 * i));
}

namespace {

// MakePolicy's and MakeUninitialisedPolicy's layout: the weights drawn from
// `seed` (under the lock, after validation, as the global generator is
// shared), or not drawn at all without one.
absl::StatusOr<PolicyNet> BuildPolicy(const Environment& environment,
                                      const PolicyArchitecture& architecture,
                                      std::optional<uint64_t> seed,
                                      torch::Device device) {
  if (absl::Status status = architecture.Validate(); !status.ok()) {
    return status;
  }
  std::unique_lock<std::mutex> lock(InitialisationMutex(), std::defer_lock);
  if (seed.has_value()) {
    lock.lock();
    torch::manual_seed(*seed);
  }
  PolicyNet policy(environment.encoding_dim(),
                   environment.num_forward_actions(),
                   environment.num_backward_actions(), architecture,
                   seed.has_value() ? PolicyNetImpl::Initialisation::kDrawn
                                    : PolicyNetImpl::Initialisation::kUndrawn);
  policy->to(device);
  return policy;
}

}  // namespace

absl::StatusOr<PolicyNet> MakePolicy(const Environment& environment,
                                     const PolicyArchitecture& architecture,
                                     uint64_t seed, torch::Device device) {
  return BuildPolicy(environment, architecture, seed, device);
}

absl::StatusOr<PolicyNet> MakeUninitialisedPolicy(
    const Environment& environment, const PolicyArchitecture& architecture,
    torch::Device device) {
  return BuildPolicy(environment, architecture, std::nullopt, device);
}

PolicyNet ClonePolicy(const PolicyNet& policy) {
  // Built undrawn, then every parameter copied: clone() rebuilt the layers
  // through reset(), drawing every weight from the global generator (under
  // the lock) only to overwrite it, a pass of random draws per snapshot.
  PolicyNet clone(policy->encoding_dim(), policy->num_forward_actions(),
                  policy->num_backward_actions(), policy->architecture(),
                  PolicyNetImpl::Initialisation::kUndrawn);
  clone->to(policy->device());
  {
    torch::NoGradGuard no_grad;
    const auto from = policy->named_parameters();
    auto to = clone->named_parameters();
    for (const auto& parameter : from) {
      torch::Tensor& destination = to[parameter.key()];
      destination.copy_(parameter.value());
      destination.set_requires_grad(parameter.value().requires_grad());
    }
  }
  clone->train(policy->is_training());
  return clone;
}

torch::Tensor MaskedLogSoftmax(const torch::Tensor& logits,
                               const torch::Tensor& mask) {
  return logits.masked_fill(mask.logical_not(), kMaskedLogit).log_softmax(-1);
}

}  // namespace epgfn
