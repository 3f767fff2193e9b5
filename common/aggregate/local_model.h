#ifndef EPGFN_COMMON_AGGREGATE_LOCAL_MODEL_H_
#define EPGFN_COMMON_AGGREGATE_LOCAL_MODEL_H_

#include <optional>
#include <string>
#include <vector>

#include "common/env/environment_config.h"
#include "common/policy/policy_net.h"
#include "common/train/local_diagnostics.h"

namespace epgfn {

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

// Whether every client counts once (w_i = 1): the plain federated product.
inline bool HasUnitWeights(const std::vector<LocalModel>& local_models) {
  for (const LocalModel& local : local_models) {
    if (local.weight != 1.0) return false;
  }
  return true;
}

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_LOCAL_MODEL_H_
