#ifndef EPGFN_TESTS_DEMO_HEATMAP_H_
#define EPGFN_TESTS_DEMO_HEATMAP_H_

#include <vector>

#include "tests/demo/png_writer.h"

namespace epgfn {

// A distribution over a 2-D grid: values[y * width + x].
struct Grid {
  int width = 0;
  int height = 0;
  std::vector<double> values;
};

// Draws `grid` into `image` at (left, top), `cell` pixels per grid cell,
// coloured by value / max_value on a viridis-like ramp (dark: little mass,
// yellow: most). Grid row 0 is drawn at the bottom, as on a plot.
void DrawHeatmap(const Grid& grid, double max_value, int left, int top,
                 int cell, RgbImage& image);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_HEATMAP_H_
