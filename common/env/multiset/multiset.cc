#include "common/env/multiset/multiset.h"

#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/environment_registry.h"
#include "common/env/utility_reward.h"
#include "common/util/portable_random.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Above this many terminal states (or int64 values in all of them) exact
// enumeration is refused.
constexpr int64_t kMaxEnumeratedStates = 4'000'000;
constexpr int64_t kMaxEnumeratedValues = 64'000'000;

// C(n + s - 1, s), the number of multisets of s items over n types, as a
// double (exact while below 2^53, which covers every enumerable case).
double MultisetCount(int64_t n, int64_t s) {
  double count = 1.0;
  for (int64_t j = 1; j <= s; ++j) {
    count = count * static_cast<double>(n - 1 + j) / static_cast<double>(j);
  }
  return std::round(count);
}

at::Tensor ScaledNormals(int64_t n, int64_t seed, uint64_t stream,
                         double scale) {
  return torch::tensor(StandardNormals(n, seed, stream), torch::kFloat64) *
         scale;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MultisetEnvironment>>
MultisetEnvironment::Create(const EnvironmentConfig& config) {
  RETURN_IF_ERROR(config.params.CheckKeys({"items", "size"}));
  ASSIGN_OR_RETURN(const int64_t items,
                   config.params.GetInt("items", 5, 1, 1024));
  ASSIGN_OR_RETURN(const int64_t size, config.params.GetInt("size", 4, 1, 256));
  EnvironmentConfig canonical{"multiset", {}};
  canonical.params.Set("items", std::to_string(items));
  canonical.params.Set("size", std::to_string(size));
  return std::unique_ptr<MultisetEnvironment>(
      new MultisetEnvironment(std::move(canonical), items, size));
}

at::Tensor MultisetEnvironment::InitialStates(int64_t batch,
                                              c10::Device device) const {
  return torch::zeros({batch, items_},
                      torch::dtype(torch::kInt64).device(device));
}

at::Tensor MultisetEnvironment::Encode(const at::Tensor& states) const {
  // One-hot of each count over 0..S, concatenated: [B, n * (S + 1)].
  return torch::one_hot(states, size_ + 1)
      .reshape({states.size(0), items_ * (size_ + 1)})
      .to(torch::kFloat32);
}

at::Tensor MultisetEnvironment::ForwardMask(const at::Tensor& states) const {
  at::Tensor total = states.sum(1, /*keepdim=*/true);
  at::Tensor can_add = (total < size_).expand({states.size(0), items_});
  at::Tensor can_exit = total == size_;
  return torch::cat({can_add, can_exit}, 1);
}

at::Tensor MultisetEnvironment::BackwardMask(const at::Tensor& states) const {
  return states > 0;
}

at::Tensor MultisetEnvironment::Step(const at::Tensor& states,
                                     const at::Tensor& actions) const {
  return states + torch::one_hot(actions, items_);
}

at::Tensor MultisetEnvironment::BackwardStep(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  return states - torch::one_hot(backward_actions, items_);
}

at::Tensor MultisetEnvironment::BackwardActionOf(
    const at::Tensor& next_states, const at::Tensor& forward_actions) const {
  return forward_actions;
}

at::Tensor MultisetEnvironment::ForwardActionOf(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  return backward_actions;
}

absl::StatusOr<at::Tensor> MultisetEnvironment::EnumerateTerminalStates()
    const {
  const double count = MultisetCount(items_, size_);
  if (count > kMaxEnumeratedStates ||
      count * static_cast<double>(items_) > kMaxEnumeratedValues) {
    return absl::FailedPreconditionError(absl::StrCat(
        "multiset with ", count, " terminal states over ", items_,
        " item types is too large to enumerate (limits ", kMaxEnumeratedStates,
        " states, ", kMaxEnumeratedValues, " values)"));
  }
  const int64_t rows = static_cast<int64_t>(count);
  std::vector<int64_t> flat;
  flat.reserve(rows * items_);
  std::vector<int64_t> counts(items_, 0);
  // Distributes `remaining` items over types k..n-1, emitting each complete
  // count vector.
  std::function<void(int64_t, int64_t)> fill = [&](int64_t k,
                                                   int64_t remaining) {
    if (k == items_ - 1) {
      counts[k] = remaining;
      flat.insert(flat.end(), counts.begin(), counts.end());
      return;
    }
    for (int64_t c = remaining; c >= 0; --c) {
      counts[k] = c;
      fill(k + 1, remaining - c);
    }
  };
  fill(0, size_);
  return torch::from_blob(flat.data(), {rows, items_}, torch::kInt64).clone();
}

std::string MultisetEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = state.to(torch::kCPU).contiguous();
  const int64_t* counts = cpu.data_ptr<int64_t>();
  std::vector<int64_t> members;
  for (int64_t k = 0; k < cpu.numel(); ++k) {
    for (int64_t c = 0; c < counts[k]; ++c) members.push_back(k);
  }
  return absl::StrCat("{", absl::StrJoin(members, ","), "}");
}

at::Tensor MultisetUtilities(int64_t items, int64_t seed, double scale) {
  return ScaledNormals(items, seed, /*stream=*/0, scale);
}

at::Tensor MultisetClientUtilities(int64_t items, int64_t seed, int64_t index,
                                   double scale) {
  return ScaledNormals(items, seed, static_cast<uint64_t>(index) + 1, scale);
}

namespace {

// log R(x) = sum_k x_k u_k for a fixed utility vector u.
class LinearUtilityReward : public LogReward {
 public:
  LinearUtilityReward(at::Tensor utilities, std::string description)
      : utilities_(std::move(utilities)),
        description_(std::move(description)) {}
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    return states.to(torch::kFloat64).matmul(utilities_.to(states.device()));
  }
  std::string Describe() const override { return description_; }

 private:
  at::Tensor utilities_;  // [items] float64
  std::string description_;
};

}  // namespace

absl::StatusOr<RewardParts> MakeMultisetReward(
    const MultisetEnvironment& environment, const RewardConfig& config) {
  ASSIGN_OR_RETURN(const UtilityRewardChoice choice,
                   ReadUtilityRewardChoice("multiset", config));
  at::Tensor utilities =
      choice.client.has_value()
          ? MultisetClientUtilities(environment.items(), choice.seed,
                                    choice.client->index, choice.scale)
          : MultisetUtilities(environment.items(), choice.seed, choice.scale);
  return LikelihoodOnly(std::make_unique<LinearUtilityReward>(
      std::move(utilities), DescribeUtilityReward("multiset", choice)));
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "multiset", TypedEnvironmentFactory<MultisetEnvironment>(
                    "multiset:items=n,size=S. Rewards: utility[:seed,scale], "
                    "client:index=i,count=N[,seed,scale]",
                    &MakeMultisetReward));

}  // namespace
}  // namespace epgfn
