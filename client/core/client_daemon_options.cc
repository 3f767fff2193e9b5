// ClientDaemonOptions' checks (the struct is in client_daemon.h): every
// flag's range, and the combinations the daemon refuses.
#include "absl/strings/str_cat.h"
#include "client/core/client_daemon.h"
#include "common/train/learning_rate_schedule.h"
#include "common/train/streaming_update.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::Status ClientDaemonOptions::Validate() const {
  if (client_id.empty() || state_dir.empty() || reward.empty()) {
    return absl::InvalidArgumentError(
        "--client_id, --state_dir and --reward are required");
  }
  if (iterations < 0 || batch_size < 0 || diagnostics_trajectories < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "iterations (", iterations, ") and batch_size (", batch_size,
        ") must be >= 0 (0: the spec's), diagnostics_trajectories (",
        diagnostics_trajectories, ") >= 1"));
  }
  if (fcs_samples < 0 || progress_fcs_samples < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fcs_samples (", fcs_samples, ") and progress_fcs_samples (",
        progress_fcs_samples, ") must be >= 0 (0: none)"));
  }
  RETURN_IF_ERROR(
      CheckLearningRateFloor(update_learning_rate_floor, "update_lr_floor"));
  RETURN_IF_ERROR(
      CheckReplayFraction(update_replay_fraction, "update_replay_fraction"));
  if (!update_reward.empty() && rollback_to_round != 0) {
    return absl::InvalidArgumentError(
        "--update_reward and --rollback_to_round exclude each other");
  }
  if (rollback_to_round < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rollback_to_round must be >= 0, got ", rollback_to_round));
  }
  if (check_config && !spec_file.empty() && !load_spec_file) {
    return absl::InvalidArgumentError(
        "a spec file to check needs a spec file loader");
  }
  if (out == nullptr) {
    return absl::InvalidArgumentError("no output stream for the summary");
  }
  return absl::OkStatus();
}

}  // namespace epgfn
