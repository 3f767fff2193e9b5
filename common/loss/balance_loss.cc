#include "common/loss/balance_loss.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/loss/contrastive_balance.h"
#include "common/loss/detailed_balance.h"
#include "common/loss/trajectory_balance.h"

namespace epgfn {

absl::StatusOr<LossKind> ParseLossKind(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "tb" || lower == "trajectory_balance") {
    return LossKind::kTrajectoryBalance;
  }
  if (lower == "db" || lower == "detailed_balance") {
    return LossKind::kDetailedBalance;
  }
  if (lower == "cb" || lower == "contrastive_balance") {
    return LossKind::kContrastiveBalance;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown loss '", name, "'; expected tb, db or cb"));
}

std::string LossKindName(LossKind kind) {
  switch (kind) {
    case LossKind::kTrajectoryBalance:
      return "tb";
    case LossKind::kDetailedBalance:
      return "db";
    case LossKind::kContrastiveBalance:
      return "cb";
  }
  return "unknown";
}

std::unique_ptr<BalanceLoss> MakeBalanceLoss(LossKind kind) {
  switch (kind) {
    case LossKind::kTrajectoryBalance:
      return std::make_unique<TrajectoryBalanceLoss>();
    case LossKind::kDetailedBalance:
      return std::make_unique<DetailedBalanceLoss>();
    case LossKind::kContrastiveBalance:
      return std::make_unique<ContrastiveBalanceLoss>();
  }
  return nullptr;
}

torch::Tensor LogForwardOverBackward(const TrajectoryLogProbs& log_probs) {
  return log_probs.SumLogPf() - log_probs.SumLogPb();
}

}  // namespace epgfn
