#include "common/policy/masked_softmax.h"

#include <torch/autograd.h>

#include <cmath>
#include <cstdint>

#include "common/policy/policy_net.h"

namespace epgfn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows wider than this take the ops. ATen's kernel runs a row in vectors of
// 8 floats (AVX2) and a shorter row through its partial-vector path, which
// costs as much as several full vectors: at 200 rows it took 23-42 us for 2-6
// actions, against 11 us for 8 and 5-14 us for this loop (16 for 8, 36 for
// 16). So the loop takes the rows shorter than one vector: the hypergrid's
// D + 1 actions up to D = 6, not the DAG's or phylo's.
constexpr int64_t kMaxLoopActions = 7;

bool RowLoopable(const torch::Tensor& logits, const torch::Tensor& mask) {
  return logits.device().is_cpu() && mask.device().is_cpu() &&
         logits.dim() == 2 && logits.size(1) > 0 &&
         logits.size(1) <= kMaxLoopActions &&
         logits.scalar_type() == torch::kFloat32 &&
         mask.scalar_type() == torch::kBool && logits.is_contiguous() &&
         mask.is_contiguous() && mask.sizes() == logits.sizes();
}

// One row of MaskedLogSoftmax: its entries with the disallowed ones
// replaced, their maximum, exp(x - max) of each and log of their sum. A NaN
// entry makes the sum NaN (as the maximum, or through its own exp), and so
// every output of the row, as with the ops.
class MaskedRow {
 public:
  MaskedRow(const float* logits, const bool* allowed, int64_t actions) {
    for (int64_t k = 0; k < actions; ++k) {
      shifted_[k] = allowed[k] ? logits[k] : kMaskedLogit;
    }
    float max = shifted_[0];
    for (int64_t k = 1; k < actions; ++k) {
      if (shifted_[k] > max) max = shifted_[k];
    }
    float sum = 0.0f;
    for (int64_t k = 0; k < actions; ++k) {
      shifted_[k] -= max;
      exp_[k] = std::exp(shifted_[k]);
      sum += exp_[k];
    }
    sum_ = sum;
    log_sum_ = std::log(sum);
  }

  // (x - max) - log_sum, in ATen's order of operations.
  float LogProbability(int64_t k) const { return shifted_[k] - log_sum_; }
  float Probability(int64_t k) const { return exp_[k] / sum_; }

 private:
  float shifted_[kMaxLoopActions];
  float exp_[kMaxLoopActions];
  float sum_ = 0.0f;
  float log_sum_ = 0.0f;
};

torch::Tensor CheckedActions(const torch::Tensor& actions, int64_t rows) {
  TORCH_CHECK(actions.dim() == 1 && actions.size(0) == rows,
              "MaskedLogSoftmaxAt: ", rows, " rows but actions of shape ",
              actions.sizes());
  return actions.to(torch::kInt64).contiguous();
}

// MaskedLogSoftmaxAt's row loop with its backward (autograd's for the ops:
// log_softmax's grad - exp(out) * sum(grad), with grad the gathered
// gradient scattered to the action, then zero where masked_fill wrote).
class GatheredMaskedLogSoftmax
    : public torch::autograd::Function<GatheredMaskedLogSoftmax> {
 public:
  static torch::Tensor forward(AutogradContext* context,
                               const torch::Tensor& logits,
                               const torch::Tensor& mask,
                               const torch::Tensor& actions) {
    const int64_t rows = logits.size(0);
    const int64_t width = logits.size(1);
    const torch::Tensor chosen = CheckedActions(actions, rows);
    torch::Tensor out = torch::empty({rows}, logits.options());
    const float* x = logits.data_ptr<float>();
    const bool* allowed = mask.data_ptr<bool>();
    const int64_t* action = chosen.data_ptr<int64_t>();
    float* log_probability = out.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
      TORCH_CHECK(action[r] >= 0 && action[r] < width, "index ", action[r],
                  " is out of bounds for dimension 1 with size ", width);
      const MaskedRow row(x + r * width, allowed + r * width, width);
      log_probability[r] = row.LogProbability(action[r]);
    }
    context->save_for_backward({logits, mask, chosen});
    return out;
  }

  static variable_list backward(AutogradContext* context,
                                variable_list grad_outputs) {
    const variable_list saved = context->get_saved_variables();
    const torch::Tensor& logits = saved[0];
    const int64_t rows = logits.size(0);
    const int64_t width = logits.size(1);
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    torch::Tensor grad = torch::empty_like(logits);
    const float* x = logits.data_ptr<float>();
    const bool* allowed = saved[1].data_ptr<bool>();
    const int64_t* action = saved[2].data_ptr<int64_t>();
    const float* g = grad_out.data_ptr<float>();
    float* grad_x = grad.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
      const MaskedRow row(x + r * width, allowed + r * width, width);
      for (int64_t k = 0; k < width; ++k) {
        const float scattered = k == action[r] ? g[r] : 0.0f;
        grad_x[r * width + k] = allowed[r * width + k]
                                    ? scattered - row.Probability(k) * g[r]
                                    : 0.0f;
      }
    }
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor MaskedSoftmax(const torch::Tensor& logits,
                            const torch::Tensor& mask) {
  if (!RowLoopable(logits, mask) || logits.requires_grad()) {
    return MaskedLogSoftmax(logits, mask).exp_();
  }
  const int64_t rows = logits.size(0);
  const int64_t width = logits.size(1);
  torch::Tensor probabilities = torch::empty_like(logits);
  const float* x = logits.data_ptr<float>();
  const bool* allowed = mask.data_ptr<bool>();
  float* p = probabilities.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const MaskedRow row(x + r * width, allowed + r * width, width);
    for (int64_t k = 0; k < width; ++k) {
      p[r * width + k] = row.Probability(k);
    }
  }
  return probabilities;
}

torch::Tensor MaskedLogSoftmaxAt(const torch::Tensor& logits,
                                 const torch::Tensor& mask,
                                 const torch::Tensor& actions) {
  if (!RowLoopable(logits, mask)) {
    return MaskedLogSoftmax(logits, mask)
        .gather(1, actions.unsqueeze(1))
        .squeeze(1);
  }
  return GatheredMaskedLogSoftmax::apply(logits, mask, actions);
}

}  // namespace epgfn
