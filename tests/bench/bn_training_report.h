#ifndef EPGFN_TESTS_BENCH_BN_TRAINING_REPORT_H_
#define EPGFN_TESTS_BENCH_BN_TRAINING_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/env/dag/data.h"

namespace epgfn {

struct TrainingReportOptions {
  std::string variables = "pka,pkc,raf,mek,erk";  // comma-separated names
  int64_t rows = 200;         // a fixed-seed subsample of the data
  int64_t iterations = 2000;  // per training: clients and aggregation alike
  int64_t samples = 20000;    // drawn from each trained GFlowNet
  double temperature = 1.0;   // every target is the BGe posterior^(1/T)
  int clients = 4;
  int64_t seed = 0;
  // The training's settings (every training alike); the defaults are the
  // ones the earlier tables used.
  std::string loss = "cb";
  double learning_rate = 1e-3;
  double log_z_learning_rate = 1e-1;  // tb only
  double epsilon = 0.05;
  int64_t batch_size = 128;
  double max_gradient_norm = 0.0;  // TrainingOptions::max_gradient_norm
  // Which rows to train: any of "full", "product", "federated".
  std::string methods = "full,product,federated";
  // Every this many iterations each training prints its loss and log Z to
  // stderr (0: never), to see a collapse as it happens.
  int64_t progress_every = 0;
};

// Section (e) of bn_exact_reference: GFlowNets trained in process on a
// variable subset (centralized on the full-data reward, centralized on the
// product reward, and federated: clients on their own rewards, then
// EP-GFlowNet aggregation); their sampled edge frequencies against the DP
// of the target each one aims at, and against the ground truth `truth`.
absl::Status ReportTraining(const Dataset& data,
                            const std::vector<int64_t>& truth,
                            const TrainingReportOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_BN_TRAINING_REPORT_H_
