#ifndef EPGFN_TESTS_BENCH_FEDERATED_PHASES_H_
#define EPGFN_TESTS_BENCH_FEDERATED_PHASES_H_

// The phases of federated_experiment on one Instance: local training of
// every client, aggregation, the centralized baseline, and the
// product-of-marginals baseline. Each timed without its curve's exact
// evaluations.

#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/aggregate/aggregation_stopping.h"
#include "common/aggregate/local_model.h"
#include "common/aggregate/warm_start.h"
#include "common/policy/policy_net.h"
#include "common/train/progress_reporter.h"
#include "common/train/trainer.h"
#include "tests/bench/federated_instance.h"
#include "tests/bench/training_curves.h"

namespace epgfn {

// What every phase trains with (federated_experiment's flags).
struct Settings {
  uint64_t seed = 0;
  int64_t local_iterations = 1000;
  int64_t aggregation_iterations = 1000;
  int64_t centralized_iterations = 1000;
  int parallel_clients = 1;  // clients trained at once (threads)
  int64_t evaluation_samples = 4096;
  PolicyArchitecture architecture;
  TrainingOptions training;  // iterations, seed and progress set per phase
  int curve_points = 1;
  absl::Duration progress_interval;
  // The aggregation's stopping rule (off by default) and, when it is on,
  // the aggregation's progress period (the rule's evaluations).
  AggregationStoppingOptions stopping;
  int64_t stopping_every = 25;
  // Every client starts from one initialisation drawn from the seed (instead
  // of one of its own), and where the global model starts.
  bool common_init = false;
  AggregationWarmStart warm_start = AggregationWarmStart::kNone;

  // The progress period that gives `curve_points` points.
  int64_t Every(int64_t iterations) const {
    return std::max<int64_t>(1, iterations / curve_points);
  }
  ProgressReporter Reporter(const std::string& what) const {
    return ProgressReporter(what, progress_interval,
                            [](const std::string& line) {
                              std::fprintf(stderr, "%s\n", line.c_str());
                            });
  }
};

// Phase 1's outcome: every client's model, loss curve and training time.
struct LocalPhase {
  std::vector<LocalModel> locals;
  std::vector<Curve> curves;
  std::vector<double> client_seconds;
  std::vector<double> client_cpu_seconds;  // the client's thread's
  double wall_seconds = 0;

  double SlowestClient() const {
    return *std::max_element(client_seconds.begin(), client_seconds.end());
  }
  double SlowestClientCpu() const {
    return *std::max_element(client_cpu_seconds.begin(),
                             client_cpu_seconds.end());
  }
};

// A trained global or centralized model, its curve, and its training time
// without the exact evaluations of the curve points.
struct TrainedModel {
  PolicyNet policy = nullptr;
  Curve curve;
  double seconds = 0;
  double cpu_seconds = 0;  // of the training thread, evaluations excluded too
  int64_t iterations = 0;  // done (fewer than the budget when stopped early)
  // The aggregation's: why it stopped, and the exact TV of the global model
  // to the normalised product of the local models (enumerable instances).
  AggregationStopReason stop_reason = AggregationStopReason::kNotStopped;
  double total_variation_to_local_product = -1;
  double initial_total_variation_to_local_product = -1;  // before training
};

// Phase 1: local training, clients in `parallel_clients` threads.
absl::StatusOr<LocalPhase> TrainClients(const Instance& instance,
                                        const Settings& settings);

// Phase 2: aggregation of the local models (no reward evaluated).
absl::StatusOr<TrainedModel> Aggregate(const Instance& instance,
                                       const Settings& settings,
                                       const std::vector<LocalModel>& locals);

// Phase 3: the centralized baseline, trained on the product reward.
absl::StatusOr<TrainedModel> TrainCentralized(const Instance& instance,
                                              const Settings& settings);

// Phase 4: the product-of-marginals baseline from samples of each local
// model, over the target's states.
absl::StatusOr<torch::Tensor> ProductOfMarginals(
    const Instance& instance, const Settings& settings,
    std::vector<LocalModel>& locals);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_FEDERATED_PHASES_H_
