#ifndef EPGFN_TESTS_DEMO_EVALUATION_FIGURES_H_
#define EPGFN_TESTS_DEMO_EVALUATION_FIGURES_H_

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/env/environment.h"
#include "common/env/phylo/phylo.h"
#include "tests/demo/evaluation.h"
#include "tests/demo/figure.h"

// The figures of the demo's evaluator (evaluate.cc): heatmaps of 2-D
// hypergrid distributions, bar charts of the most probable objects, and the
// clade frequencies of trees. Each writes its PNG (gnuplot) with the TSV
// data next to it and prints where.
namespace epgfn {

// The side of the heatmaps of `environment`'s objects (`states`, the
// enumeration): its grid's side for a 2-D hypergrid, else 0 (no heatmaps).
int HeatmapSide(const Environment& environment, const torch::Tensor& states);

// The distribution as a side x side heatmap; cell (x, y) is the object at
// those coordinates.
HeatmapFigure ToHeatmap(const torch::Tensor& states,
                        const torch::Tensor& probabilities, int side,
                        std::string title);

struct PanelRow {
  std::string name;  // "product", "client_0", ...
  // target, learned (optional), empirical (optional; empty: no panel)
  std::vector<HeatmapFigure> panels;
};

// One page (one row per distribution, columns: target, learned, empirical;
// each row on one colour scale) and every panel on its own.
absl::Status WriteHeatmaps(std::vector<PanelRow> rows, const std::string& dir);

// Bars of several distributions over the same categories.
struct Bars {
  std::vector<std::string> series_names;
  std::vector<std::vector<double>> values;  // [series][category]
};

// Adds the series of `probabilities` (undefined: none) at the categories
// `order`.
void AddSeries(Bars& bars, const std::string& name,
               const torch::Tensor& probabilities,
               const std::vector<int64_t>& order);

// Writes the chart (and its TSV) and prints one line per category.
absl::Status WriteBars(const Bars& bars, const std::string& stem,
                       const std::string& title, const std::string& x_label,
                       const std::vector<std::string>& labels);

// Indices of the k largest entries of `p`, largest first.
std::vector<int64_t> TopK(const torch::Tensor& p, int64_t k);

// Bar chart of the `top_k` most probable non-trivial clades (2..n-1 taxa)
// under the first of `distributions` (the exact posterior), against the
// others (undefined ones are left out).
absl::Status WriteCladeChart(
    const PhyloEnvironment& phylo, const torch::Tensor& states,
    const std::vector<std::pair<std::string, torch::Tensor>>& distributions,
    int64_t top_k, const std::string& dir);

// The figures of an environment that is not a 2-D hypergrid, in `png_dir`:
// the `top_k` most probable objects under the product target (target,
// global model, samples and, where known, the full-data posterior), and for
// trees their clades.
absl::Status WriteObjectCharts(const Evaluation& evaluation, int64_t top_k,
                               const std::string& png_dir);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_EVALUATION_FIGURES_H_
