#include "common/env/hypergrid/hypergrid.h"

#include <torch/types.h>

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/client_share.h"
#include "common/env/environment_registry.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Above this many grid points exact enumeration is refused.
constexpr int64_t kMaxEnumeratedStates = 4'000'000;

}  // namespace

absl::StatusOr<std::unique_ptr<HypergridEnvironment>>
HypergridEnvironment::Create(const EnvironmentConfig& config) {
  RETURN_IF_ERROR(config.params.CheckKeys({"dim", "side"}));
  ASSIGN_OR_RETURN(const int64_t dim, config.params.GetInt("dim", 2, 1, 64));
  ASSIGN_OR_RETURN(const int64_t side,
                   config.params.GetInt("side", 8, 2, 1024));
  EnvironmentConfig canonical{"hypergrid", {}};
  canonical.params.Set("dim", std::to_string(dim));
  canonical.params.Set("side", std::to_string(side));
  return std::unique_ptr<HypergridEnvironment>(
      new HypergridEnvironment(std::move(canonical), dim, side));
}

at::Tensor HypergridEnvironment::InitialStates(int64_t batch,
                                               c10::Device device) const {
  return torch::zeros({batch, dim_},
                      torch::dtype(torch::kInt64).device(device));
}

namespace {

// The rollout calls Encode, ForwardMask and Step once per step on a few
// hundred rows: as LibTorch ops they are 3-4 small ops each (allocation,
// dispatch, a pass), so on the CPU they run as one loop over the rows
// instead. The values are exact (0/1 floats, booleans, integers), the same
// as the ops', which stay the path for other devices and layouts.
bool RowLoopable(const at::Tensor& states, int64_t dim) {
  return states.device().is_cpu() && states.scalar_type() == torch::kInt64 &&
         states.dim() == 2 && states.size(1) == dim && states.is_contiguous();
}

}  // namespace

at::Tensor HypergridEnvironment::Encode(const at::Tensor& states) const {
  // One-hot per coordinate, concatenated: [B, D * H].
  if (RowLoopable(states, dim_)) {
    const int64_t rows = states.size(0);
    at::Tensor encoded = torch::zeros({rows, dim_ * side_}, torch::kFloat32);
    const int64_t* coordinates = states.data_ptr<int64_t>();
    float* out = encoded.data_ptr<float>();
    for (int64_t i = 0; i < rows * dim_; ++i) {
      const int64_t value = coordinates[i];
      // What scatter_ refuses, refused alike.
      TORCH_CHECK(value >= 0 && value < side_, "index ", value,
                  " is out of bounds for dimension 2 with size ", side_);
      out[i * side_ + value] = 1.0f;
    }
    return encoded;
  }
  // Written straight into float32 with scatter_ (which still rejects
  // coordinates outside [0, H)): torch::one_hot builds an int64 tensor to
  // convert and checks its range with two reductions and two host syncs.
  return torch::zeros({states.size(0), dim_, side_},
                      states.options().dtype(torch::kFloat32))
      .scatter_(2, states.unsqueeze(2), 1.0)
      .reshape({states.size(0), dim_ * side_});
}

at::Tensor HypergridEnvironment::ForwardMask(const at::Tensor& states) const {
  if (RowLoopable(states, dim_)) {
    const int64_t rows = states.size(0);
    at::Tensor mask = torch::empty({rows, dim_ + 1}, torch::kBool);
    const int64_t* coordinates = states.data_ptr<int64_t>();
    bool* out = mask.data_ptr<bool>();
    for (int64_t row = 0; row < rows; ++row) {
      for (int64_t d = 0; d < dim_; ++d) {
        out[row * (dim_ + 1) + d] = coordinates[row * dim_ + d] < side_ - 1;
      }
      out[row * (dim_ + 1) + dim_] = true;  // exit
    }
    return mask;
  }
  at::Tensor can_increment = states < (side_ - 1);
  at::Tensor can_exit =
      torch::ones({states.size(0), 1}, can_increment.options());
  return torch::cat({can_increment, can_exit}, 1);
}

