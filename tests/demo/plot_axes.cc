#include "tests/demo/plot_axes.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_format.h"

namespace epgfn {
namespace {

constexpr Rgb kAxisColour{0, 0, 0};
constexpr Rgb kGridColour{225, 225, 225};
// Room for labels of up to 8 glyphs left of the frame and one row below.
constexpr int kLeftMargin = 8 * kGlyphAdvance + 8;
constexpr int kBottomMargin = kGlyphHeight + 10;
constexpr int kTopMargin = 8;
constexpr int kRightMargin = 12;

double AxisValue(double y, bool log) { return log ? std::log10(y) : y; }

}  // namespace

int PlotFrame::PixelX(double x) const {
  const double span = x_max > x_min ? x_max - x_min : 1.0;
  return left + static_cast<int>(std::lround((x - x_min) / span * (width - 1)));
}

int PlotFrame::PixelY(double y) const {
  if (log_y && !(y > 0)) return top + height + 1;
  const double low = AxisValue(y_min, log_y);
  const double high = AxisValue(y_max, log_y);
  const double span = high > low ? high - low : 1.0;
  return top + (height - 1) -
         static_cast<int>(
             std::lround((AxisValue(y, log_y) - low) / span * (height - 1)));
}

PlotFrame FrameInside(const RgbImage& image, double x_min, double x_max,
                      double y_min, double y_max, bool log_y) {
  PlotFrame frame;
  frame.left = kLeftMargin;
  frame.top = kTopMargin;
  frame.width = std::max(2, image.width - kLeftMargin - kRightMargin);
  frame.height = std::max(2, image.height - kTopMargin - kBottomMargin);
  frame.x_min = x_min;
  frame.x_max = x_max;
  frame.y_min = y_min;
  frame.y_max = y_max;
  frame.log_y = log_y;
  return frame;
}

std::vector<double> TickValues(double low, double high, int count, bool log) {
  std::vector<double> ticks;
  if (!(high >= low) || !std::isfinite(low) || !std::isfinite(high)) {
    return ticks;
  }
  if (log) {
    if (!(low > 0)) return ticks;
    for (int e = static_cast<int>(std::ceil(std::log10(low) - 1e-9));
         e <= static_cast<int>(std::floor(std::log10(high) + 1e-9)); ++e) {
      ticks.push_back(std::pow(10.0, e));
    }
    return ticks;
  }
  const double raw = (high - low) / std::max(1, count);
  if (!(raw > 0)) return {low};
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double multiple : {1.0, 2.0, 5.0, 10.0}) {
    step = multiple * magnitude;
    if (step >= raw) break;
  }
  for (double v = std::ceil(low / step - 1e-9) * step; v <= high + step * 1e-9;
       v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return ticks;
}

std::string TickLabel(double value) { return absl::StrFormat("%.6g", value); }

void DrawLine(int x0, int y0, int x1, int y1, Rgb colour, RgbImage& image) {
  // Bresenham; the second pixel row makes thin slopes readable.
  const int dx = std::abs(x1 - x0);
  const int dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1;
  const int sy = y0 < y1 ? 1 : -1;
  int error = dx + dy;
  while (true) {
    SetPixelClipped(image, x0, y0, colour);
    SetPixelClipped(image, x0, y0 + 1, colour);
    if (x0 == x1 && y0 == y1) break;
    const int twice = 2 * error;
    if (twice >= dy) {
      error += dy;
      x0 += sx;
    }
    if (twice <= dx) {
      error += dx;
      y0 += sy;
    }
  }
}

void FillRect(int left, int top, int right, int bottom, Rgb colour,
              RgbImage& image) {
  for (int y = top; y <= bottom; ++y) {
    for (int x = left; x <= right; ++x) SetPixelClipped(image, x, y, colour);
  }
}

void DrawAxes(const PlotFrame& frame, RgbImage& image,
              const std::vector<double>& x_ticks) {
  const int right = frame.left + frame.width - 1;
  const int bottom = frame.top + frame.height - 1;
  for (double y : TickValues(frame.y_min, frame.y_max, 5, frame.log_y)) {
    const int py = frame.PixelY(y);
    if (py < frame.top || py > bottom) continue;
    DrawLine(frame.left, py, right, py, kGridColour, image);
    const std::string label = TickLabel(y);
    DrawText(label, frame.left - 6 - TextWidth(label), py - kGlyphHeight / 2, 1,
             kAxisColour, image);
    FillRect(frame.left - 4, py, frame.left - 1, py, kAxisColour, image);
  }
  const std::vector<double> xs =
      x_ticks.empty() ? TickValues(frame.x_min, frame.x_max, 6, false)
                      : x_ticks;
  for (double x : xs) {
    const int px = frame.PixelX(x);
    if (px < frame.left || px > right) continue;
    const std::string label = TickLabel(x);
    DrawText(label, px - TextWidth(label) / 2, bottom + 6, 1, kAxisColour,
             image);
    FillRect(px, bottom + 1, px, bottom + 4, kAxisColour, image);
  }
  FillRect(frame.left, frame.top, right, frame.top, kAxisColour, image);
  FillRect(frame.left, bottom, right, bottom, kAxisColour, image);
  FillRect(frame.left, frame.top, frame.left, bottom, kAxisColour, image);
  FillRect(right, frame.top, right, bottom, kAxisColour, image);
}

}  // namespace epgfn
