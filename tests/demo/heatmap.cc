#include "tests/demo/heatmap.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace epgfn {
namespace {

// Five anchors of matplotlib's viridis, interpolated linearly.
constexpr std::array<std::array<double, 3>, 5> kRamp = {{
    {68, 1, 84},
    {59, 82, 139},
    {33, 145, 140},
    {94, 201, 98},
    {253, 231, 37},
}};

std::array<uint8_t, 3> Colour(double t) {
  t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0);
  const double position = t * (kRamp.size() - 1);
  const size_t low = std::min(static_cast<size_t>(position), kRamp.size() - 2);
  const double frac = position - low;
  std::array<uint8_t, 3> colour;
  for (int c = 0; c < 3; ++c) {
    colour[c] = static_cast<uint8_t>(
        std::lround(kRamp[low][c] * (1 - frac) + kRamp[low + 1][c] * frac));
  }
  return colour;
}

}  // namespace

void DrawHeatmap(const Grid& grid, double max_value, int left, int top,
                 int cell, RgbImage& image) {
  for (int gy = 0; gy < grid.height; ++gy) {
    for (int gx = 0; gx < grid.width; ++gx) {
      const double value = grid.values[gy * grid.width + gx];
      const auto colour = Colour(max_value > 0 ? value / max_value : 0.0);
      const int y0 = top + (grid.height - 1 - gy) * cell;
      const int x0 = left + gx * cell;
      for (int y = y0; y < y0 + cell && y < image.height; ++y) {
        for (int x = x0; x < x0 + cell && x < image.width; ++x) {
          image.Set(x, y, colour[0], colour[1], colour[2]);
        }
      }
    }
  }
}

}  // namespace epgfn
