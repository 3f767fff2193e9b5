#include "common/train/local_diagnostics.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/loss/balance_loss.h"
#include "common/sampling/trajectories.h"

namespace epgfn {

absl::StatusOr<LocalDiagnostics> EstimateLocalDiagnostics(
    PolicyNet& policy, const Environment& environment,
    const LogReward& log_reward, int64_t num_trajectories,
    RandomSource& random) {
  RewardTarget target(&log_reward);
  return EstimateLocalDiagnostics(policy, environment, target, num_trajectories,
                                  random);
}

absl::StatusOr<LocalDiagnostics> EstimateLocalDiagnostics(
    PolicyNet& policy, const Environment& environment, TrajectoryTarget& target,
    int64_t num_trajectories, RandomSource& random) {
  if (num_trajectories < 2) {
    return absl::InvalidArgumentError("need at least 2 trajectories");
  }
  torch::NoGradGuard no_grad;
  Trajectories trajectories =
      SampleTrajectories(policy, environment, num_trajectories, {}, random);
  torch::Tensor log_ratio = (LogForwardOverBackward(ComputeTrajectoryLogProbs(
                                 policy, environment, trajectories)) -
                             target.LogTarget(trajectories))
                                .to(torch::kFloat64);
  if (!torch::isfinite(log_ratio).all().item<bool>()) {
    return absl::InternalError(absl::StrCat("non-finite log p_F / p_B against ",
                                            target.Describe(),
                                            " on a trajectory"));
  }
  // log Z_hat = log mean exp(-log_ratio).
  const double log_z =
      (torch::logsumexp(-log_ratio, 0) - std::log(num_trajectories))
          .item<double>();
  torch::Tensor normalised = (log_ratio + log_z).exp();
  LocalDiagnostics diagnostics;
  diagnostics.alpha = std::max(0.0, 1.0 - normalised.min().item<double>());
  diagnostics.beta = std::max(0.0, normalised.max().item<double>() - 1.0);
  diagnostics.log_z_estimate = log_z;
  diagnostics.num_trajectories = num_trajectories;
  return diagnostics;
}

std::string DiagnosticsProblems(const LocalDiagnostics& diagnostics) {
  std::vector<std::string> problems;
  auto check = [&](const char* name, double value) {
    if (!std::isfinite(value)) {
      problems.push_back(absl::StrCat(name, " is ", value));
    }
  };
  check("alpha", diagnostics.alpha);
  check("beta", diagnostics.beta);
  check("log_z_hat", diagnostics.log_z_estimate);
  if (diagnostics.num_trajectories < 0) {
    problems.push_back(
        absl::StrCat("num_trajectories is ", diagnostics.num_trajectories));
  }
  return absl::StrJoin(problems, ", ");
}

absl::StatusOr<double> JeffreyDivergenceBound(
    const std::vector<LocalDiagnostics>& diagnostics) {
  double bound = 0.0;
  for (size_t i = 0; i < diagnostics.size(); ++i) {
    const LocalDiagnostics& d = diagnostics[i];
    if (!(d.alpha >= 0.0 && d.alpha < 1.0) || !(d.beta >= 0.0) ||
        !std::isfinite(d.beta)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "diagnostics ", i, " out of range: alpha ", d.alpha, " beta ", d.beta,
          " (need 0 <= alpha < 1, 0 <= beta < inf)"));
    }
    bound += std::log1p(d.beta) - std::log1p(-d.alpha);
  }
  return bound;
}

}  // namespace epgfn
