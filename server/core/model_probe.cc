#include "server/core/model_probe.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/sampling/random.h"
#include "common/util/sha256.h"

namespace epgfn {
namespace {

// Long enough to reach deep states on the shipped environments, short
// enough to keep an upload's validation cheap.
constexpr int64_t kMaxProbeSteps = 64;

bool AllFinite(const torch::Tensor& tensor) {
  return !tensor.defined() || torch::isfinite(tensor).all().item<bool>();
}

// Finite and within kMaxProbeLogMagnitude; undefined tensors pass.
absl::Status CheckBounded(const torch::Tensor& tensor, const char* what,
                          int64_t num_trajectories) {
  if (!tensor.defined() || tensor.numel() == 0) return absl::OkStatus();
  if (!AllFinite(tensor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the model's ", what, " is not finite on some of ",
                     num_trajectories, " probe trajectories"));
  }
  const double largest = tensor.abs().max().item<double>();
  if (largest > kMaxProbeLogMagnitude) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model's ", what, " reaches magnitude ", largest,
        " on a probe trajectory, above the limit ", kMaxProbeLogMagnitude));
  }
  return absl::OkStatus();
}

// ComputeTrajectoryLogProbs of `probe` from the outputs on the distinct
// states: state t of walk b is distinct row inverse[t * B + b]. Each row's
// outputs are those of its repeats, so this is the pass over every step.
TrajectoryLogProbs LogProbsOfDistinct(const Environment& environment,
                                      const Trajectories& probe,
                                      const ProbeEvaluation& evaluation,
                                      const torch::Tensor& inverse) {
  const FlatSteps steps = FlattenSteps(environment, probe);
  const torch::Tensor rows = inverse.index_select(0, steps.visited);
  const PolicyNetImpl::Output& distinct = evaluation.outputs;
  PolicyNetImpl::Output visited;
  visited.forward_logits = distinct.forward_logits.index_select(0, rows);
  if (distinct.backward_logits.defined()) {
    visited.backward_logits = distinct.backward_logits.index_select(0, rows);
  }
  if (distinct.log_flow.defined()) {
    visited.log_flow = distinct.log_flow.index_select(0, rows);
  }
  return LogProbsFromOutputs(environment, steps, visited,
                             environment.ForwardMask(steps.VisitedStates()));
}

}  // namespace

Trajectories UniformProbeTrajectories(const Environment& environment,
                                      int64_t num_walks, uint64_t seed,
                                      torch::Device device) {
  RandomSource random(seed);
  const int64_t exit_action = environment.exit_action();
  const auto index_options = torch::dtype(torch::kInt64).device(device);
  torch::Tensor states = environment.InitialStates(num_walks, device);
  torch::Tensor active =
      torch::ones({num_walks}, index_options.dtype(torch::kBool));
  if (num_walks == 0) {
    Trajectories none;
    none.states = states.unsqueeze(0);
    none.actions = torch::zeros({0, 0}, index_options);
    none.step_mask = torch::zeros({0, 0}, index_options.dtype(torch::kBool));
    none.lengths = torch::zeros({0}, index_options);
    none.terminal_states = states;
    return none;
  }
  std::vector<torch::Tensor> all_states = {states};
  std::vector<torch::Tensor> all_actions;
  std::vector<torch::Tensor> all_masks;
  const int64_t steps =
      std::min(environment.max_trajectory_length(), kMaxProbeSteps);
  for (int64_t t = 0; t < steps && active.any().item<bool>(); ++t) {
    torch::Tensor allowed = environment.ForwardMask(states).clone();
    if (t + 1 == steps) {
      // Out of probe steps: end with exit where it is allowed, so that every
      // probe trajectory is complete.
      torch::Tensor can_exit = allowed.select(1, exit_action);
      allowed = torch::where(
          can_exit.unsqueeze(1),
          torch::zeros_like(allowed).index_fill_(
              1, torch::tensor({exit_action}, index_options), true),
          allowed);
    }
    // Finished walks draw from a dummy distribution (their state may allow
    // nothing) and stay put.
    torch::Tensor probabilities =
        torch::where(active.unsqueeze(1), allowed.to(torch::kFloat32),
                     torch::ones_like(allowed, torch::kFloat32));
    torch::Tensor actions =
        random.Categorical(probabilities).masked_fill(active.logical_not(), 0);
    all_actions.push_back(actions);
    all_masks.push_back(active.clone());
    torch::Tensor moving =
        (active & (actions != exit_action)).nonzero().squeeze(1);
    if (moving.size(0) > 0) {
      states =
          states.index_copy(0, moving,
                            environment.Step(states.index_select(0, moving),
                                             actions.index_select(0, moving)));
    }
    active = active & (actions != exit_action);
    all_states.push_back(states);
  }
  // Walks that never reached an allowed exit within the probe's steps are
  // dropped, states and all: their log-probabilities would be of unfinished
  // trajectories, and the probe's finiteness verdicts cover only the states
  // of the walks kept.
  torch::Tensor step_mask = torch::stack(all_masks);
  torch::Tensor keep = active.logical_not().nonzero().squeeze(1);
  Trajectories trajectories;
  trajectories.states = torch::stack(all_states).index_select(1, keep);
  trajectories.actions = torch::stack(all_actions).index_select(1, keep);
  trajectories.step_mask = step_mask.index_select(1, keep);
  trajectories.lengths = trajectories.step_mask.sum(0);
  trajectories.terminal_states = states.index_select(0, keep);
  return trajectories;
}

