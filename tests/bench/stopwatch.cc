#include "tests/bench/stopwatch.h"

namespace epgfn {

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace epgfn
