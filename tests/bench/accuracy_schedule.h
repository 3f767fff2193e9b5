#ifndef EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_
#define EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_

// The stop/resume rule of the sites-scaling benchmark's time-to-accuracy
// mode (issue 14): a run is trained in chunks, and after each chunk the
// exact TV to the full-data target is evaluated. One chunk's TV is noisy
// (it moves by 0.01-0.03 between chunks), so the decisions read the mean
// of the last `window` evaluations: the run has reached the target when
// that mean is <= target_tv, and has plateaued when that mean has not
// improved for `patience` evaluations. A federated round whose aggregation
// plateaus resumes the clients with doubled local iterations, because the
// global model's accuracy is bounded by the local models'.

#include <cstdint>
#include <deque>
#include <optional>

namespace epgfn {

struct AccuracyRule {
  double target_tv = 0.05;
  // Evaluations averaged by the stop and plateau decisions (1: the
  // instantaneous TV, session 14's rule).
  int64_t window = 4;
  // An evaluation improves when the smoothed TV is below the best smoothed
  // TV so far by more than this; `patience` evaluations in a row without an
  // improvement: a plateau.
  double min_improvement = 0.005;
  int64_t patience = 3;
};

enum class ChunkVerdict { kReached, kContinue, kPlateau };

// The running state of one chunked run (one aggregation round, or the
// centralized run): fed each chunk's TV, says what to do next. Neither a
// stop nor a plateau is declared before `window` evaluations.
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
  AccuracyRule rule_;
  std::deque<double> recent_;
  std::optional<double> best_;
  int64_t stale_ = 0;
};

// The local iterations (cumulative, per client) of the round after one that
// trained `current`: doubled, at most `cap`; 0 when `current` is the cap
// already (no further round).
int64_t NextLocalIterations(int64_t current, int64_t cap);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_
