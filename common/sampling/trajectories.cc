#include "common/sampling/trajectories.h"

#include <vector>

#include "common/policy/activation_tape.h"
#include "common/policy/masked_softmax.h"
#include "common/sampling/exploration_mix.h"
#include "common/sampling/flat_steps.h"

namespace epgfn {

namespace {

// What the on-policy rollout keeps for the log-probabilities.
struct RolloutRecord {
  ActivationTape* tape;                      // the policy's passes
  std::vector<torch::Tensor> forward_masks;  // per step, rows of the tape
  torch::Tensor visited;  // flat indices t * B + b of the steps, ascending
};

// SampleTrajectories' rollout; records its policy passes into `record` when
// given one.
Trajectories Rollout(PolicyNet& policy, const Environment& environment,
                     int64_t batch, const ExplorationOptions& exploration,
                     RandomSource& random, RolloutRecord* record) {
  torch::NoGradGuard no_grad;
  const torch::Device device = policy->device();
  const int64_t exit_action = environment.exit_action();
  const auto index_options = torch::dtype(torch::kInt64).device(device);
  // `states` holds every row (finished rows keep their terminal state);
  // `active_rows` (ascending) and `active_states` are the rows still running.
  // Only those go through the policy and the environment: trajectories end
  // at very different times, so running the whole batch to the longest one
  // spent most of the rollout's matmuls on finished rows.
  torch::Tensor states = environment.InitialStates(batch, device);
  torch::Tensor active_rows = torch::arange(batch, index_options);
  torch::Tensor active_states = states;
  std::vector<torch::Tensor> all_states = {states};
  // Per step, the flat indices t * B + b of the rows that took an action,
  // and those actions; the [T, B] tensors are filled once at the end rather
  // than by two small ops per step.
  std::vector<torch::Tensor> visited;
  std::vector<torch::Tensor> taken;

  for (int64_t t = 0; t < environment.max_trajectory_length(); ++t) {
    // (At least one step, even for an empty batch, as before.)
    if (t > 0 && active_rows.size(0) == 0) break;
    torch::Tensor encoded = environment.Encode(active_states);
    torch::Tensor logits = record != nullptr
                               ? record->tape->Forward(encoded).forward_logits
                               : policy->forward(encoded).forward_logits;
    if (exploration.temperature != 1.0)
      logits = logits / exploration.temperature;
    torch::Tensor mask = environment.ForwardMask(active_states);
    if (record != nullptr) record->forward_masks.push_back(mask);
    // In place where the operands are this step's own temporaries (same
    // values as the out-of-place forms, fewer allocations).
    torch::Tensor probabilities = MaskedSoftmax(logits, mask);
    if (exploration.epsilon > 0.0) {
      MixUniformExploration(probabilities, mask, exploration.epsilon);
    }
    // One uniform per row of the whole batch (finished rows' are drawn and
    // dropped), so that a seed gives the same samples as when every row was
    // rolled out each step.
    torch::Tensor actions =
        random.CategoricalOfRows(probabilities, active_rows, batch);
    visited.push_back(t == 0 ? active_rows : active_rows + t * batch);
    taken.push_back(actions);
    torch::Tensor moving = (actions != exit_action).nonzero().squeeze(1);
    active_rows = active_rows.index_select(0, moving);
    if (moving.size(0) > 0) {
      active_states = environment.Step(active_states.index_select(0, moving),
                                       actions.index_select(0, moving));
      states = states.index_copy(0, active_rows, active_states);
    }
    all_states.push_back(states);
  }
  const int64_t num_steps = static_cast<int64_t>(taken.size());
  const int64_t flat = num_steps * batch;
  torch::Tensor visited_flat = torch::cat(visited);
  Trajectories trajectories;
  trajectories.states = torch::stack(all_states);
  trajectories.actions = torch::zeros({flat}, index_options)
                             .index_put_({visited_flat}, torch::cat(taken))
                             .reshape({num_steps, batch});
  trajectories.step_mask =
      torch::zeros({flat}, torch::dtype(torch::kBool).device(device))
          .index_fill_(0, visited_flat, true)
          .reshape({num_steps, batch});
  trajectories.lengths = trajectories.step_mask.sum(0);
  trajectories.terminal_states = states;
  if (record != nullptr) record->visited = visited_flat;
  return trajectories;
}

}  // namespace

TrajectoryLogProbs LogProbsFromOutputs(const Environment& environment,
                                       const FlatSteps& steps,
                                       const PolicyNetImpl::Output& output,
                                       const torch::Tensor& forward_mask) {
  torch::Tensor log_pf_rows =
      MaskedLogSoftmaxAt(output.forward_logits, forward_mask,
                         steps.actions.index_select(0, steps.visited));

  TrajectoryLogProbs result;
  result.log_pf = steps.PerStep(steps.visited, log_pf_rows);
  if (output.log_flow.defined()) {
    result.log_flow = steps.PerStep(steps.visited, output.log_flow);
  }

  // p_B(s_t | s_{t+1}) for every non-exit step, read at the child s_{t+1}.
  torch::Tensor log_pb_rows;
  if (output.backward_logits.defined()) {
    torch::Tensor backward_logits =
        output.backward_logits.index_select(0, steps.ChildRows());
    torch::Tensor backward_actions =
        environment.BackwardActionOf(steps.children, steps.MoveActions());
    log_pb_rows = MaskedLogSoftmaxAt(backward_logits, steps.backward_mask,
                                     backward_actions);
  } else {
    log_pb_rows = steps.UniformLogPb();
  }
  result.log_pb = steps.PerStep(steps.moves, log_pb_rows);
  return result;
}

Trajectories SampleTrajectories(PolicyNet& policy,
                                const Environment& environment, int64_t batch,
                                const ExplorationOptions& exploration,
                                RandomSource& random) {
  return Rollout(policy, environment, batch, exploration, random, nullptr);
}

SampledTrajectories SampleTrajectoriesWithLogProbs(
    PolicyNet& policy, const Environment& environment, int64_t batch,
    const ExplorationOptions& exploration, RandomSource& random) {
  ActivationTape tape(policy);
  RolloutRecord record{&tape};
  SampledTrajectories sampled;
  sampled.trajectories =
      Rollout(policy, environment, batch, exploration, random, &record);
  sampled.log_probs = LogProbsFromOutputs(
      environment,
      FlattenSteps(environment, sampled.trajectories, record.visited),
      tape.Replay(), torch::cat(record.forward_masks));
  return sampled;
}

Trajectories SampleBackwardTrajectories(PolicyNet& policy,
                                        const Environment& environment,
                                        const torch::Tensor& terminal_states,
                                        RandomSource& random) {
  torch::NoGradGuard no_grad;
  const int64_t batch = terminal_states.size(0);
  const torch::Device device = terminal_states.device();
  const bool learned = policy->architecture().learned_backward;
  torch::Tensor states = terminal_states;
  torch::Tensor steps_back =
      torch::zeros({batch}, torch::dtype(torch::kInt64).device(device));
  std::vector<torch::Tensor> backward_states = {states};
  std::vector<torch::Tensor> forward_actions;

  for (int64_t t = 0; t + 1 < environment.max_trajectory_length(); ++t) {
    torch::Tensor mask = environment.BackwardMask(states);
    torch::Tensor moving = mask.any(-1);
    if (!moving.any().item<bool>()) break;
    torch::Tensor probabilities =
        learned
            ? MaskedLogSoftmax(
                  policy->forward(environment.Encode(states)).backward_logits,
                  mask)
                  .exp()
            : mask.to(torch::kFloat32);
    // Rows already at s0 draw from a dummy distribution; they do not move.
    probabilities = torch::where(moving.unsqueeze(1), probabilities,
                                 torch::ones_like(probabilities));
    torch::Tensor backward_actions = random.Categorical(probabilities);
    torch::Tensor actions_forward = torch::zeros_like(backward_actions);
    torch::Tensor index = moving.nonzero().squeeze(1);
    torch::Tensor moving_states = states.index_select(0, index);
    torch::Tensor moving_actions = backward_actions.index_select(0, index);
    actions_forward = actions_forward.index_put(
        {index}, environment.ForwardActionOf(moving_states, moving_actions));
    states = states.index_put(
        {index}, environment.BackwardStep(moving_states, moving_actions));
    steps_back = steps_back + moving.to(torch::kInt64);
    backward_states.push_back(states);
    forward_actions.push_back(actions_forward);
  }

  // Reverse each row: forward state t is backward state (K_b - t), forward
  // action t < K_b is the one recorded at backward step K_b - 1 - t, then exit.
  const int64_t max_back = static_cast<int64_t>(forward_actions.size());
  const int64_t num_steps = max_back + 1;
  torch::Tensor stacked_states = torch::stack(backward_states);  // [K+1,B,D]
  torch::Tensor stacked_actions =
      max_back > 0 ? torch::stack(forward_actions)
                   : torch::zeros({1, batch}, steps_back.options());
  torch::Tensor time = torch::arange(num_steps + 1, steps_back.options())
                           .unsqueeze(1);  // [T+1, 1]
  torch::Tensor state_source = (steps_back.unsqueeze(0) - time).clamp_min(0);
  torch::Tensor states_forward = stacked_states.gather(
      0, state_source.unsqueeze(2).expand(
             {num_steps + 1, batch, stacked_states.size(2)}));
  torch::Tensor step_time = time.narrow(0, 0, num_steps);  // [T, 1]
  torch::Tensor action_source =
      (steps_back.unsqueeze(0) - 1 - step_time).clamp_min(0);
  torch::Tensor actions = stacked_actions.gather(
      0, action_source.clamp_max(std::max<int64_t>(max_back - 1, 0)));
  torch::Tensor is_exit_step = step_time == steps_back.unsqueeze(0);
  torch::Tensor step_mask = step_time <= steps_back.unsqueeze(0);
  actions = torch::where(is_exit_step,
                         torch::full_like(actions, environment.exit_action()),
                         actions)
                .masked_fill(step_mask.logical_not(), 0);

  Trajectories trajectories;
  trajectories.states = states_forward;
  trajectories.actions = actions;
  trajectories.step_mask = step_mask;
  trajectories.lengths = steps_back + 1;
  trajectories.terminal_states = terminal_states;
  return trajectories;
}

TrajectoryLogProbs ComputeTrajectoryLogProbs(PolicyNet& policy,
                                             const Environment& environment,
                                             const Trajectories& trajectories) {
  const FlatSteps steps = FlattenSteps(environment, trajectories);
  // One forward pass over the states where an action was taken: s_0..s_{L-1}.
  torch::Tensor rows = steps.VisitedStates();
  return LogProbsFromOutputs(environment, steps,
                             policy->forward(environment.Encode(rows)),
                             environment.ForwardMask(rows));
}

}  // namespace epgfn
