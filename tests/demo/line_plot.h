#ifndef EPGFN_TESTS_DEMO_LINE_PLOT_H_
#define EPGFN_TESTS_DEMO_LINE_PLOT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "tests/demo/bitmap_font.h"
#include "tests/demo/plot_axes.h"
#include "tests/demo/png_writer.h"

namespace epgfn {

// One curve: points (x[i], y[i]) joined in order. Points with a non-finite
// coordinate (or y <= 0 on a log axis) break the line instead of failing,
// so a curve may have gaps.
struct PlotSeries {
  std::vector<double> x;
  std::vector<double> y;
  Rgb colour;
};

struct LinePlotOptions {
  int width = 640;
  int height = 360;
  bool log_y = false;

  // InvalidArgument for images smaller than 120 x 80 pixels.
  absl::Status Validate() const;
};

struct RenderedPlot {
  RgbImage image;
  PlotFrame frame;  // where the data went, for callers that annotate
};

// Curves on shared axes with labelled ticks (e.g. loss or TV against the
// iteration). The axes span the finite points of every series. Says which
// series is which through `colour` only: the caller prints the legend.
// InvalidArgument for no series, an x/y size mismatch or no plottable point.
absl::StatusOr<RenderedPlot> RenderLinePlot(
    const std::vector<PlotSeries>& series, const LinePlotOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_LINE_PLOT_H_
