#ifndef EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_
#define EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_

// The stop/resume rule of the sites-scaling benchmark's time-to-accuracy
// mode (issue 14): a run is trained in chunks, and after each chunk the
// exact TV to the full-data target is evaluated. One chunk's TV is noisy
// (it moves by 0.01-0.03 between chunks), so the decisions read the mean
// of the last `window` evaluations: the run has reached the target when
// that mean is <= target_tv, and has plateaued when that mean has stopped
// improving (PlateauReference says against what). A federated round whose
// aggregation plateaus resumes the clients with more local iterations
// (NextLocalIterations), because the global model's accuracy is bounded by
// the local models'.

#include <cstdint>
#include <deque>
#include <optional>

namespace epgfn {

// What the current smoothed TV is compared with to declare a plateau.
enum class PlateauReference {
  // The best smoothed TV so far; `patience` evaluations in a row not below
  // it by more than min_improvement (session 16). The best is a minimum
  // over overlapping, noisy windows, so it is biased low and ends rounds
  // that are still improving.
  kBest,
  // The smoothed TV `patience` evaluations earlier: a plateau when the
  // current one is not below it by more than min_improvement. With
  // patience >= window the two windows share no evaluation.
  kLagged,
};

struct AccuracyRule {
  double target_tv = 0.05;
  // Evaluations averaged by the stop and plateau decisions (1: the
  // instantaneous TV, session 14's rule).
  int64_t window = 10;
  double min_improvement = 0.005;
  int64_t patience = 30;
  PlateauReference reference = PlateauReference::kLagged;
};

enum class ChunkVerdict { kReached, kContinue, kPlateau };

// The running state of one chunked run (one aggregation round, or the
// centralized run): fed each chunk's TV, says what to do next. No stop
// before `window` evaluations; no plateau before window + patience (with
// either reference: the first full window, then `patience` more).
class ChunkMonitor {
 public:
  explicit ChunkMonitor(const AccuracyRule& rule) : rule_(rule) {}
  ChunkVerdict Observe(double total_variation);
  // The mean of the last `window` TVs (of all, while fewer); nullopt before
  // the first.
  std::optional<double> smoothed() const;
  std::optional<double> last() const;
  // The best full-window smoothed TV so far.
  std::optional<double> best() const { return best_; }

 private:
  bool BestPlateau(double mean);
  bool LaggedPlateau(double mean);

  AccuracyRule rule_;
  std::deque<double> recent_;
  // kLagged: the full-window smoothed TVs of the last patience + 1
  // evaluations, oldest first.
  std::deque<double> smoothed_history_;
  std::optional<double> best_;
  int64_t stale_ = 0;
};

// The local iterations (cumulative, per client) of the round after one that
// trained `current`: current x growth, rounded up to a multiple of
// `multiple` (the evaluation grid), at most `cap`; 0 when `current` is the
// cap already (no further round). growth > 1, multiple >= 1.
int64_t NextLocalIterations(int64_t current, int64_t cap, double growth,
                            int64_t multiple);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_
