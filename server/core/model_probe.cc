#include "server/core/model_probe.h"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sampling/random.h"

namespace epgfn {
namespace {

// Long enough to reach deep states on the shipped environments, short
// enough to keep an upload's validation cheap.
constexpr int64_t kMaxProbeSteps = 64;

// Random walks that take uniformly drawn non-exit actions until only exit is
// allowed; every visited state (s0 included) is returned.
torch::Tensor ProbeStates(const Environment& environment, int64_t num_walks,
                          uint64_t seed, torch::Device device) {
  RandomSource random(seed);
  const int64_t exit_action = environment.exit_action();
  torch::Tensor states = environment.InitialStates(num_walks, device);
  std::vector<torch::Tensor> visited = {states};
  const int64_t steps =
      std::min(environment.max_trajectory_length(), kMaxProbeSteps);
  for (int64_t t = 0; t < steps; ++t) {
    torch::Tensor moves = environment.ForwardMask(states).clone();
    moves.select(1, exit_action).fill_(false);
    torch::Tensor can_move = moves.any(1);
    torch::Tensor rows = can_move.nonzero().squeeze(1);
    if (rows.size(0) == 0) break;
    torch::Tensor probabilities =
        moves.index_select(0, rows).to(torch::kFloat32);
    torch::Tensor actions = random.Categorical(probabilities);
    states = states.index_copy(
        0, rows, environment.Step(states.index_select(0, rows), actions));
    visited.push_back(states);
  }
  return torch::cat(visited, 0);
}

bool AllFinite(const torch::Tensor& tensor) {
  return !tensor.defined() || torch::isfinite(tensor).all().item<bool>();
}

}  // namespace

absl::Status CheckOutputsFinite(PolicyNet& policy,
                                const Environment& environment, uint64_t seed,
                                int64_t num_walks) {
  torch::NoGradGuard no_grad;
  torch::Tensor states =
      ProbeStates(environment, num_walks, seed, policy->device());
  PolicyNetImpl::Output output = policy->forward(environment.Encode(states));
  if (!AllFinite(output.forward_logits)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the model's forward logits are not finite on some of ",
                     states.size(0), " probe states"));
  }
  if (!AllFinite(output.backward_logits)) {
    return absl::InvalidArgumentError(
        "the model's backward logits are not finite on some probe states");
  }
  if (!AllFinite(output.log_flow)) {
    return absl::InvalidArgumentError(
        "the model's log state flow is not finite on some probe states");
  }
  if (!AllFinite(policy->log_z())) {
    return absl::InvalidArgumentError("the model's log Z is not finite");
  }
  return absl::OkStatus();
}

}  // namespace epgfn
