#include "common/policy/activation_tape.h"

#include <ATen/ExpandUtils.h>
#include <torch/autograd.h>

#include <algorithm>
#include <utility>

namespace epgfn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What Replay() hands to the autograd function besides the parameters.
struct Recording {
  // The concatenated inputs of the torso layers, then of the heads.
  std::vector<torch::Tensor> layer_inputs;
  // The concatenated outputs of the heads present: forward, backward, flow.
  variable_list outputs;
  bool flow_head = false;  // the last output is the flow head's
};

// The policy's outputs as a function of its parameters (weight then bias of
// each torso layer, then of each head present, in the order of `outputs`),
// with the recorded values. Its backward is autograd's for the policy's
// forward pass over the recorded rows: Linear is addmm(bias, x, W^T), whose
// gradients are grad^T x (weight), grad summed over rows (bias) and grad W
// (input); the in-place LeakyReLU's reads its result.
class Replayed : public torch::autograd::Function<Replayed> {
 public:
  // (The parameters come as a TensorList: apply() counts a variable_list
  // argument as a non-tensor one and would build no graph.)
  static variable_list forward(AutogradContext* context,
                               const Recording* recording,
                               at::TensorList parameters) {
    context->set_materialize_grads(false);
    context->saved_data["torso_layers"] =
        static_cast<int64_t>(recording->layer_inputs.size()) - 1;
    context->saved_data["flow_head"] = recording->flow_head;
    variable_list saved(parameters.begin(), parameters.end());
    saved.insert(saved.end(), recording->layer_inputs.begin(),
                 recording->layer_inputs.end());
    context->save_for_backward(saved);
    return recording->outputs;
  }

  static variable_list backward(AutogradContext* context,
                                variable_list grad_outputs) {
    const int64_t torso_layers = context->saved_data["torso_layers"].toInt();
    const bool flow_head = context->saved_data["flow_head"].toBool();
    const int64_t heads = static_cast<int64_t>(grad_outputs.size());
    const variable_list saved = context->get_saved_variables();
    const int64_t num_parameters = 2 * (torso_layers + heads);
    const torch::Tensor* parameters = saved.data();
    const torch::Tensor* inputs = saved.data() + num_parameters;
    // Slot 0 is the recording (not a tensor).
    variable_list grads(1 + num_parameters);
    torch::Tensor* parameter_grads = grads.data() + 1;

    // Weight and bias gradients of the Linear layer whose parameters start
    // at `first`, from the gradient of its output and its input.
    auto linear_grads = [&](const torch::Tensor& grad, const torch::Tensor& x,
                            int64_t first) {
      parameter_grads[first] = grad.t().mm(x);
      parameter_grads[first + 1] =
          at::sum_to(grad, parameters[first + 1].sizes());
    };

    // The heads' contributions to the torso output's gradient are summed
    // last head first, the order in which autograd's engine runs their
    // nodes for policy->forward (the later-created node first); with at
    // most two heads the order does not change the sum.
    torch::Tensor grad_hidden;
    for (int64_t head = heads - 1; head >= 0; --head) {
      torch::Tensor grad = grad_outputs[head];
      if (!grad.defined()) continue;
      // forward() squeezes the flow head's [rows, 1] output.
      if (flow_head && head == heads - 1) grad = grad.unsqueeze(-1);
      const int64_t first = 2 * (torso_layers + head);
      linear_grads(grad, inputs[torso_layers], first);
      torch::Tensor to_hidden = grad.mm(parameters[first]);
      grad_hidden = grad_hidden.defined() ? grad_hidden + to_hidden : to_hidden;
    }
    for (int64_t layer = torso_layers - 1; layer >= 0 && grad_hidden.defined();
         --layer) {
      // In place: grad_hidden is this backward's own temporary (a fresh
      // matmul result or sum), so writing the masked gradient over it
      // spares a buffer of every row's activations and its first touch.
      torch::Tensor grad = at::leaky_relu_backward_out(
          grad_hidden, grad_hidden, inputs[layer + 1],
          PolicyNetImpl::kNegativeSlope, /*self_is_result=*/true);
      linear_grads(grad, inputs[layer], 2 * layer);
      // The encoding (layer 0's input) needs no gradient.
      grad_hidden =
          layer > 0 ? grad.mm(parameters[2 * layer]) : torch::Tensor();
    }
    return grads;
  }
};

}  // namespace

