#ifndef EPGFN_COMMON_AGGREGATE_STACKED_LOCAL_MODELS_H_
#define EPGFN_COMMON_AGGREGATE_STACKED_LOCAL_MODELS_H_

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/sampling/trajectories.h"

namespace epgfn {

// N frozen local policies of one architecture, evaluated together: their
// Linear weights are copied once into [N, in, out] tensors, and a batch of
// states goes through a group of models with one batched matmul (baddbmm)
// per layer. The state encoding, the masks, the log-softmax and the index
// bookkeeping are done once for all N instead of once per model, which is
// what the per-model passes spent most of their time on at many clients
// (issue 14). Evaluation runs without gradients.
class StackedLocalModels {
 public:
  // Per model, summed over each trajectory (unweighted).
  struct LogProbSums {
    torch::Tensor log_pf;  // [N, B]: sum_t log p_F^i(s_{t+1} | s_t)
    torch::Tensor log_pb;  // [N, B]: sum_t log p_B^i(s_t | s_{t+1})
  };

  // InvalidArgument when `policies` is empty, or when two of them differ in
  // hidden width, depth, backward head, input width, action counts or
  // device. Copies the weights: later changes to the policies are not seen.
  // Models are evaluated in groups small enough that one group's
  // activations ([models, rows, width]) hold at most `max_activation_floats`
  // floats (at least one model per group; 0: all models in one group). The
  // default keeps a group's activations in a core's L2 cache (512 KB): on
  // hypergrid 8x8 (450 rows, width 128) all 32 or 100 models in one
  // [N, 450, 128] pass ran at 2.6-2.8x the sgemm floor, memory-bound, and
  // groups of about two models at 1.22x (tests/bench:aggregation_floor).
  static absl::StatusOr<StackedLocalModels> Create(
      const std::vector<PolicyNet>& policies,
      int64_t max_activation_floats = int64_t{1} << 17);

  int64_t size() const { return size_; }

  // The models' forward (and, with a learned p_B, backward) logits on
  // encoded states [R, D]: [N, R, A] (and [N, R, A_b]).
  PolicyNetImpl::Output Forward(const torch::Tensor& encoded_states) const;

  // Per model the trajectories' summed log p_F and log p_B, as
  // ComputeTrajectoryLogProbs(policy_i, ...).SumLogPf() / SumLogPb() give
  // them one model at a time.
  LogProbSums Evaluate(const Environment& environment,
                       const Trajectories& trajectories) const;

 private:
  // One Linear layer of every model: weight [N, in, out], bias [N, 1, out].
  struct StackedLinear {
    torch::Tensor weight;
    torch::Tensor bias;
  };

  StackedLocalModels() = default;
  // Models [first, first + count) on encoded states [R, D].
  PolicyNetImpl::Output ForwardGroup(const torch::Tensor& encoded_states,
                                     int64_t first, int64_t count) const;

  int64_t size_ = 0;
  int64_t hidden_width_ = 0;
  int64_t max_activation_floats_ = 0;
  std::vector<StackedLinear> torso_;
  StackedLinear forward_head_;
  StackedLinear backward_head_;  // undefined without a learned p_B
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_AGGREGATE_STACKED_LOCAL_MODELS_H_
