#include "common/eval/terminal_probability.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/sampling/trajectories.h"

namespace epgfn {

int64_t BackwardTrajectoriesPerPass(const PolicyNet& policy,
                                    const Environment& environment) {
  // Bytes a pass holds per visited state, all at once at its peak: the int64
  // raw state about three times (the forward-ordered grid, the visited rows,
  // the children read for p_B), the float32 encoding, two hidden layers'
  // outputs, and for each action space float32 logits, their masked
  // log-softmax and its temporary plus the bool mask. Against peak RSS of
  // phylo_scale at 27 and 41 taxa (BENCHMARKS.md) it is 20-30% above the
  // measured pass, the forward action terms (n^2 / 2 per state) dominating.
  const int64_t width = 24 * environment.raw_state_dim() +
                        4 * environment.encoding_dim() +
                        8 * policy->architecture().hidden_width +
                        13 * (environment.num_forward_actions() +
                              environment.num_backward_actions());
  const int64_t per_path = (environment.max_trajectory_length() + 1) * width;
  return std::clamp<int64_t>(kBackwardPassBudgetBytes / per_path, 1,
                             kMaxTrajectoriesPerPass);
}

torch::Tensor EstimateLogTerminalProbability(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random) {
  return EstimateLogTerminalProbability(
      policy, environment, terminal_states, num_backward_samples, random,
      BackwardTrajectoriesPerPass(policy, environment));
}

torch::Tensor EstimateLogTerminalProbability(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random, int64_t trajectories_per_pass) {
  TORCH_CHECK(num_backward_samples >= 1,
              "EstimateLogTerminalProbability needs num_backward_samples >= 1");
  TORCH_CHECK(
      trajectories_per_pass >= 1,
      "EstimateLogTerminalProbability needs trajectories_per_pass >= 1");
  TORCH_CHECK(terminal_states.dim() == 2 &&
                  terminal_states.size(1) == environment.raw_state_dim(),
              "terminal_states must be [B, raw_state_dim]");
  torch::NoGradGuard no_grad;
  const int64_t batch = terminal_states.size(0);
  const int64_t total = batch * num_backward_samples;
  if (batch == 0) return torch::empty({0}, torch::kFloat64);

  // Row b * M + m is the m-th backward sample from terminal state b, so the
  // log-weights reshape to [B, M].
  torch::Tensor repeated =
      terminal_states.to(policy->device())
          .repeat_interleave(num_backward_samples, /*dim=*/0);
  std::vector<torch::Tensor> log_weights;
  for (int64_t begin = 0; begin < total; begin += trajectories_per_pass) {
    const int64_t rows = std::min(trajectories_per_pass, total - begin);
    Trajectories trajectories = SampleBackwardTrajectories(
        policy, environment, repeated.narrow(0, begin, rows), random);
    TrajectoryLogProbs log_probs =
        ComputeTrajectoryLogProbs(policy, environment, trajectories);
    // Accumulated in float64 so that long paths add no rounding of their own
    // on top of the float32 per-step terms.
    log_weights.push_back((log_probs.log_pf.to(torch::kFloat64).sum(0) -
                           log_probs.log_pb.to(torch::kFloat64).sum(0))
                              .to(torch::kCPU));
  }
  return torch::logsumexp(
             torch::cat(log_weights).reshape({batch, num_backward_samples}),
             /*dim=*/1) -
         std::log(static_cast<double>(num_backward_samples));
}

}  // namespace epgfn