// The first pass's rows times this is a buffer's first capacity: it holds
// the mean trajectory of the hypergrid benchmarks (12-14 steps) without a
// regrowth; longer rollouts double it, a copy of what is there each time.
constexpr int64_t kInitialPassesPerBuffer = 16;

torch::Tensor ActivationTape::RowBuffer::Append(
    int64_t rows, int64_t width, const torch::TensorOptions& options) {
  const int64_t capacity = storage_.defined() ? storage_.size(0) : 0;
  if (used_ + rows > capacity) {
    torch::Tensor grown = torch::empty(
        {std::max({2 * capacity, used_ + rows, kInitialPassesPerBuffer * rows}),
         width},
        options);
    if (used_ > 0)
      grown.narrow(0, 0, used_).copy_(storage_.narrow(0, 0, used_));
    storage_ = grown;
  }
  torch::Tensor block = storage_.narrow(0, used_, rows);
  used_ += rows;
  return block;
}

torch::Tensor ActivationTape::RowBuffer::Take() {
  torch::Tensor taken = storage_.narrow(0, 0, used_);
  storage_ = torch::Tensor();
  used_ = 0;
  return taken;
}

ActivationTape::ActivationTape(PolicyNet policy)
    : policy_(std::move(policy)),
      hidden_(policy_->architecture().hidden_layers) {
  for (int64_t layer = 0; layer < policy_->architecture().hidden_layers;
       ++layer) {
    torso_.push_back(policy_->torso_layer(layer));
  }
}

PolicyNetImpl::Output ActivationTape::Forward(
    const torch::Tensor& encoded_states) {
  torch::NoGradGuard no_grad;
  const int64_t rows = encoded_states.size(0);
  encoded_.push_back(encoded_states);
  // policy->forward's torso, one layer at a time, each output written where
  // the backward pass will read it.
  torch::Tensor hidden = encoded_states;
  for (size_t layer = 0; layer < torso_.size(); ++layer) {
    const torch::nn::Linear& linear = torso_[layer];
    torch::Tensor output = hidden_[layer].Append(rows, linear->weight.size(0),
                                                 linear->weight.options());
    torch::addmm_out(output, linear->bias, hidden, linear->weight.t());
    hidden = torch::leaky_relu_(output, PolicyNetImpl::kNegativeSlope);
  }
  outputs_.push_back(policy_->Heads(hidden));
  rows_ += rows;
  return outputs_.back();
}

PolicyNetImpl::Output ActivationTape::Replay() {
  PolicyNetImpl::Output replayed;
  if (outputs_.empty()) return replayed;
  Recording recording;
  std::vector<torch::Tensor> forward_logits, backward_logits, log_flow;
  for (const PolicyNetImpl::Output& output : outputs_) {
    forward_logits.push_back(output.forward_logits);
    if (output.backward_logits.defined()) {
      backward_logits.push_back(output.backward_logits);
    }
    if (output.log_flow.defined()) log_flow.push_back(output.log_flow);
  }
  outputs_.clear();
  rows_ = 0;
  const bool grad = torch::GradMode::is_enabled();
  if (grad) recording.layer_inputs.push_back(torch::cat(encoded_));
  encoded_.clear();
  for (RowBuffer& buffer : hidden_) {
    torch::Tensor rows = buffer.Take();
    if (grad) recording.layer_inputs.push_back(rows);
  }

  variable_list parameters;
  auto add = [&](const torch::nn::Linear& layer) {
    parameters.push_back(layer->weight);
    parameters.push_back(layer->bias);
  };
  for (const torch::nn::Linear& layer : torso_) add(layer);
  recording.outputs.push_back(torch::cat(forward_logits));
  add(policy_->forward_head());
  if (!backward_logits.empty()) {
    recording.outputs.push_back(torch::cat(backward_logits));
    add(policy_->backward_head());
  }
  if (!log_flow.empty()) {
    recording.outputs.push_back(torch::cat(log_flow));
    recording.flow_head = true;
    add(policy_->flow_head());
  }

  variable_list outputs =
      grad ? Replayed::apply(&recording, at::TensorList(parameters))
           : recording.outputs;
  size_t next = 0;
  replayed.forward_logits = outputs[next++];
  if (!backward_logits.empty()) replayed.backward_logits = outputs[next++];
  if (!log_flow.empty()) replayed.log_flow = outputs[next++];
  return replayed;
}

}  // namespace epgfn
