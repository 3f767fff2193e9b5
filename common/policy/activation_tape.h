#ifndef EPGFN_COMMON_POLICY_ACTIVATION_TAPE_H_
#define EPGFN_COMMON_POLICY_ACTIVATION_TAPE_H_

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "common/policy/policy_net.h"

namespace epgfn {

// Records no-grad forward passes of a policy, then returns their outputs
// with gradients without running the forward again.
//
// The rollout runs the policy once per step over the rows still sampling;
// on-policy training needs the very same outputs with gradients. Running a
// second forward pass for them costs 2 FLOPs per parameter and row on top
// of the 6 (forward + backward) that training needs. A tape keeps each
// recorded pass's layer inputs (what the backward pass reads), and Replay()
// returns the outputs of all recorded passes, rows in recording order, as a
// function of the policy's parameters whose backward is one batched pass
// over all rows (large matmuls, as for a fresh forward over them).
//
// The backward runs the operations autograd runs for policy->forward on the
// concatenated rows, in the same order, so the gradients are those of a
// second forward pass up to float rounding: a row's values from a small
// per-step matmul can differ in the last bits from the same row in one
// large matmul (measured: weights within ~1e-7 after 25 training steps).
//
// Each torso layer writes its output straight into a buffer of that layer's
// rows (the next layer's input), so Replay() hands the backward pass one
// contiguous block per layer instead of concatenating the steps' pieces: the
// concatenation was one more memory pass over every hidden activation,
// ~2.5% of a training step at batch 256. The values are those of
// policy->forward (Linear is addmm(bias, x, W^T), written to a slice).
class ActivationTape {
 public:
  explicit ActivationTape(PolicyNet policy);

  // policy->forward(encoded_states) without gradients, recorded. The tape
  // keeps `encoded_states` and the activations: none may be changed in
  // place afterwards.
  PolicyNetImpl::Output Forward(const torch::Tensor& encoded_states);

  // Rows recorded so far.
  int64_t rows() const { return rows_; }

  // All recorded outputs, concatenated along rows; the recording is handed
  // over (the tape is empty afterwards). With grad mode on, the outputs
  // depend on the policy's parameters, which must not change before the
  // backward pass (autograd's version check refuses it). An empty tape
  // gives an Output with no tensors.
  PolicyNetImpl::Output Replay();

 private:
  PolicyNet policy_;
  // Rows appended pass after pass to a buffer that doubles when full.
  class RowBuffer {
   public:
    // A [rows, width] block after the rows appended so far.
    torch::Tensor Append(int64_t rows, int64_t width,
                         const torch::TensorOptions& options);
    // The rows appended so far; the buffer is empty afterwards.
    torch::Tensor Take();

   private:
    torch::Tensor storage_;
    int64_t used_ = 0;
  };

  std::vector<torch::nn::Linear> torso_;
  // The encoded states of each pass (torso layer 0's input).
  std::vector<torch::Tensor> encoded_;
  // hidden_[l]: the output of torso layer l (layer l + 1's input; the last
  // one is the heads' input), all passes.
  std::vector<RowBuffer> hidden_;
  std::vector<PolicyNetImpl::Output> outputs_;
  int64_t rows_ = 0;
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_POLICY_ACTIVATION_TAPE_H_