at::Tensor HypergridEnvironment::BackwardMask(const at::Tensor& states) const {
  return states > 0;
}

at::Tensor HypergridEnvironment::Step(const at::Tensor& states,
                                      const at::Tensor& actions) const {
  if (RowLoopable(states, dim_) && actions.device().is_cpu() &&
      actions.scalar_type() == torch::kInt64 && actions.dim() == 1 &&
      actions.size(0) == states.size(0) && actions.is_contiguous()) {
    at::Tensor next = states.clone();
    const int64_t* taken = actions.data_ptr<int64_t>();
    int64_t* out = next.data_ptr<int64_t>();
    for (int64_t row = 0; row < states.size(0); ++row) {
      const int64_t action = taken[row];
      TORCH_CHECK(action >= 0 && action < dim_, "index ", action,
                  " is out of bounds for dimension 1 with size ", dim_);
      ++out[row * dim_ + action];
    }
    return next;
  }
  // states + one_hot(actions, D) without one_hot's range reductions and
  // syncs; scatter_add still rejects actions outside [0, D) (e.g. exit).
  return states.scatter_add(1, actions.unsqueeze(1),
                            torch::ones_like(actions).unsqueeze(1));
}

at::Tensor HypergridEnvironment::BackwardStep(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  // As in Step: states - one_hot(backward_actions, D).
  return states.scatter_add(
      1, backward_actions.unsqueeze(1),
      torch::full_like(backward_actions, -1).unsqueeze(1));
}

at::Tensor HypergridEnvironment::BackwardActionOf(
    const at::Tensor& next_states, const at::Tensor& forward_actions) const {
  return forward_actions;
}

at::Tensor HypergridEnvironment::ForwardActionOf(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  return backward_actions;
}

absl::StatusOr<at::Tensor> HypergridEnvironment::EnumerateTerminalStates()
    const {
  const double count = std::pow(static_cast<double>(side_), dim_);
  if (count > kMaxEnumeratedStates) {
    return absl::FailedPreconditionError(absl::StrCat(
        "hypergrid with ", count, " points is too large to enumerate (limit ",
        kMaxEnumeratedStates, ")"));
  }
  // Mixed-radix decoding of 0..H^D-1.
  at::Tensor index = torch::arange(static_cast<int64_t>(count), torch::kInt64);
  std::vector<at::Tensor> coordinates;
  for (int64_t d = 0; d < dim_; ++d) {
    coordinates.push_back(index.remainder(side_));
    index = index.div(side_, "floor");
  }
  return torch::stack(coordinates, 1);
}

std::string HypergridEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = state.to(torch::kCPU).contiguous();
  std::vector<int64_t> values(cpu.data_ptr<int64_t>(),
                              cpu.data_ptr<int64_t>() + cpu.numel());
  return absl::StrCat("(", absl::StrJoin(values, ","), ")");
}

