#ifndef EPGFN_COMMON_ENV_SEQUENCE_SEQUENCE_H_
#define EPGFN_COMMON_ENV_SEQUENCE_SEQUENCE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/env/reward_parts.h"

namespace epgfn {

// Sequences of L tokens over a vocabulary of V, built left to right. A state
// is one row of L token ids (raw state [B, L] int64) whose first `length`
// entries are tokens in 0..V-1 and whose remaining entries are kEmpty (-1);
// s0 is all kEmpty. Forward action v < V appends token v (allowed while
// length < L) and exit is allowed exactly when length == L. The single
// backward action removes the last token, so the graph is a tree.
// Parameters: length (L, default 4), vocab (V, default 4).
class SequenceEnvironment : public Environment {
 public:
  // Marks the positions not yet filled.
  static constexpr int64_t kEmpty = -1;

  static absl::StatusOr<std::unique_ptr<SequenceEnvironment>> Create(
      const EnvironmentConfig& config);

  int64_t length() const { return length_; }
  int64_t vocab() const { return vocab_; }

  const EnvironmentConfig& config() const override { return config_; }
  int64_t raw_state_dim() const override { return length_; }
  // One-hot per position over V + 1 symbols, the last meaning empty.
  int64_t encoding_dim() const override { return length_ * (vocab_ + 1); }
  int64_t num_forward_actions() const override { return vocab_ + 1; }
  int64_t num_backward_actions() const override { return 1; }
  int64_t max_trajectory_length() const override { return length_ + 1; }

  at::Tensor InitialStates(int64_t batch, c10::Device device) const override;
  at::Tensor Encode(const at::Tensor& states) const override;
  at::Tensor ForwardMask(const at::Tensor& states) const override;
  at::Tensor BackwardMask(const at::Tensor& states) const override;
  at::Tensor Step(const at::Tensor& states,
                  const at::Tensor& actions) const override;
  at::Tensor BackwardStep(const at::Tensor& states,
                          const at::Tensor& backward_actions) const override;
  // Always 0, the only backward action.
  at::Tensor BackwardActionOf(const at::Tensor& next_states,
                              const at::Tensor& forward_actions) const override;
  // The last token of `states`.
  at::Tensor ForwardActionOf(const at::Tensor& states,
                             const at::Tensor& backward_actions) const override;
  absl::StatusOr<at::Tensor> EnumerateTerminalStates() const override;
  // Tokens as letters 'A' + v with '.' for empty positions ("AC.."); when
  // V > 26, the token ids instead ("[0,27,.,.]").
  std::string Describe(const at::Tensor& state) const override;

 private:
  SequenceEnvironment(EnvironmentConfig config, int64_t length, int64_t vocab)
      : config_(std::move(config)), length_(length), vocab_(vocab) {}

  EnvironmentConfig config_;
  int64_t length_;
  int64_t vocab_;
};

// The utility tables behind the rewards: [length, vocab] float64 on the CPU,
// scale times standard normal draws that depend only on the arguments (a
// std::mt19937_64 stream turned into normals by Box-Muller, so the values do
// not depend on the standard library's normal_distribution).
at::Tensor SequenceUtilities(int64_t length, int64_t vocab, int64_t seed,
                             double scale);
// Client `index`'s table: a stream of its own, distinct from every other
// client's and from SequenceUtilities with the same seed.
at::Tensor SequenceClientUtilities(int64_t length, int64_t vocab, int64_t seed,
                                   int64_t index, double scale);

// Reward kinds:
//  - "utility" (seed = 0, scale = 1): log R(x) = sum_p u[p][x_p] with
//    u = SequenceUtilities(length, vocab, seed, scale).
//  - "client" (index, count, seed = 0, scale = 1): one institution's reward,
//    log R_i(x) = sum_p u^(i)[p][x_p] with u^(i) = SequenceClientUtilities(
//    length, vocab, seed, index, scale). The federated target is the product
//    of the client rewards times prior^(1/N) per client; the prior here is
//    uniform, so it adds nothing and the product is the utility reward with
//    u = sum_i u^(i).
absl::StatusOr<RewardParts> MakeSequenceReward(
    const SequenceEnvironment& environment, const RewardConfig& config);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_SEQUENCE_SEQUENCE_H_
