#ifndef EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_
#define EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_

// The stop/resume rule of the sites-scaling benchmark's time-to-accuracy
// mode (issue 14): a run is trained in chunks, and after each chunk the
// exact TV to the full-data target decides whether it has reached the
// target, should keep training, or has plateaued. A federated round whose
// aggregation plateaus resumes the clients with doubled local iterations,
// because the global model's accuracy is bounded by the local models'.

#include <cstdint>
#include <optional>

namespace epgfn {

struct AccuracyRule {
  double target_tv = 0.05;
  // A chunk improves when its TV is below the best so far by more than
  // this; `patience` chunks in a row without an improvement: a plateau.
  double min_improvement = 0.005;
  int64_t patience = 3;
};

enum class ChunkVerdict { kReached, kContinue, kPlateau };

// The running state of one chunked run (one aggregation round, or the
// centralized run): fed each chunk's TV, says what to do next.
class ChunkMonitor {
 public:
  explicit ChunkMonitor(const AccuracyRule& rule) : rule_(rule) {}
  ChunkVerdict Observe(double total_variation);
  std::optional<double> best() const { return best_; }

 private:
  AccuracyRule rule_;
  std::optional<double> best_;
  int64_t stale_ = 0;
};

// The local iterations (cumulative, per client) of the round after one that
// trained `current`: doubled, at most `cap`; 0 when `current` is the cap
// already (no further round).
int64_t NextLocalIterations(int64_t current, int64_t cap);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_ACCURACY_SCHEDULE_H_