namespace {

struct StandardRewardParams {
  double r0 = 0.1;
  double r1 = 0.5;
  double r2 = 2.0;
};

absl::StatusOr<StandardRewardParams> ReadStandardParams(
    const ParamMap& params) {
  StandardRewardParams standard;
  ASSIGN_OR_RETURN(standard.r0, params.GetDouble("r0", 0.1, 1e-12, 1e12));
  ASSIGN_OR_RETURN(standard.r1, params.GetDouble("r1", 0.5, 0.0, 1e12));
  ASSIGN_OR_RETURN(standard.r2, params.GetDouble("r2", 2.0, 0.0, 1e12));
  return standard;
}

// Coordinates scaled to [0, 1].
at::Tensor Normalised(const at::Tensor& states, int64_t side) {
  return states.to(torch::kFloat64) / static_cast<double>(side - 1);
}

// The thresholds are compared exactly, in integers: with D = 2 (side - 1)
// and a = |2x - (side - 1)|, |x / (side - 1) - 1/2| = a / D, so a / D > 1/4
// is 4a > D, and 3/10 < a / D < 4/10 is 3D < 10a < 4D. (In floating point
// |12/15 - 0.5| is 0.30000000000000004 and would enter the ring while
// |3/15 - 0.5| does not, breaking the reward's reflection symmetry.)
at::Tensor StandardLogReward(const at::Tensor& states, int64_t side,
                             const StandardRewardParams& p) {
  const int64_t d = 2 * (side - 1);
  at::Tensor a = (states.to(torch::kInt64) * 2 - (side - 1)).abs();
  at::Tensor outer = (a * 4 > d).all(1).to(torch::kFloat64);
  at::Tensor ring =
      ((a * 10 > 3 * d) & (a * 10 < 4 * d)).all(1).to(torch::kFloat64);
  return (p.r0 + p.r1 * outer + p.r2 * ring).log();
}

class StandardReward : public LogReward {
 public:
  StandardReward(int64_t side, StandardRewardParams params)
      : side_(side), params_(params) {}
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    return StandardLogReward(states, side_, params_);
  }
  std::string Describe() const override {
    return absl::StrCat("hypergrid standard reward (r0=", params_.r0,
                        ", r1=", params_.r1, ", r2=", params_.r2, ")");
  }

 private:
  int64_t side_;
  StandardRewardParams params_;
};

// Client i's own factor, -scale |z - c_i|^2, which peaks at the corner c_i
// whose bits are i (mod 2^D); the standard reward is the shared prior.
class CornerLikelihood : public LogReward {
 public:
  CornerLikelihood(int64_t dim, int64_t side, int64_t index, double scale)
      : side_(side), index_(index), scale_(scale) {
    std::vector<double> corner(dim);
    for (int64_t d = 0; d < dim; ++d) corner[d] = ((index >> (d % 62)) & 1);
    center_ = torch::tensor(corner, torch::kFloat64);
  }
  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    at::Tensor z = Normalised(states, side_);
    return -scale_ * (z - center_.to(z.device())).pow(2).sum(1);
  }
  std::string Describe() const override {
    return absl::StrCat("hypergrid client factor ", index_, " (scale ", scale_,
                        ")");
  }

 private:
  int64_t side_;
  int64_t index_;
  double scale_;
  at::Tensor center_;
};

}  // namespace

absl::StatusOr<RewardParts> MakeHypergridReward(
    const HypergridEnvironment& environment, const RewardConfig& config) {
  const ParamMap& params = config.params;
  RewardParts parts;
  if (config.kind == "standard") {
    RETURN_IF_ERROR(params.CheckKeys({"r0", "r1", "r2"}));
    ASSIGN_OR_RETURN(StandardRewardParams standard, ReadStandardParams(params));
    parts.log_likelihood =
        std::make_unique<StandardReward>(environment.side(), standard);
    return parts;
  }
  if (config.kind == "client") {
    RETURN_IF_ERROR(
        params.CheckKeys({"index", "count", "scale", "r0", "r1", "r2"}));
    ASSIGN_OR_RETURN(const ClientShare share, ReadClientShare(params));
    ASSIGN_OR_RETURN(const double scale,
                     params.GetDouble("scale", 1.0, 0.0, 1e6));
    ASSIGN_OR_RETURN(StandardRewardParams standard, ReadStandardParams(params));
    parts.log_prior =
        std::make_unique<StandardReward>(environment.side(), standard);
    parts.log_likelihood = std::make_unique<CornerLikelihood>(
        environment.dim(), environment.side(), share.index, scale);
    return parts;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown hypergrid reward kind '", config.kind,
                   "'; expected 'standard' or 'client'"));
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "hypergrid", TypedEnvironmentFactory<HypergridEnvironment>(
                     "hypergrid:dim=D,side=H. Rewards: standard[:r0,r1,r2], "
                     "client:index=i,count=N[,scale]",
                     &MakeHypergridReward));

}  // namespace
}  // namespace epgfn
