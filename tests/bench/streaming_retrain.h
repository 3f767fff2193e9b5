// The streaming benchmark's measurements: the distance of a model to the
// posterior of the blocks so far, and a retraining from scratch on all of
// them, measured in chunks (tests/bench/streaming_benchmark.cc).
#ifndef EPGFN_TESTS_BENCH_STREAMING_RETRAIN_H_
#define EPGFN_TESTS_BENCH_STREAMING_RETRAIN_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/eval/exact_distribution.h"
#include "common/policy/policy_net.h"
#include "common/train/trainer.h"

namespace epgfn {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

enum class Metric { kExactTv, kFcs };

const char* MetricName(Metric metric);

struct DistanceOptions {
  int64_t fcs_samples = 1024;  // FCS pool draws
  int64_t fcs_subsets = 256;   // FCS subsets of 8 per pool
  // One pool seed for every model, so that differences between two models
  // are not differences between two draws of the subsets.
  uint64_t fcs_seed = 0;
};

// A distance with its standard error over independent measurements (0 for
// the exact TV, or for a single FCS measurement).
struct Estimate {
  double mean = 0.0;
  double standard_error = 0.0;
  double standard_deviation = 0.0;  // of one measurement
  int repeats = 1;
};

// How the figures that decide a comparison are measured: the mean of
// `repeats` FCS measurements on independent pools (seeds fcs_seed + r, so
// that the first is Of()'s when `subsets` is the per-chunk count), each with
// `subsets` subsets.
struct FinalMeasurement {
  int repeats = 1;
  int64_t subsets = 256;
};

// The exact TV (every object enumerated) or the sampled FCS of a model to
// the posterior `all_data`.
class Distance {
 public:
  static absl::StatusOr<Distance> Create(Metric metric,
                                         const Environment& environment,
                                         const LogReward& all_data,
                                         DistanceOptions options);
  absl::StatusOr<double> Of(PolicyNet& policy) const;
  // The mean and standard error of `final.repeats` measurements (the exact
  // TV once).
  absl::StatusOr<Estimate> Precise(PolicyNet& policy,
                                   const FinalMeasurement& final) const;

 private:
  Distance(Metric metric, const Environment* environment,
           const LogReward* all_data, DistanceOptions options)
      : metric_(metric),
        environment_(environment),
        all_data_(all_data),
        options_(options) {}

  Metric metric_;
  const Environment* environment_;
  const LogReward* all_data_;
  DistanceOptions options_;
  std::optional<TerminalDistribution> posterior_;
};

struct RetrainOptions {
  PolicyArchitecture architecture;
  uint64_t policy_seed = 0;
  TrainingOptions training;  // its iterations: the cap
  int64_t chunk = 100;       // iterations between two measurements
  // The least a retraining gets (the first model's budget: the converse
  // check) before it may stop at equal accuracy.
  int64_t first_budget = 0;
  double tolerance = 0.01;
  // The distance at the first budget, which the converse check compares.
  FinalMeasurement final_measurement;
};

// One measurement of a retraining: after `iterations`, `seconds` of
// training alone.
struct RetrainPoint {
  int64_t iterations = 0;
  double seconds = 0.0;
  double distance = 0.0;
};

struct RetrainResult {
  // First measurement within the tolerance of the streaming model, and at or
  // below it (equal accuracy); -1 when not reached within the cap.
  int64_t iterations_within = -1;
  double seconds_within = 0.0;
  int64_t iterations_equal = -1;
  double seconds_equal = 0.0;
  // At the first model's budget (the converse check) and the best seen.
  double distance_at_first_budget = 0.0;
  double standard_error_at_first_budget = 0.0;  // of FinalMeasurement
  double best_distance = 1e9;
  int64_t iterations_done = 0;
  std::vector<RetrainPoint> curve;  // every chunk's measurement
};

// When the retraining of `result` first came within `tolerance` of, and to,
// `streaming_distance` (-1 iterations: not within its curve): what the
// result's own fields say for the streaming distance it was trained
// against, for any other, so that one retraining serves several updates of
// the same blocks (it must have been trained against the smallest).
struct Reach {
  int64_t iterations_within = -1;
  double seconds_within = 0.0;
  int64_t iterations_equal = -1;
  double seconds_equal = 0.0;
};
Reach ReachOf(const RetrainResult& result, double streaming_distance,
              double tolerance);

// Trains a fresh model on `all_data` in chunks, measuring after each (time
// of training alone), until it has had the first budget and reached the
// streaming model's distance, or the cap.
absl::StatusOr<RetrainResult> Retrain(const Environment& environment,
                                      const LogReward& all_data,
                                      const Distance& distance,
                                      double streaming_distance,
                                      const RetrainOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_STREAMING_RETRAIN_H_
