#include "tests/bench/sites_accuracy_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

ABSL_FLAG(double, target_tv, 0.0,
          "> 0: time-to-accuracy mode. Each method trains in chunks of "
          "--eval_every iterations, the exact TV of its model to the "
          "full-data target is evaluated after each chunk (not counted as "
          "training time), and the method stops at the first evaluation "
          "where the mean of the last --tv_window TVs is <= this (the same "
          "rule for both methods; that smoothed TV and the last one are "
          "reported). Centralized: up to --centralized_cap iterations. "
          "Federated: clients train --local_start iterations, then the "
          "aggregation runs until the target, a plateau (see "
          "--plateau_reference) or --aggregation_cap iterations in the round "
          "(the window restarts each round); then the clients resume to "
          "--local_growth times their iterations (at most --local_cap) and "
          "the aggregation continues from the global model. Federated time = "
          "sum over rounds of the slowest client + all aggregation time. 0: "
          "the fixed budgets of --*_iterations.");
ABSL_FLAG(int64_t, eval_every, 10,
          "Time-to-accuracy mode: iterations per chunk between exact TV "
          "evaluations (session 16: 25).");
ABSL_FLAG(int64_t, tv_window, 10,
          "Time-to-accuracy mode: evaluations averaged by the stop and "
          "plateau decisions (default: 100 iterations at --eval_every=10; "
          "1: the instantaneous TV of session 14; session 16: 4).");
ABSL_FLAG(int64_t, centralized_cap, 6000,
          "Time-to-accuracy mode: most centralized iterations.");
ABSL_FLAG(int64_t, local_start, 300,
          "Time-to-accuracy mode: local iterations of the first round.");
ABSL_FLAG(int64_t, local_cap, 4800,
          "Time-to-accuracy mode: most local iterations per client.");
ABSL_FLAG(double, local_growth, 2.0,
          "Time-to-accuracy mode: on an aggregation plateau the clients "
          "resume to this times their cumulative iterations, rounded up to a "
          "multiple of --eval_every and at most --local_cap; > 1 (default: "
          "the doubling of sessions 14 and 16, 300..4800; session 17's rule: "
          "1.5).");
ABSL_FLAG(int64_t, aggregation_cap, 2000,
          "Time-to-accuracy mode: most aggregation iterations per round.");
ABSL_FLAG(int64_t, plateau_patience, 30,
          "Time-to-accuracy mode: the plateau's span in evaluations (see "
          "--plateau_reference; default 300 iterations at --eval_every=10; "
          "session 16: 12). No plateau before --tv_window + this "
          "evaluations.");
ABSL_FLAG(std::string, plateau_reference, "lagged",
          "Time-to-accuracy mode: what ends an aggregation round as a "
          "plateau. 'lagged': the smoothed TV is not lower by more than "
          "--min_improvement than the smoothed TV --plateau_patience "
          "evaluations earlier (a window sharing no evaluation with the "
          "current one when patience >= --tv_window). 'best': "
          "--plateau_patience evaluations in a row whose smoothed TV is not "
          "below the best smoothed TV so far by more than --min_improvement "
          "(session 16's rule).");
ABSL_FLAG(double, min_improvement, 0.005,
          "Time-to-accuracy mode: a smoothed-TV improvement of at most this "
          "does not count (see --plateau_reference).");

namespace epgfn {
namespace {

absl::StatusOr<PlateauReference> PlateauReferenceFromFlag() {
  const std::string name = absl::GetFlag(FLAGS_plateau_reference);
  if (name == "lagged") return PlateauReference::kLagged;
  if (name == "best") return PlateauReference::kBest;
  return absl::InvalidArgumentError(absl::StrCat(
      "--plateau_reference must be 'lagged' or 'best', not '", name, "'"));
}

}  // namespace

bool AccuracyModeRequested() { return absl::GetFlag(FLAGS_target_tv) > 0; }

absl::StatusOr<AccuracyOptions> AccuracyOptionsFromFlags(int64_t batch_size,
                                                         uint64_t seed) {
  AccuracyOptions options;
  options.rule.target_tv = absl::GetFlag(FLAGS_target_tv);
  options.rule.min_improvement = absl::GetFlag(FLAGS_min_improvement);
  options.rule.patience = absl::GetFlag(FLAGS_plateau_patience);
  options.rule.window = absl::GetFlag(FLAGS_tv_window);
  ASSIGN_OR_RETURN(options.rule.reference, PlateauReferenceFromFlag());
  options.local_growth = absl::GetFlag(FLAGS_local_growth);
  options.eval_every = absl::GetFlag(FLAGS_eval_every);
  options.centralized_cap = absl::GetFlag(FLAGS_centralized_cap);
  options.local_start = absl::GetFlag(FLAGS_local_start);
  options.local_cap = absl::GetFlag(FLAGS_local_cap);
  options.aggregation_cap = absl::GetFlag(FLAGS_aggregation_cap);
  options.batch_size = batch_size;
  options.seed = seed;
  if (options.rule.target_tv <= 0 || options.rule.target_tv >= 1) {
    return absl::InvalidArgumentError("--target_tv must be in (0, 1)");
  }
  if (options.eval_every < 1 || options.centralized_cap < 1 ||
      options.local_start < 1 || options.local_cap < options.local_start ||
      options.aggregation_cap < 1 || options.rule.patience < 1 ||
      options.rule.window < 1 || options.rule.min_improvement < 0) {
    return absl::InvalidArgumentError(
        "--eval_every, --centralized_cap, --local_start, --aggregation_cap, "
        "--plateau_patience and --tv_window must be >= 1, --local_cap >= "
        "--local_start, "
        "--min_improvement >= 0");
  }
  if (!(options.local_growth > 1)) {
    return absl::InvalidArgumentError("--local_growth must be > 1");
  }
  return options;
}

}  // namespace epgfn
