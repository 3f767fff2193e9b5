#include "tests/demo/bar_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace epgfn {

absl::Status BarChartOptions::Validate() const {
  if (width < 120 || height < 80) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a bar chart needs at least 120x80 pixels, got ", width, "x", height));
  }
  return absl::OkStatus();
}

BarColumns BarPixelColumns(const PlotFrame& frame, int num_series,
                           int num_categories, int series, int category) {
  // Each category gets an equal slot; its bars fill the middle 80%.
  const double slot = static_cast<double>(frame.width) / num_categories;
  const double bar = 0.8 * slot / num_series;
  const double start = frame.left + category * slot + 0.1 * slot + series * bar;
  BarColumns columns;
  columns.first = static_cast<int>(std::lround(start)) + 1;
  columns.last =
      std::max(columns.first, static_cast<int>(std::lround(start + bar)) - 1);
  return columns;
}

absl::StatusOr<RenderedPlot> RenderBarChart(
    const std::vector<std::vector<double>>& values,
    const std::vector<Rgb>& colours, const BarChartOptions& options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  if (values.empty() || values[0].empty()) {
    return absl::InvalidArgumentError("no bars to draw");
  }
  if (colours.size() != values.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        values.size(), " series but ", colours.size(), " colours"));
  }
  const int categories = static_cast<int>(values[0].size());
  double y_max = 0;
  for (size_t s = 0; s < values.size(); ++s) {
    if (static_cast<int>(values[s].size()) != categories) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", s, " has ", values[s].size(),
                       " values, series 0 has ", categories));
    }
    for (double v : values[s]) {
      if (!std::isfinite(v) || v < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bar values must be finite and >= 0, got ", v));
      }
      y_max = std::max(y_max, v);
    }
  }
  y_max = y_max > 0 ? 1.05 * y_max : 1.0;
  RenderedPlot plot{RgbImage(options.width, options.height), PlotFrame()};
  plot.frame = FrameInside(plot.image, 0, categories, 0, y_max, false);
  // Draw the axes first (grid under the bars), with one label per category
  // at the slot centre. Labels 1..k sit at x = c + 0.5 in data units.
  std::vector<double> no_x_ticks = {-1};  // suppresses numeric x ticks
  DrawAxes(plot.frame, plot.image, no_x_ticks);
  const int bottom = plot.frame.top + plot.frame.height - 1;
  const int num_series = static_cast<int>(values.size());
  for (int c = 0; c < categories; ++c) {
    for (int s = 0; s < num_series; ++s) {
      const BarColumns columns =
          BarPixelColumns(plot.frame, num_series, categories, s, c);
      const int top = plot.frame.PixelY(values[s][c]);
      if (top < bottom) {
        FillRect(columns.first, top, columns.last, bottom - 1, colours[s],
                 plot.image);
      }
    }
    const std::string label = absl::StrCat(c + 1);
    const int centre =
        plot.frame.left + static_cast<int>(std::lround(
                              (c + 0.5) * plot.frame.width / categories));
    DrawText(label, centre - TextWidth(label) / 2, bottom + 6, 1, Rgb{0, 0, 0},
             plot.image);
  }
  return plot;
}

}  // namespace epgfn
