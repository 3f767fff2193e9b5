// The plot renderers, checked on the decoded PNG files: dimensions, and
// that the pixels where a curve, a bar or a glyph must be are inked while
// places that must stay empty are not.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "tests/demo/bar_chart.h"
#include "tests/demo/bitmap_font.h"
#include "tests/demo/line_plot.h"
#include "tests/demo/plot_axes.h"
#include "tests/demo/png_reader.h"
#include "tests/demo/png_writer.h"

namespace epgfn {
namespace {

constexpr Rgb kRed{220, 30, 30};
constexpr Rgb kBlue{30, 60, 220};

std::array<uint8_t, 3> PixelAt(const RgbImage& image, int x, int y) {
  const uint8_t* p =
      &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
  return {p[0], p[1], p[2]};
}

bool Is(const RgbImage& image, int x, int y, Rgb colour) {
  return PixelAt(image, x, y) ==
         std::array<uint8_t, 3>{colour.r, colour.g, colour.b};
}

RgbImage RoundTrip(const RgbImage& image) {
  absl::StatusOr<std::string> png = EncodePng(image);
  EXPECT_TRUE(png.ok()) << png.status();
  absl::StatusOr<RgbImage> decoded = DecodePng(*png);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return *decoded;
}

TEST(BitmapFontTest, DrawsTheGlyphPixels) {
  RgbImage image(20, 10);
  DrawText("1-", 1, 1, 1, kRed, image);
  // '1': row 0 has ink only in column 2; row 6 in columns 1-3.
  EXPECT_TRUE(Is(image, 1 + 2, 1, kRed));
  EXPECT_FALSE(Is(image, 1 + 0, 1, kRed));
  EXPECT_TRUE(Is(image, 1 + 1, 7, kRed));
  EXPECT_TRUE(Is(image, 1 + 3, 7, kRed));
  // '-' starts one advance later: its bar is row 3, all five columns.
  for (int c = 0; c < 5; ++c) EXPECT_TRUE(Is(image, 7 + c, 4, kRed));
  EXPECT_FALSE(Is(image, 7, 3, kRed));
  EXPECT_EQ(TextWidth("1-"), 11);
  EXPECT_EQ(TextWidth("1-", 2), 22);
  EXPECT_TRUE(CanRenderText("1e-05 +0.25"));
  EXPECT_FALSE(CanRenderText("TV"));
  DrawText("123", 18, 8, 1, kRed, image);  // clipped, must not crash
}

TEST(PlotAxesTest, TicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(TickValues(0, 1, 5, false),
            (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(TickValues(1e-3, 1, 5, true),
            (std::vector<double>{1e-3, 1e-2, 1e-1, 1}));
  EXPECT_EQ(TickLabel(1e-5), "1e-05");
  EXPECT_EQ(TickLabel(2000), "2000");
}

TEST(LinePlotTest, CurvePassesThroughItsPoints) {
  PlotSeries rising{{0, 5, 10}, {0, 5, 10}, kRed};
  PlotSeries flat{{0, 10}, {8, 8}, kBlue};
  LinePlotOptions options;
  options.width = 300;
  options.height = 200;
  absl::StatusOr<RenderedPlot> plot = RenderLinePlot({rising, flat}, options);
  ASSERT_TRUE(plot.ok()) << plot.status();
  const RgbImage decoded = RoundTrip(plot->image);
  EXPECT_EQ(decoded.width, 300);
  EXPECT_EQ(decoded.height, 200);
  const PlotFrame& frame = plot->frame;
  EXPECT_TRUE(Is(decoded, frame.PixelX(5), frame.PixelY(5), kRed));
  EXPECT_TRUE(Is(decoded, frame.PixelX(2.5), frame.PixelY(2.5), kRed));
  EXPECT_TRUE(Is(decoded, frame.PixelX(3), frame.PixelY(8), kBlue));
  // Far from both curves the frame is white (or a light grid line).
  EXPECT_FALSE(Is(decoded, frame.PixelX(9), frame.PixelY(2), kRed));
  EXPECT_FALSE(Is(decoded, frame.PixelX(9), frame.PixelY(2), kBlue));
  // The frame's left edge is black; tick labels are drawn left of it.
  EXPECT_TRUE(Is(decoded, frame.left, frame.top + 5, Rgb{0, 0, 0}));
  int inked_left_of_frame = 0;
  for (int y = 0; y < decoded.height; ++y) {
    for (int x = 0; x < frame.left - 6; ++x) {
      inked_left_of_frame += Is(decoded, x, y, Rgb{0, 0, 0});
    }
  }
  EXPECT_GT(inked_left_of_frame, 20);
}

TEST(LinePlotTest, LogAxisAndGaps) {
  PlotSeries tv{{1, 2, 3, 4}, {0.5, NAN, 0.01, 0.001}, kRed};
  LinePlotOptions options;
  options.log_y = true;
  absl::StatusOr<RenderedPlot> plot = RenderLinePlot({tv}, options);
  ASSERT_TRUE(plot.ok()) << plot.status();
  EXPECT_DOUBLE_EQ(plot->frame.y_min, 1e-3);
  EXPECT_DOUBLE_EQ(plot->frame.y_max, 1.0);
  const PlotFrame& frame = plot->frame;
  // 0.01 sits one third of the way up a three-decade axis.
  EXPECT_NEAR(frame.PixelY(0.01), frame.top + (frame.height - 1) * 2.0 / 3.0,
              1.0);
  // The segment from 0.01 to 0.001 is straight on the log axis: its
  // midpoint is at sqrt(1e-5) (within a pixel of rounding).
  bool near_midpoint = false;
  for (int dy = -1; dy <= 1; ++dy) {
    near_midpoint |= Is(plot->image, frame.PixelX(3.5),
                        frame.PixelY(std::sqrt(1e-5)) + dy, kRed);
  }
  EXPECT_TRUE(near_midpoint);
  // The NaN breaks the line: nothing drawn halfway between x=1 and x=3.
  const int x = frame.PixelX(2);
  for (int y = frame.top + 1; y < frame.top + frame.height - 1; ++y) {
    EXPECT_FALSE(Is(plot->image, x, y, kRed)) << y;
  }
}

TEST(LinePlotTest, RefusesBadInput) {
  EXPECT_FALSE(RenderLinePlot({}, LinePlotOptions()).ok());
  EXPECT_FALSE(
      RenderLinePlot({PlotSeries{{1, 2}, {1}, kRed}}, LinePlotOptions()).ok());
  EXPECT_FALSE(
      RenderLinePlot({PlotSeries{{1}, {NAN}, kRed}}, LinePlotOptions()).ok());
  LinePlotOptions tiny;
  tiny.width = 10;
  EXPECT_FALSE(RenderLinePlot({PlotSeries{{1}, {1}, kRed}}, tiny).ok());
}

TEST(BarChartTest, BarHeightsFollowTheValues) {
  const std::vector<std::vector<double>> values = {{0.6, 0.3, 0.1},
                                                   {0.5, 0.4, 0.0}};
  BarChartOptions options;
  options.width = 320;
  options.height = 200;
  absl::StatusOr<RenderedPlot> plot =
      RenderBarChart(values, {kRed, kBlue}, options);
  ASSERT_TRUE(plot.ok()) << plot.status();
  const RgbImage decoded = RoundTrip(plot->image);
  EXPECT_EQ(decoded.width, 320);
  EXPECT_EQ(decoded.height, 200);
  const PlotFrame& frame = plot->frame;
  for (int c = 0; c < 3; ++c) {
    for (int s = 0; s < 2; ++s) {
      const BarColumns columns = BarPixelColumns(frame, 2, 3, s, c);
      const int middle = (columns.first + columns.last) / 2;
      const Rgb colour = s == 0 ? kRed : kBlue;
      if (values[s][c] > 0) {
        EXPECT_TRUE(Is(decoded, middle, frame.PixelY(values[s][c] / 2), colour))
            << s << " " << c;
        EXPECT_TRUE(
            Is(decoded, middle, frame.PixelY(values[s][c]) + 1, colour));
      }
      EXPECT_FALSE(Is(decoded, middle, frame.PixelY(values[s][c]) - 3, colour));
    }
  }
  // Bars of one category do not overlap.
  EXPECT_LT(BarPixelColumns(frame, 2, 3, 0, 0).last,
            BarPixelColumns(frame, 2, 3, 1, 0).first);
}

TEST(BarChartTest, RefusesBadInput) {
  EXPECT_FALSE(RenderBarChart({}, {}, BarChartOptions()).ok());
  EXPECT_FALSE(
      RenderBarChart({{1, 2}, {1}}, {kRed, kBlue}, BarChartOptions()).ok());
  EXPECT_FALSE(RenderBarChart({{1, -2}}, {kRed}, BarChartOptions()).ok());
  EXPECT_FALSE(RenderBarChart({{1, 2}}, {kRed, kBlue}, BarChartOptions()).ok());
}

}  // namespace
}  // namespace epgfn
