#include "common/env/sequence/sequence.h"

#include <torch/types.h>

#include <cmath>
#include <cstdint>
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

at::Tensor ScaledNormalTable(int64_t rows, int64_t columns, int64_t seed,
                             uint64_t stream, double scale) {
  return torch::tensor(StandardNormals(rows * columns, seed, stream),
                       torch::kFloat64)
             .reshape({rows, columns}) *
         scale;
}

// Number of tokens in each state: [B, 1] int64.
at::Tensor Lengths(const at::Tensor& states) {
  return (states != SequenceEnvironment::kEmpty).sum(1, /*keepdim=*/true);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SequenceEnvironment>>
SequenceEnvironment::Create(const EnvironmentConfig& config) {
  RETURN_IF_ERROR(config.params.CheckKeys({"length", "vocab"}));
  ASSIGN_OR_RETURN(const int64_t length,
                   config.params.GetInt("length", 4, 1, 256));
  ASSIGN_OR_RETURN(const int64_t vocab,
                   config.params.GetInt("vocab", 4, 1, 1024));
  EnvironmentConfig canonical{"sequence", {}};
  canonical.params.Set("length", std::to_string(length));
  canonical.params.Set("vocab", std::to_string(vocab));
  return std::unique_ptr<SequenceEnvironment>(
      new SequenceEnvironment(std::move(canonical), length, vocab));
}

at::Tensor SequenceEnvironment::InitialStates(int64_t batch,
                                              c10::Device device) const {
  return torch::full({batch, length_}, kEmpty,
                     torch::dtype(torch::kInt64).device(device));
}

at::Tensor SequenceEnvironment::Encode(const at::Tensor& states) const {
  // Empty positions become symbol V; one-hot per position, concatenated:
  // [B, L * (V + 1)].
  return torch::one_hot(states.masked_fill(states == kEmpty, vocab_),
                        vocab_ + 1)
      .reshape({states.size(0), length_ * (vocab_ + 1)})
      .to(torch::kFloat32);
}

at::Tensor SequenceEnvironment::ForwardMask(const at::Tensor& states) const {
  at::Tensor lengths = Lengths(states);
  at::Tensor can_append = (lengths < length_).expand({states.size(0), vocab_});
  at::Tensor can_exit = lengths == length_;
  return torch::cat({can_append, can_exit}, 1);
}

at::Tensor SequenceEnvironment::BackwardMask(const at::Tensor& states) const {
  return Lengths(states) > 0;
}

at::Tensor SequenceEnvironment::Step(const at::Tensor& states,
                                     const at::Tensor& actions) const {
  return states.scatter(1, Lengths(states), actions.unsqueeze(1));
}

at::Tensor SequenceEnvironment::BackwardStep(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  return states.scatter(1, (Lengths(states) - 1).clamp_min(0), kEmpty);
}

at::Tensor SequenceEnvironment::BackwardActionOf(
    const at::Tensor& next_states, const at::Tensor& forward_actions) const {
  return torch::zeros_like(forward_actions);
}

at::Tensor SequenceEnvironment::ForwardActionOf(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  return states.gather(1, (Lengths(states) - 1).clamp_min(0)).squeeze(1);
}

absl::StatusOr<at::Tensor> SequenceEnvironment::EnumerateTerminalStates()
    const {
  const double count = std::pow(static_cast<double>(vocab_), length_);
  if (count > kMaxEnumeratedStates ||
      count * static_cast<double>(length_) > kMaxEnumeratedValues) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sequence space with ", count, " sequences of length ", length_,
        " is too large to enumerate (limits ", kMaxEnumeratedStates,
        " sequences, ", kMaxEnumeratedValues, " values)"));
  }
  // Base-V digits of 0..V^L-1, the last position least significant.
  at::Tensor index = torch::arange(static_cast<int64_t>(count), torch::kInt64);
  std::vector<at::Tensor> positions(length_);
  for (int64_t p = length_ - 1; p >= 0; --p) {
    positions[p] = index.remainder(vocab_);
    index = index.div(vocab_, "floor");
  }
  return torch::stack(positions, 1);
}

std::string SequenceEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = state.to(torch::kCPU).contiguous();
  const int64_t* tokens = cpu.data_ptr<int64_t>();
  if (vocab_ <= 26) {
    std::string letters;
    for (int64_t p = 0; p < cpu.numel(); ++p) {
      letters += tokens[p] == kEmpty ? '.' : static_cast<char>('A' + tokens[p]);
    }
    return letters;
  }
  std::vector<std::string> parts;
  for (int64_t p = 0; p < cpu.numel(); ++p) {
    parts.push_back(tokens[p] == kEmpty ? "." : std::to_string(tokens[p]));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

at::Tensor SequenceUtilities(int64_t length, int64_t vocab, int64_t seed,
                             double scale) {
  return ScaledNormalTable(length, vocab, seed, /*stream=*/0, scale);
}

at::Tensor SequenceClientUtilities(int64_t length, int64_t vocab, int64_t seed,
                                   int64_t index, double scale) {
  return ScaledNormalTable(length, vocab, seed,
                           static_cast<uint64_t>(index) + 1, scale);
}

namespace {

// log R(x) = sum_p u[p][x_p] for a fixed [L, V] table u; empty positions
// (only in partial states) contribute nothing.
class PositionUtilityReward : public LogReward {
 public:
  PositionUtilityReward(at::Tensor utilities, std::string description)
      : utilities_(std::move(utilities)),
        description_(std::move(description)) {}
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    at::Tensor filled = states != SequenceEnvironment::kEmpty;
    // [L, B]: entry (p, b) is u[p][token of row b at p].
    at::Tensor picked = utilities_.to(states.device())
                            .gather(1, states.clamp_min(0).t().contiguous());
    return (picked.t() * filled).sum(1);
  }
  std::string Describe() const override { return description_; }

 private:
  at::Tensor utilities_;  // [length, vocab] float64
  std::string description_;
};

}  // namespace

absl::StatusOr<RewardParts> MakeSequenceReward(
    const SequenceEnvironment& environment, const RewardConfig& config) {
  ASSIGN_OR_RETURN(const UtilityRewardChoice choice,
                   ReadUtilityRewardChoice("sequence", config));
  at::Tensor utilities =
      choice.client.has_value()
          ? SequenceClientUtilities(environment.length(), environment.vocab(),
                                    choice.seed, choice.client->index,
                                    choice.scale)
          : SequenceUtilities(environment.length(), environment.vocab(),
                              choice.seed, choice.scale);
  return LikelihoodOnly(std::make_unique<PositionUtilityReward>(
      std::move(utilities), DescribeUtilityReward("sequence", choice)));
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "sequence", TypedEnvironmentFactory<SequenceEnvironment>(
                    "sequence:length=L,vocab=V. Rewards: utility[:seed,scale], "
                    "client:index=i,count=N[,seed,scale]",
                    &MakeSequenceReward));

}  // namespace
}  // namespace epgfn
