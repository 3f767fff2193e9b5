#include "client/core/progress_fcs.h"

#include <utility>

#include "absl/status/statusor.h"
#include "common/eval/flow_consistency.h"
#include "common/sampling/random.h"

namespace epgfn {
namespace {

// The daemons' FCS (kDaemonFcsBackwardSamples backward samples per object)
// on `num_samples` on-policy draws from a source seeded with `seed`.
absl::StatusOr<double> DaemonFcs(PolicyNet& policy,
                                 const Environment& environment,
                                 const LogReward& reward, int64_t num_samples,
                                 uint64_t seed) {
  FcsOptions fcs;
  fcs.num_samples = num_samples;
  fcs.num_backward_samples = kDaemonFcsBackwardSamples;
  RandomSource random(seed);
  return SampledFlowConsistency(policy, environment, reward, fcs, random);
}

bool Due(const TrainingProgress& progress, int64_t every) {
  return every <= 0 || progress.iteration % every == 0 ||
         progress.iteration >= progress.total_iterations;
}

std::optional<double> MeasureFcs(PolicyNet& policy,
                                 const Environment& environment,
                                 const LogReward& reward,
                                 const ProgressFcsOptions& options) {
  torch::NoGradGuard no_grad;
  const bool was_training = policy->is_training();
  policy->eval();
  absl::StatusOr<double> value =
      DaemonFcs(policy, environment, reward, options.num_samples, options.seed);
  policy->train(was_training);
  if (!value.ok()) return std::nullopt;
  return *value;
}

}  // namespace

ProgressCallback WithProgressFcs(PolicyNet policy,
                                 const Environment& environment,
                                 const LogReward& reward,
                                 const ProgressFcsOptions& options,
                                 LocalProgressCallback on_progress) {
  if (!on_progress) return nullptr;
  return [policy, &environment, &reward, options,
          on_progress = std::move(on_progress)](
             const TrainingProgress& training) mutable {
    LocalTrainingProgress progress{training, std::nullopt};
    if (options.num_samples > 0 && Due(training, options.every)) {
      progress.fcs = MeasureFcs(policy, environment, reward, options);
    }
    on_progress(progress);
  };
}

ProgressCallback WithoutFcs(LocalProgressCallback on_progress) {
  if (!on_progress) return nullptr;
  return
      [on_progress = std::move(on_progress)](const TrainingProgress& training) {
        on_progress({training, std::nullopt});
      };
}

absl::StatusOr<double> FcsAfterTraining(PolicyNet& policy,
                                        const Environment& environment,
                                        const LogReward& reward,
                                        int64_t num_samples,
                                        uint64_t training_seed) {
  return DaemonFcs(policy, environment, reward, num_samples, training_seed + 2);
}

}  // namespace epgfn
