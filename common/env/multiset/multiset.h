#ifndef EPGFN_COMMON_ENV_MULTISET_MULTISET_H_
#define EPGFN_COMMON_ENV_MULTISET_MULTISET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// Multisets of S items over n item types, built one item at a time. A state
// is the vector of counts per item type (raw state [B, n] int64), s0 holds
// nothing, forward action k < n adds one item of type k (allowed while fewer
// than S items are held), and exit is allowed exactly when S items are held.
// Backward action k removes one item of type k. Different orders of adding
// reach the same state, so the graph is a DAG rather than a tree.
// Parameters: items (n, default 5), size (S, default 4).
class MultisetEnvironment : public Environment {
 public:
  static absl::StatusOr<std::unique_ptr<MultisetEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t items() const { return items_; }
  int64_t size() const { return size_; }

  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return items_; }
  int64_t encoding_dim() const override { return items_ * (size_ + 1); }
  int64_t num_forward_actions() const override { return items_ + 1; }
  int64_t num_backward_actions() const override { return items_; }
  int64_t max_trajectory_length() const override { return size_ + 1; }

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
  // The items with multiplicity in increasing order, e.g. "{0,0,2,4}".
  std::string Describe(const at::Tensor& state) const override;

 private:
  MultisetEnvironment(EnvironmentConfig config, int64_t items, int64_t size)
      : config_(std::move(config)), items_(items), size_(size) {}

  EnvironmentConfig config_;
  int64_t items_;
  int64_t size_;
};

// The utility vectors behind the rewards: [items] float64 on the CPU, scale
// times standard normal draws that depend only on the arguments (a
// std::mt19937_64 stream turned into normals by Box-Muller, so the values do
// not depend on the standard library's normal_distribution).
at::Tensor MultisetUtilities(int64_t items, int64_t seed, double scale);
// Client `index`'s vector: a stream of its own, distinct from every other
// client's and from MultisetUtilities with the same seed.
at::Tensor MultisetClientUtilities(int64_t items, int64_t seed, int64_t index,
                                   double scale);

// Reward kinds:
//  - "utility" (seed = 0, scale = 1): log R(x) = sum_k x_k u_k with
//    u = MultisetUtilities(items, seed, scale).
//  - "client" (index, count, seed = 0, scale = 1): one institution's reward,
//    log R_i(x) = sum_k x_k u^(i)_k with u^(i) = MultisetClientUtilities(
//    items, seed, index, scale). The federated target is the product of the
//    client rewards times prior^(1/N) per client; the prior here is uniform,
//    so it adds nothing and the product is the utility reward with
//    u = sum_i u^(i).
absl::StatusOr<RewardParts> MakeMultisetReward(
    const MultisetEnvironment& environment, const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_MULTISET_MULTISET_H_
