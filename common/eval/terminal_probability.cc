#include "common/eval/terminal_probability.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/sampling/trajectories.h"

namespace epgfn {
namespace {

// Backward trajectories rolled out and scored per pass, so that memory stays
// bounded however large B * M gets.
constexpr int64_t kTrajectoriesPerPass = 1 << 15;

}  // namespace

torch::Tensor EstimateLogTerminalProbability(
    PolicyNet& policy, const Environment& environment,
    const torch::Tensor& terminal_states, int64_t num_backward_samples,
    RandomSource& random) {
  TORCH_CHECK(num_backward_samples >= 1,
              "EstimateLogTerminalProbability needs num_backward_samples >= 1");
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
  for (int64_t begin = 0; begin < total; begin += kTrajectoriesPerPass) {
    const int64_t rows = std::min(kTrajectoriesPerPass, total - begin);
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
