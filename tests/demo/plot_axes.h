#ifndef EPGFN_TESTS_DEMO_PLOT_AXES_H_
#define EPGFN_TESTS_DEMO_PLOT_AXES_H_

#include <string>
#include <vector>

#include "tests/demo/bitmap_font.h"
#include "tests/demo/png_writer.h"

namespace epgfn {

// The data rectangle of a plot and its mapping from data to pixels.
struct PlotFrame {
  int left = 0;  // pixel column of x_min
  int top = 0;   // pixel row of y_max
  int width = 0;
  int height = 0;
  double x_min = 0;
  double x_max = 1;
  double y_min = 0;  // for log_y: the limits themselves, not their logs
  double y_max = 1;
  bool log_y = false;

  int PixelX(double x) const;
  int PixelY(double y) const;  // y <= 0 with log_y: below the frame
};

// A frame filling `image` minus margins that leave room for tick labels.
PlotFrame FrameInside(const RgbImage& image, double x_min, double x_max,
                      double y_min, double y_max, bool log_y);

// About `count` round tick values (1, 2 or 5 times a power of ten apart)
// covering [low, high]; for log axes, the powers of ten inside it.
std::vector<double> TickValues(double low, double high, int count, bool log);

// Short label for a tick value ("0.25", "1e-05", "2000").
std::string TickLabel(double value);

// Draws the frame's box, tick marks, light grid lines and labelled ticks on
// both axes (x ticks from `x_ticks`, or round values when empty).
void DrawAxes(const PlotFrame& frame, RgbImage& image,
              const std::vector<double>& x_ticks = {});

// A line segment two pixels thick, clipped to the image.
void DrawLine(int x0, int y0, int x1, int y1, Rgb colour, RgbImage& image);

// A filled rectangle [left, right] x [top, bottom], clipped to the image.
void FillRect(int left, int top, int right, int bottom, Rgb colour,
              RgbImage& image);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_PLOT_AXES_H_
