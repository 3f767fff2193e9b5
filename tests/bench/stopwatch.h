#ifndef EPGFN_TESTS_BENCH_STOPWATCH_H_
#define EPGFN_TESTS_BENCH_STOPWATCH_H_

#include <chrono>

namespace epgfn {

// The benches' wall clock: monotonic, so that a clock step never shows up in
// a timed column.
using Clock = std::chrono::steady_clock;

// Seconds from `start` to now.
double SecondsSince(Clock::time_point start);

// This thread's CPU seconds: on a shared machine rates per CPU second are
// the comparable figures (wall-clock ones depend on the load).
double ThreadCpuSeconds();

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_STOPWATCH_H_
