#include "common/sampling/flat_steps.h"

#include <utility>

namespace epgfn {

torch::Tensor FlatSteps::VisitedStates() const {
  return states.index_select(0, visited);
}

torch::Tensor FlatSteps::ChildRows() const {
  torch::Tensor row_of_flat =
      torch::full({flat()}, -1, visited.options())
          .index_put({visited},
                     torch::arange(visited.size(0), visited.options()));
  return row_of_flat.index_select(0, moves + batch);
}

torch::Tensor FlatSteps::MoveActions() const {
  return actions.index_select(0, moves);
}

torch::Tensor FlatSteps::UniformLogPb() const {
  return -backward_mask.sum(-1).clamp_min(1).to(torch::kFloat32).log();
}

torch::Tensor FlatSteps::PerStep(const torch::Tensor& index,
                                 const torch::Tensor& values) const {
  return torch::zeros({flat()},
                      torch::dtype(torch::kFloat32).device(states.device()))
      .index_put({index}, values)
      .reshape({num_steps, batch});
}

FlatSteps FlattenSteps(const Environment& environment,
                       const Trajectories& trajectories,
                       torch::Tensor visited) {
  FlatSteps steps;
  steps.num_steps = trajectories.max_steps();
  steps.batch = trajectories.batch_size();
  const int64_t flat = steps.flat();
  steps.states = trajectories.states.narrow(0, 0, steps.num_steps)
                     .reshape({flat, environment.raw_state_dim()});
  steps.actions = trajectories.actions.reshape({flat});
  steps.visited =
      visited.defined()
          ? std::move(visited)
          : trajectories.step_mask.reshape({flat}).nonzero().squeeze(1);
  steps.moves = (trajectories.step_mask &
                 (trajectories.actions != environment.exit_action()))
                    .reshape({flat})
                    .nonzero()
                    .squeeze(1);
  steps.children = steps.states.index_select(0, steps.moves + steps.batch);
  steps.backward_mask = environment.BackwardMask(steps.children);
  return steps;
}

}  // namespace epgfn
