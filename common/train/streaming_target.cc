#include "common/train/streaming_target.h"

#include "absl/strings/str_cat.h"
#include "common/loss/balance_loss.h"

namespace epgfn {

StreamingTarget::StreamingTarget(const Environment* environment,
                                 PolicyNet previous,
                                 const LogReward* new_data_log_likelihood)
    : environment_(environment),
      previous_(std::move(previous)),
      new_data_log_likelihood_(new_data_log_likelihood) {
  previous_->eval();
}

torch::Tensor StreamingTarget::LogTarget(const Trajectories& trajectories) {
  torch::NoGradGuard no_grad;
  const torch::Tensor previous = LogForwardOverBackward(
      ComputeTrajectoryLogProbs(previous_, *environment_, trajectories));
  return previous + (*new_data_log_likelihood_)(trajectories.terminal_states)
                        .to(previous.device(), previous.scalar_type());
}

std::string StreamingTarget::Describe() const {
  return absl::StrCat("streaming update: previous model times ",
                      new_data_log_likelihood_->Describe());
}

}  // namespace epgfn
