#ifndef EPGFN_COMMON_ENV_HYPERGRID_HYPERGRID_H_
#define EPGFN_COMMON_ENV_HYPERGRID_HYPERGRID_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// The hypergrid of Bengio et al. (2021): states are points of {0..H-1}^D,
// s0 is the origin, forward actions increment one coordinate, and any state
// may exit. Parameters: dim (D, default 2), side (H, default 8).
class HypergridEnvironment : public Environment {
 public:
  static absl::StatusOr<std::unique_ptr<HypergridEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t dim() const { return dim_; }
  int64_t side() const { return side_; }

  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return dim_; }
  int64_t encoding_dim() const override { return dim_ * side_; }
  int64_t num_forward_actions() const override { return dim_ + 1; }
  int64_t num_backward_actions() const override { return dim_; }
  int64_t max_trajectory_length() const override {
    return dim_ * (side_ - 1) + 1;
  }

  at::Tensor InitialStates(int64_t batch, c10::Device device) const override;
  at::Tensor Encode(const at::Tensor& states) const override;
  at::Tensor ForwardMask(const at::Tensor& states) const override;
  at::Tensor BackwardMask(const at::Tensor& states) const override;
  at::Tensor Step(const at::Tensor& states,
                  const at::Tensor& actions) const override;
  at::Tensor BackwardStep(const at::Tensor& states,
                          const at::Tensor& backward_actions) const override;
  at::Tensor BackwardActionOf(const at::Tensor& next_states,
                              const at::Tensor& forward_actions) const override;
  at::Tensor ForwardActionOf(const at::Tensor& states,
                             const at::Tensor& backward_actions) const override;
  absl::StatusOr<at::Tensor> EnumerateTerminalStates() const override;
  std::string Describe(const at::Tensor& state) const override;

 private:
  HypergridEnvironment(EnvironmentConfig config, int64_t dim, int64_t side)
      : config_(std::move(config)), dim_(dim), side_(side) {}

  EnvironmentConfig config_;
  int64_t dim_;
  int64_t side_;
};

// Reward kinds:
//  - "standard" (r0, r1, r2; defaults 0.1, 0.5, 2.0): the usual
//    R0 + R1 * prod_d 1[0.25 < |z_d - 0.5|] + R2 * prod_d 1[0.3 < |z_d - 0.5|
//    < 0.4], with z = x / (H - 1).
//  - "client" (index, count, scale = 1, r0, r1, r2): one institution's share
//    of a federated posterior, log R_i = log R_standard / N
//    - scale * |z - c_i|^2, where c_i is the corner whose bits are `index`
//    (wrapping around after 2^D clients). The product over clients is the
//    standard reward times a Gaussian bump at the mean of the c_i.
absl::StatusOr<RewardParts> MakeHypergridReward(
    const HypergridEnvironment& environment, const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_HYPERGRID_HYPERGRID_H_
