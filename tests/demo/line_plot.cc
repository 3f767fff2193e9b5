#include "tests/demo/line_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

bool Plottable(double x, double y, bool log_y) {
  return std::isfinite(x) && std::isfinite(y) && (!log_y || y > 0);
}

}  // namespace

absl::Status LinePlotOptions::Validate() const {
  if (width < 120 || height < 80) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a line plot needs at least 120x80 pixels, got ", width, "x", height));
  }
  return absl::OkStatus();
}

absl::StatusOr<RenderedPlot> RenderLinePlot(
    const std::vector<PlotSeries>& series, const LinePlotOptions& options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  if (series.empty()) return absl::InvalidArgumentError("no series to plot");
  double x_min = std::numeric_limits<double>::infinity();
  double x_max = -x_min;
  double y_min = x_min;
  double y_max = -x_min;
  for (size_t s = 0; s < series.size(); ++s) {
    if (series[s].x.size() != series[s].y.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", s, " has ", series[s].x.size(), " x and ",
                       series[s].y.size(), " y values"));
    }
    for (size_t i = 0; i < series[s].x.size(); ++i) {
      const double x = series[s].x[i];
      const double y = series[s].y[i];
      if (!Plottable(x, y, options.log_y)) continue;
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  }
  if (!(x_min <= x_max)) {
    return absl::InvalidArgumentError("no plottable point in any series");
  }
  if (x_max == x_min) x_max = x_min + 1;
  if (options.log_y) {
    // Whole decades, so that the axis has at least two labelled ticks.
    y_min = std::pow(10.0, std::floor(std::log10(y_min)));
    y_max = std::pow(10.0, std::ceil(std::log10(y_max)));
    if (y_max <= y_min) y_max = y_min * 10;
  } else {
    const double pad = y_max > y_min ? 0.05 * (y_max - y_min)
                                     : std::max(1.0, std::abs(y_min) * 0.1);
    y_min -= pad;
    y_max += pad;
  }
  RenderedPlot plot{RgbImage(options.width, options.height), PlotFrame()};
  plot.frame =
      FrameInside(plot.image, x_min, x_max, y_min, y_max, options.log_y);
  DrawAxes(plot.frame, plot.image);
  for (const PlotSeries& curve : series) {
    bool have_previous = false;
    int previous_x = 0;
    int previous_y = 0;
    for (size_t i = 0; i < curve.x.size(); ++i) {
      if (!Plottable(curve.x[i], curve.y[i], options.log_y)) {
        have_previous = false;
        continue;
      }
      const int px = plot.frame.PixelX(curve.x[i]);
      const int py = plot.frame.PixelY(curve.y[i]);
      if (have_previous) {
        DrawLine(previous_x, previous_y, px, py, curve.colour, plot.image);
      } else {
        FillRect(px - 1, py - 1, px + 1, py + 1, curve.colour, plot.image);
      }
      previous_x = px;
      previous_y = py;
      have_previous = true;
    }
  }
  return plot;
}

}  // namespace epgfn
