#ifndef EPGFN_TESTS_DEMO_BAR_CHART_H_
#define EPGFN_TESTS_DEMO_BAR_CHART_H_

#include <vector>

#include "absl/status/statusor.h"
#include "tests/demo/bitmap_font.h"
#include "tests/demo/line_plot.h"

namespace epgfn {

struct BarChartOptions {
  int width = 640;
  int height = 360;

  absl::Status Validate() const;
};

// Grouped bars: values[s][c] is series s (e.g. exact, sampled) in category c
// (e.g. the c-th most probable split), each series in colours[s]; the
// categories are labelled 1, 2, ... under the axis (the caller prints what
// each number stands for). The y axis starts at 0.
// InvalidArgument for no series, ragged or empty rows, a colour count that
// differs from the series count, or a negative or non-finite value.
absl::StatusOr<RenderedPlot> RenderBarChart(
    const std::vector<std::vector<double>>& values,
    const std::vector<Rgb>& colours, const BarChartOptions& options);

// The pixel columns [first, last] of bar (series, category) in a chart
// rendered with `frame` for `num_series` x `num_categories` values.
struct BarColumns {
  int first = 0;
  int last = 0;
};
BarColumns BarPixelColumns(const PlotFrame& frame, int num_series,
                           int num_categories, int series, int category);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_BAR_CHART_H_