ProbeEvaluation EvaluateProbe(PolicyNet& policy, const Environment& environment,
                              const Trajectories& probe) {
  torch::NoGradGuard no_grad;
  ProbeEvaluation evaluation;
  torch::Tensor states =
      probe.max_steps() == 0
          ? environment.InitialStates(1, policy->device())
          : probe.states.reshape({-1, environment.raw_state_dim()});
  evaluation.num_states = states.size(0);
  // Row i of `states` is row inverse[i] of the distinct states.
  torch::Tensor inverse;
  if (states.size(0) == 0) {
    evaluation.distinct_states = states;
  } else {
    std::tie(evaluation.distinct_states, inverse, std::ignore) =
        torch::unique_dim(states, 0, /*sorted=*/true, /*return_inverse=*/true);
  }
  evaluation.outputs =
      policy->forward(environment.Encode(evaluation.distinct_states));
  if (probe.max_steps() > 0 && probe.batch_size() > 0) {
    evaluation.log_probs =
        LogProbsOfDistinct(environment, probe, evaluation, inverse);
  }
  return evaluation;
}

absl::Status CheckOutputsFinite(PolicyNet& policy,
                                const Environment& environment, uint64_t seed,
                                int64_t num_walks) {
  torch::NoGradGuard no_grad;
  Trajectories probe =
      UniformProbeTrajectories(environment, num_walks, seed, policy->device());
  const ProbeEvaluation evaluation = EvaluateProbe(policy, environment, probe);
  const PolicyNetImpl::Output& output = evaluation.outputs;
  // A distinct state's outputs are those of each of its repeats, so the
  // verdicts and counts are those of a pass over every probe state.
  if (!AllFinite(output.forward_logits)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the model's forward logits are not finite on some of ",
                     evaluation.num_states, " probe states"));
  }
  if (!AllFinite(output.backward_logits)) {
    return absl::InvalidArgumentError(
        "the model's backward logits are not finite on some probe states");
  }
  if (!AllFinite(output.log_flow)) {
    return absl::InvalidArgumentError(
        "the model's log state flow is not finite on some probe states");
  }
  const int64_t count = probe.batch_size();
  if (absl::Status status = CheckBounded(policy->log_z(), "log Z", count);
      !status.ok()) {
    return status;
  }
  if (count == 0) return absl::OkStatus();
  // What the aggregating balance target reads: the masked log-softmax of
  // each head at the actions taken, per step and summed per trajectory.
  const TrajectoryLogProbs& log_probs = evaluation.log_probs;
  for (auto [tensor, what] : {
           std::pair{log_probs.log_pf, "log p_F of a step"},
           std::pair{log_probs.log_pb, "log p_B of a step"},
           std::pair{log_probs.log_flow, "log state flow"},
       }) {
    if (absl::Status status = CheckBounded(tensor, what, count); !status.ok()) {
      return status;
    }
  }
  if (absl::Status status =
          CheckBounded(log_probs.log_pf.to(torch::kFloat64).sum(0),
                       "log p_F of a trajectory", count);
      !status.ok()) {
    return status;
  }
  return CheckBounded(log_probs.log_pb.to(torch::kFloat64).sum(0),
                      "log p_B of a trajectory", count);
}

uint64_t ProbeSeed(absl::string_view secret, absl::string_view payload_sha256) {
  Sha256 hash;
  hash.Update(secret);
  hash.Update(payload_sha256);
  uint64_t seed = 0;
  // 16 hex digits are 8 bytes.
  absl::SimpleHexAtoi(hash.HexDigest().substr(0, 16), &seed);
  return seed;
}

}  // namespace epgfn
