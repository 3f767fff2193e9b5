#include "tests/bench/streaming_retrain.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "common/eval/flow_consistency.h"
#include "common/sampling/random.h"
#include "common/train/trajectory_target.h"
#include "common/util/status_macros.h"

namespace epgfn {

const char* MetricName(Metric metric) {
  return metric == Metric::kExactTv ? "exact TV" : "FCS";
}

absl::StatusOr<Distance> Distance::Create(Metric metric,
                                          const Environment& environment,
                                          const LogReward& all_data,
                                          DistanceOptions options) {
  Distance distance(metric, &environment, &all_data, options);
  if (metric == Metric::kExactTv) {
    ASSIGN_OR_RETURN(distance.posterior_,
                     ExactTargetDistribution(environment, all_data));
  }
  return distance;
}

absl::StatusOr<double> Distance::Of(PolicyNet& policy) const {
  ASSIGN_OR_RETURN(const Estimate estimate,
                   Precise(policy, FinalMeasurement{1, options_.fcs_subsets}));
  return estimate.mean;
}

absl::StatusOr<Estimate> Distance::Precise(
    PolicyNet& policy, const FinalMeasurement& final) const {
  Estimate estimate;
  if (metric_ == Metric::kExactTv) {
    ASSIGN_OR_RETURN(estimate.mean,
                     ExactTotalVariation(policy, *environment_, *posterior_));
    return estimate;
  }
  FcsOptions fcs;
  fcs.num_samples = options_.fcs_samples;
  fcs.num_subsets = final.subsets;
  double sum = 0.0;
  double sum_of_squares = 0.0;
  for (int r = 0; r < final.repeats; ++r) {
    RandomSource random(options_.fcs_seed + r);
    ASSIGN_OR_RETURN(
        const double d,
        SampledFlowConsistency(policy, *environment_, *all_data_, fcs, random));
    sum += d;
    sum_of_squares += d * d;
  }
  const int n = final.repeats;
  estimate.repeats = n;
  estimate.mean = sum / n;
  if (n > 1) {
    const double variance = std::max(
        0.0, (sum_of_squares - n * estimate.mean * estimate.mean) / (n - 1));
    estimate.standard_deviation = std::sqrt(variance);
    estimate.standard_error = estimate.standard_deviation / std::sqrt(n);
  }
  return estimate;
}

absl::StatusOr<RetrainResult> Retrain(const Environment& environment,
                                      const LogReward& all_data,
                                      const Distance& distance,
                                      double streaming_distance,
                                      const RetrainOptions& options) {
  const int64_t cap = options.training.iterations;
  ASSIGN_OR_RETURN(PolicyNet fresh,
                   MakePolicy(environment, options.architecture,
                              options.policy_seed, torch::kCPU));
  RewardTarget target(&all_data);
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(&environment, fresh, &target, options.training));
  RetrainResult result;
  double seconds = 0.0;
  while (result.iterations_done < cap) {
    const auto start = Clock::now();
    fresh->train();
    RETURN_IF_ERROR(trainer->RunUntil(result.iterations_done + options.chunk));
    seconds += SecondsSince(start);
    result.iterations_done = trainer->iterations_done();
    fresh->eval();
    ASSIGN_OR_RETURN(const double d, distance.Of(fresh));
    result.curve.push_back(RetrainPoint{result.iterations_done, seconds, d});
    result.best_distance = std::min(result.best_distance, d);
    if (result.iterations_done == options.first_budget) {
      ASSIGN_OR_RETURN(const Estimate at_budget,
                       distance.Precise(fresh, options.final_measurement));
      result.distance_at_first_budget = at_budget.mean;
      result.standard_error_at_first_budget = at_budget.standard_error;
    }
    if (result.iterations_within < 0 &&
        d <= streaming_distance + options.tolerance) {
      result.iterations_within = result.iterations_done;
      result.seconds_within = seconds;
    }
    if (result.iterations_equal < 0 && d <= streaming_distance) {
      result.iterations_equal = result.iterations_done;
      result.seconds_equal = seconds;
    }
    if (result.iterations_done >= options.first_budget &&
        result.iterations_equal >= 0) {
      break;
    }
  }
  return result;
}

Reach ReachOf(const RetrainResult& result, double streaming_distance,
              double tolerance) {
  Reach reach;
  for (const RetrainPoint& point : result.curve) {
    if (reach.iterations_within < 0 &&
        point.distance <= streaming_distance + tolerance) {
      reach.iterations_within = point.iterations;
      reach.seconds_within = point.seconds;
    }
    if (reach.iterations_equal < 0 && point.distance <= streaming_distance) {
      reach.iterations_equal = point.iterations;
      reach.seconds_equal = point.seconds;
    }
  }
  return reach;
}

}  // namespace epgfn
