#include "common/sampling/flat_steps.h"

#include <torch/types.h>

#include <memory>
#include <string>

#include "common/env/environment_registry.h"
#include "common/sampling/trajectories.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

struct Sampled {
  std::unique_ptr<Environment> environment;
  Trajectories trajectories;
};

// Trajectories of very different lengths (exit is allowed everywhere), so
// that padding, exits and moves all occur.
Sampled Sample(const std::string& spec, int64_t batch) {
  Sampled sampled;
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(spec));
  EXPECT_TRUE(environment.ok()) << environment.status();
  sampled.environment = std::move(environment).value();
  PolicyArchitecture architecture;
  architecture.hidden_width = 16;
  PolicyNet policy =
      *MakePolicy(*sampled.environment, architecture, 7, torch::kCPU);
  RandomSource random(11);
  sampled.trajectories = SampleTrajectories(policy, *sampled.environment, batch,
                                            ExplorationOptions{}, random);
  return sampled;
}

TEST(FlatStepsTest, IndexesEveryStepAndMoveOfTheBatch) {
  for (const std::string spec : {"hypergrid:dim=2,side=5", "dag:nodes=4"}) {
    SCOPED_TRACE(spec);
    Sampled sampled = Sample(spec, 24);
    const Environment& environment = *sampled.environment;
    const Trajectories& trajectories = sampled.trajectories;
    const FlatSteps steps = FlattenSteps(environment, trajectories);
    const int64_t batch = trajectories.batch_size();
    ASSERT_EQ(steps.batch, batch);
    ASSERT_EQ(steps.num_steps, trajectories.max_steps());

    // Walk the [T, B] grid by hand: visited and moves in ascending order.
    int64_t next_visited = 0;
    int64_t next_move = 0;
    for (int64_t t = 0; t < steps.num_steps; ++t) {
      for (int64_t b = 0; b < batch; ++b) {
        if (!trajectories.step_mask[t][b].item<bool>()) continue;
        const int64_t flat = t * batch + b;
        ASSERT_LT(next_visited, steps.visited.size(0));
        EXPECT_EQ(steps.visited[next_visited].item<int64_t>(), flat);
        EXPECT_TRUE(steps.VisitedStates()[next_visited].equal(
            trajectories.states[t][b]));
        ++next_visited;
        if (trajectories.actions[t][b].item<int64_t>() ==
            environment.exit_action()) {
          continue;
        }
        ASSERT_LT(next_move, steps.moves.size(0));
        EXPECT_EQ(steps.moves[next_move].item<int64_t>(), flat);
        EXPECT_TRUE(
            steps.children[next_move].equal(trajectories.states[t + 1][b]));
        EXPECT_EQ(steps.MoveActions()[next_move].item<int64_t>(),
                  trajectories.actions[t][b].item<int64_t>());
        ++next_move;
      }
    }
    EXPECT_EQ(next_visited, steps.visited.size(0));
    EXPECT_EQ(next_move, steps.moves.size(0));
    EXPECT_GT(next_move, 0);

    // A child's row among the visited states is the child itself.
    EXPECT_TRUE(steps.VisitedStates()
                    .index_select(0, steps.ChildRows())
                    .equal(steps.children));
    // Uniform p_B: one over the number of parents of each child.
    EXPECT_TRUE(torch::allclose(
        steps.UniformLogPb().exp() * environment.BackwardMask(steps.children)
                                         .sum(-1)
                                         .to(torch::kFloat32),
        torch::ones({steps.moves.size(0)})));
    // PerStep puts the rows back where the step mask is.
    EXPECT_TRUE(
        steps.PerStep(steps.visited, torch::ones({steps.visited.size(0)}))
            .equal(trajectories.step_mask.to(torch::kFloat32)));
    // The rollout's recorded indices give the same layout.
    const FlatSteps given =
        FlattenSteps(environment, trajectories, steps.visited.clone());
    EXPECT_TRUE(given.visited.equal(steps.visited));
    EXPECT_TRUE(given.moves.equal(steps.moves));
  }
}

}  // namespace
}  // namespace epgfn
