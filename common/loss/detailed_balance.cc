#include "common/loss/detailed_balance.h"

namespace epgfn {

torch::Tensor DetailedBalanceLoss::Compute(const BalanceInputs& inputs) const {
  const Trajectories& trajectories = *inputs.trajectories;
  const TrajectoryLogProbs& log_probs = *inputs.log_probs;
  TORCH_CHECK(log_probs.log_flow.defined(),
              "detailed balance needs a policy with a state-flow head");
  const int64_t num_steps = trajectories.max_steps();
  torch::Tensor log_flow = log_probs.log_flow;  // [T, B], F(s_t)
  // F(s_{t+1}); the value past the last step is never read (that step exits).
  torch::Tensor next_log_flow = torch::cat(
      {log_flow.narrow(0, 1, num_steps - 1), torch::zeros_like(log_flow[0]).unsqueeze(0)},
      0);
  torch::Tensor step_index =
      torch::arange(num_steps, trajectories.lengths.options()).unsqueeze(1);
  torch::Tensor is_exit = step_index == (trajectories.lengths - 1).unsqueeze(0);
  torch::Tensor next_term =
      torch::where(is_exit, inputs.log_target.unsqueeze(0).expand_as(log_flow),
                   next_log_flow + log_probs.log_pb);
  torch::Tensor mask = trajectories.step_mask.to(log_flow.dtype());
  torch::Tensor residual = (log_flow + log_probs.log_pf - next_term) * mask;
  return residual.pow(2).sum() / mask.sum().clamp_min(1.0);
}

}  // namespace epgfn
