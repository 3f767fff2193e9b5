#ifndef EPGFN_COMMON_TRAIN_STREAMING_TARGET_H_
#define EPGFN_COMMON_TRAIN_STREAMING_TARGET_H_

#include <string>

#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/train/trajectory_target.h"

namespace epgfn {

// The streaming balance target (Streaming Bayes GFlowNets, da Silva et al.,
// NeurIPS 2024: today's posterior is tomorrow's prior):
//   S(t) = log f(D_t | x) + log p_F^{t-1}(t) - log p_B^{t-1}(t | x),
// with the previous model frozen and evaluated under no-grad. Where the
// previous model samples in proportion to R_{t-1}, balancing p_F / p_B of the
// new model against S makes it sample in proportion to R_{t-1} f(D_t | .)
// without evaluating R_{t-1}, i.e. without the old data. With the contrastive
// loss (the default) log Z_{t-1} cancels; with a shared uniform p_B the p_B
// terms cancel.
class StreamingTarget : public TrajectoryTarget {
 public:
  // `environment` and `new_data_log_likelihood` must outlive the target.
  // `previous` is put in eval mode and never trained; pass a copy where the
  // caller keeps training its own.
  StreamingTarget(const Environment* environment, PolicyNet previous,
                  const LogReward* new_data_log_likelihood);

  torch::Tensor LogTarget(const Trajectories& trajectories) override;
  std::string Describe() const override;

 private:
  const Environment* environment_;
  PolicyNet previous_;
  const LogReward* new_data_log_likelihood_;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRAIN_STREAMING_TARGET_H_
