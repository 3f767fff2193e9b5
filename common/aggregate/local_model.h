#ifndef EPGFN_COMMON_AGGREGATE_LOCAL_MODEL_H_
#define EPGFN_COMMON_AGGREGATE_LOCAL_MODEL_H_

#include <optional>
#include <string>

#include "common/env/environment_config.h"
#include "common/policy/policy_net.h"

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

// One client's trained GFlowNet as the aggregator receives it.
struct LocalModel {
  std::string client_id;
  // The state graph the client trained on; must equal the federation's.
  EnvironmentConfig environment;
  PolicyNet policy{nullptr};
  std::optional<LocalDiagnostics> diagnostics;
  // The exponent w_i of this client's reward in the aggregate, which samples
  // in proportion to prod_i R_i^{w_i}: 1 for the federated posterior; other
  // values weigh objectives (multi-objective use) and 0 leaves the client out.
  double weight = 1.0;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_LOCAL_MODEL_H_
