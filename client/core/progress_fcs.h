#ifndef EPGFN_CLIENT_CORE_PROGRESS_FCS_H_
#define EPGFN_CLIENT_CORE_PROGRESS_FCS_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"

namespace epgfn {

// A progress report of local training: the trainer's, plus the model's FCS
// against the private reward at the reports that measured it.
struct LocalTrainingProgress {
  TrainingProgress training;
  std::optional<double> fcs;
};

using LocalProgressCallback = std::function<void(const LocalTrainingProgress&)>;

struct ProgressFcsOptions {
  // On-policy trajectories of the pool (16 backward samples per object, 256
  // subsets of 8, as the FCS after training); 0: never measured.
  int64_t num_samples = 0;
  // Measured at the reports whose iteration is a multiple of this, and at
  // the last; 0: at every report.
  int64_t every = 0;
  // Of the measurement's own random source, fresh at each report: every
  // report draws the same random numbers, so a change between two reports
  // is the model's, not the pool's.
  uint64_t seed = 0;
};

// The trainer's progress callback for `on_progress` (null when it is null):
// before forwarding a due report it measures the policy's FCS under
// NoGradGuard in eval mode, restoring the mode after. Training is unchanged:
// nothing it draws from, reads or updates is touched. A pool with fewer
// distinct objects than a subset leaves that report's fcs unset (a peaked
// model is legitimate). `environment` and `reward` must outlive the result.
ProgressCallback WithProgressFcs(PolicyNet policy,
                                 const Environment& environment,
                                 const LogReward& reward,
                                 const ProgressFcsOptions& options,
                                 LocalProgressCallback on_progress);

// The FCS of a freshly trained model, uploaded with its diagnostics: on
// `num_samples` on-policy draws, kDaemonFcsBackwardSamples backward samples
// each, its random source seeded from the training's (seed + 2).
absl::StatusOr<double> FcsAfterTraining(PolicyNet& policy,
                                        const Environment& environment,
                                        const LogReward& reward,
                                        int64_t num_samples,
                                        uint64_t training_seed);

// The trainer's progress callback for `on_progress` where nothing is
// measured (a streaming update): every report without an fcs; null when
// `on_progress` is null.
ProgressCallback WithoutFcs(LocalProgressCallback on_progress);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_PROGRESS_FCS_H_
