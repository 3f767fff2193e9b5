#ifndef EPGFN_COMMON_TRAIN_LOCAL_DIAGNOSTICS_H_
#define EPGFN_COMMON_TRAIN_LOCAL_DIAGNOSTICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/sampling/random.h"
#include "common/train/trajectory_target.h"

namespace epgfn {

// A client's self-assessment (EP-GFlowNets, Theorem 4.3): over its sampled
// trajectories, 1 - alpha <= p_F(t) / (p_B(t|x) R(x) / Z_hat) <= 1 + beta.
// Reported with the upload; the server cannot check it (it never sees R).
struct LocalDiagnostics {
  double alpha = 0.0;  // in [0, 1)
  double beta = 0.0;   // >= 0
  double log_z_estimate = 0.0;
  int64_t num_trajectories = 0;
  // Flow Consistency in Subgraphs against the client's own reward
  // (common/eval/flow_consistency.h), when the client computed it. Like
  // alpha and beta the server can only report it, not check it.
  std::optional<double> fcs;
};

// Estimates a client's (alpha, beta) on `num_trajectories` on-policy
// trajectories. Z is estimated by importance sampling,
// Z_hat = mean_t R(x) p_B(t|x) / p_F(t), so the ratios are centred on 1 and
// alpha, beta measure only how unevenly the policy matches its reward.
absl::StatusOr<LocalDiagnostics> EstimateLocalDiagnostics(
    PolicyNet& policy, const Environment& environment,
    const LogReward& log_reward, int64_t num_trajectories,
    RandomSource& random);
// The same against any trajectory target S(t) in place of log R(x) (a
// streaming update's, say): 1 - alpha <= p_F(t) / (p_B(t|x) exp(S(t)) /
// Z_hat) <= 1 + beta.
// Two consequences to keep in mind when reading them (both measured, issue
// 13): against a streaming target they see only how well the update fits S,
// never the error S inherits from the previous model, so an update that adds
// no error of its own reports ~0 whatever its TV to the true posterior; and
// beta is a maximum over the sample, so one rare trajectory the policy
// oversamples (by 15x on a state of mass 1e-5, say) sets it alone.
absl::StatusOr<LocalDiagnostics> EstimateLocalDiagnostics(
    PolicyNet& policy, const Environment& environment, TrajectoryTarget& target,
    int64_t num_trajectories, RandomSource& random);

// What makes `diagnostics` unusable as reported figures: alpha, beta or
// log_z_estimate not finite, or a negative num_trajectories, each named with
// its value ("beta is inf"), joined by ", "; empty when there is none. The
// server refuses an upload whose diagnostics have a problem; a client
// uploads its model without them instead (a barely trained model's beta
// overflows to +inf).
std::string DiagnosticsProblems(const LocalDiagnostics& diagnostics);

// The paper's bound on the Jeffrey divergence between the aggregate's and the
// true product distribution, sum_i log((1 + beta_i) / (1 - alpha_i)).
// InvalidArgument if some alpha_i >= 1 (the bound is then infinite).
absl::StatusOr<double> JeffreyDivergenceBound(
    const std::vector<LocalDiagnostics>& diagnostics);

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_LOCAL_DIAGNOSTICS_H_
