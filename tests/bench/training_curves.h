#ifndef EPGFN_TESTS_BENCH_TRAINING_CURVES_H_
#define EPGFN_TESTS_BENCH_TRAINING_CURVES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace epgfn {

// A training curve: loss (mean since the previous point) and, for the
// aggregation and the centralized run, the exact TV to the target.
struct Curve {
  std::string name;
  std::vector<double> iteration;
  std::vector<double> loss;
  std::vector<double> total_variation;
};

// Writes `dir`/curves.tsv (every curve) and the gnuplot figures loss.png and
// (where a curve has TVs) tv.png, and says so on stdout.
absl::Status WriteCurves(const std::vector<Curve>& curves,
                         const std::string& dir);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_TRAINING_CURVES_H_
