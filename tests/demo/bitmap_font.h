#ifndef EPGFN_TESTS_DEMO_BITMAP_FONT_H_
#define EPGFN_TESTS_DEMO_BITMAP_FONT_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "tests/demo/png_writer.h"

namespace epgfn {

struct Rgb {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;
};

// A 5x7 pixel font with just what axis tick labels need: the digits,
// '.', '-', '+', 'e' (for 1e-05) and ' '. Each glyph advances 6 pixels
// (times `scale`). Plot titles and legends go to the binaries' printed
// output instead: a full alphabet is not worth carrying here.
constexpr int kGlyphWidth = 5;
constexpr int kGlyphHeight = 7;
constexpr int kGlyphAdvance = 6;

// True when every character of `text` has a glyph.
bool CanRenderText(absl::string_view text);

// Width in pixels of `text` drawn at `scale` (no trailing gap).
int TextWidth(absl::string_view text, int scale = 1);

// Draws `text` with its top-left corner at (left, top); pixels outside the
// image are clipped, characters without a glyph are left blank.
void DrawText(absl::string_view text, int left, int top, int scale, Rgb colour,
              RgbImage& image);

// Sets one pixel, ignoring coordinates outside the image.
void SetPixelClipped(RgbImage& image, int x, int y, Rgb colour);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_BITMAP_FONT_H_
