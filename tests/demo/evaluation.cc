#include "tests/demo/evaluation.h"

#include <cstdio>

namespace epgfn {

void PrintResultLine(const Evaluation& evaluation) {
  std::printf(
      "RESULT tv_learned=%.6f tv_empirical=%.6f num_samples=%lld "
      "tv_learned_full=%.6f tv_empirical_full=%.6f edge_max_learned=%.6f "
      "edge_mean_learned=%.6f edge_max_empirical=%.6f "
      "edge_mean_empirical=%.6f edge_max_learned_full=%.6f "
      "edge_mean_learned_full=%.6f edge_max_empirical_full=%.6f "
      "edge_mean_empirical_full=%.6f dp_vs_enumeration=%.3g\n",
      evaluation.tv_learned, evaluation.tv_empirical,
      static_cast<long long>(evaluation.num_samples),
      evaluation.tv_learned_full, evaluation.tv_empirical_full,
      evaluation.edge_learned.max_abs, evaluation.edge_learned.mean_abs,
      evaluation.edge_empirical.max_abs, evaluation.edge_empirical.mean_abs,
      evaluation.edge_learned_full.max_abs,
      evaluation.edge_learned_full.mean_abs,
      evaluation.edge_empirical_full.max_abs,
      evaluation.edge_empirical_full.mean_abs, evaluation.dp_vs_enumeration);
}

}  // namespace epgfn
