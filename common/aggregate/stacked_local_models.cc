#include "common/aggregate/stacked_local_models.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/sampling/flat_steps.h"

namespace epgfn {
namespace {

// log softmax over the allowed actions of `logits` [N, R, A] (mask [R, A]),
// read at `actions` [R]: [N, R]. Computed in an [N, A, R] layout, where the
// reduction over the few actions runs over an outer dimension, vectorized
// across the rows: over the last dimension (A = 3 on a 2-d hypergrid) it
// cost 0.2x of the sgemm floor at N = 32.
torch::Tensor LogSoftmaxAt(const torch::Tensor& logits,
                           const torch::Tensor& mask,
                           const torch::Tensor& actions) {
  const int64_t models = logits.size(0);
  const int64_t rows = logits.size(1);
  return logits.transpose(1, 2)
      .contiguous()
      .masked_fill_(mask.logical_not().t(), kMaskedLogit)
      .log_softmax(1)
      .gather(1, actions.view({1, 1, rows}).expand({models, 1, rows}))
      .squeeze(1);
}

// What must agree for two policies to share the stacked layout.
absl::Status CheckSameShape(const PolicyNet& first, const PolicyNet& other,
                            int64_t index) {
  const PolicyArchitecture& a = first->architecture();
  const PolicyArchitecture& b = other->architecture();
  if (a.hidden_width != b.hidden_width || a.hidden_layers != b.hidden_layers ||
      a.learned_backward != b.learned_backward ||
      first->encoding_dim() != other->encoding_dim() ||
      first->num_forward_actions() != other->num_forward_actions() ||
      first->num_backward_actions() != other->num_backward_actions() ||
      first->device() != other->device()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "local model ", index, " (", b.ToString(),
        ") does not share model 0's architecture (", a.ToString(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StackedLocalModels> StackedLocalModels::Create(
    const std::vector<PolicyNet>& policies, int64_t max_activation_floats) {
  if (policies.empty()) {
    return absl::InvalidArgumentError("no local models to stack");
  }
  if (max_activation_floats < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_activation_floats must be >= 0, got ", max_activation_floats));
  }
  for (size_t i = 0; i < policies.size(); ++i) {
    if (!policies[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("local model ", i, " has no policy"));
    }
    if (absl::Status status = CheckSameShape(policies[0], policies[i], i);
        !status.ok()) {
      return status;
    }
  }
  torch::NoGradGuard no_grad;
  auto stack = [&](auto layer_of) {
    std::vector<torch::Tensor> weights;
    std::vector<torch::Tensor> biases;
    for (const PolicyNet& policy : policies) {
      torch::nn::Linear layer = layer_of(policy);
      weights.push_back(layer->weight.detach().t());
      biases.push_back(layer->bias.detach());
    }
    return StackedLinear{torch::stack(weights).contiguous(),
                         torch::stack(biases).unsqueeze(1).contiguous()};
  };
  StackedLocalModels stacked;
  const PolicyArchitecture& architecture = policies[0]->architecture();
  stacked.size_ = static_cast<int64_t>(policies.size());
  stacked.hidden_width_ = architecture.hidden_width;
  stacked.max_activation_floats_ = max_activation_floats;
  for (int64_t i = 0; i < architecture.hidden_layers; ++i) {
    stacked.torso_.push_back(
        stack([i](const PolicyNet& policy) { return policy->torso_layer(i); }));
  }
  stacked.forward_head_ =
      stack([](const PolicyNet& policy) { return policy->forward_head(); });
  if (architecture.learned_backward) {
    stacked.backward_head_ =
        stack([](const PolicyNet& policy) { return policy->backward_head(); });
  }
  return stacked;
}

PolicyNetImpl::Output StackedLocalModels::ForwardGroup(
    const torch::Tensor& encoded_states, int64_t first, int64_t count) const {
  const int64_t rows = encoded_states.size(0);
  // Every model reads the same states: an expanded view, never copied.
  torch::Tensor hidden =
      encoded_states.unsqueeze(0).expand({count, rows, encoded_states.size(1)});
  auto apply = [&](const StackedLinear& layer, const torch::Tensor& input) {
    return torch::baddbmm(layer.bias.narrow(0, first, count), input,
                          layer.weight.narrow(0, first, count));
  };
  for (const StackedLinear& layer : torso_) {
    hidden = apply(layer, hidden);
    torch::leaky_relu_(hidden, PolicyNetImpl::kNegativeSlope);
  }
  PolicyNetImpl::Output output;
  output.forward_logits = apply(forward_head_, hidden);
  if (backward_head_.weight.defined()) {
    output.backward_logits = apply(backward_head_, hidden);
  }
  return output;
}

PolicyNetImpl::Output StackedLocalModels::Forward(
    const torch::Tensor& encoded_states) const {
  torch::NoGradGuard no_grad;
  const int64_t rows = std::max<int64_t>(1, encoded_states.size(0));
  const int64_t group =
      max_activation_floats_ == 0
          ? size_
          : std::clamp<int64_t>(max_activation_floats_ / (rows * hidden_width_),
                                1, size_);
  if (group == size_) return ForwardGroup(encoded_states, 0, size_);
  std::vector<torch::Tensor> forward_logits;
  std::vector<torch::Tensor> backward_logits;
  for (int64_t first = 0; first < size_; first += group) {
    PolicyNetImpl::Output part = ForwardGroup(
        encoded_states, first, std::min<int64_t>(group, size_ - first));
    forward_logits.push_back(part.forward_logits);
    if (part.backward_logits.defined()) {
      backward_logits.push_back(part.backward_logits);
    }
  }
  PolicyNetImpl::Output output;
  output.forward_logits = torch::cat(forward_logits);
  if (!backward_logits.empty())
    output.backward_logits = torch::cat(backward_logits);
  return output;
}

StackedLocalModels::LogProbSums StackedLocalModels::Evaluate(
    const Environment& environment, const Trajectories& trajectories) const {
  torch::NoGradGuard no_grad;
  // The same bookkeeping as ComputeTrajectoryLogProbs, done once for all
  // models, with a leading model dimension on every per-row result.
  const FlatSteps steps = FlattenSteps(environment, trajectories);
  torch::Tensor rows = steps.VisitedStates();
  PolicyNetImpl::Output output = Forward(environment.Encode(rows));

  torch::Tensor log_pf_rows =
      LogSoftmaxAt(output.forward_logits, environment.ForwardMask(rows),
                   steps.actions.index_select(0, steps.visited));
  // Summed over the steps as [T, B].sum(0) sums them for one model.
  auto per_trajectory = [&](const torch::Tensor& index,
                            const torch::Tensor& values) {
    return torch::zeros({size_, steps.flat()}, values.options())
        .index_copy_(1, index, values)
        .view({size_, steps.num_steps, steps.batch})
        .sum(1);
  };
  LogProbSums sums;
  sums.log_pf = per_trajectory(steps.visited, log_pf_rows);

  // p_B(s_t | s_{t+1}) for every non-exit step, read at the child s_{t+1}.
  if (output.backward_logits.defined()) {
    torch::Tensor backward_logits =
        output.backward_logits.index_select(1, steps.ChildRows());
    torch::Tensor backward_actions =
        environment.BackwardActionOf(steps.children, steps.MoveActions());
    torch::Tensor log_pb_rows =
        LogSoftmaxAt(backward_logits, steps.backward_mask, backward_actions);
    sums.log_pb = per_trajectory(steps.moves, log_pb_rows);
  } else {
    // Uniform over the parents: the same for every model.
    sums.log_pb = steps.PerStep(steps.moves, steps.UniformLogPb())
                      .sum(0)
                      .unsqueeze(0)
                      .expand({size_, steps.batch});
  }
  return sums;
}

}  // namespace epgfn
