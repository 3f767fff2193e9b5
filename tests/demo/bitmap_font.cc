#include "tests/demo/bitmap_font.h"

#include <array>

namespace epgfn {
namespace {

struct Glyph {
  char character;
  std::array<const char*, kGlyphHeight> rows;  // '#' = ink
};

constexpr Glyph kGlyphs[] = {
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
    {'+', {".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."}},
    {'e', {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."}},
    {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
};

const Glyph* FindGlyph(char c) {
  for (const Glyph& glyph : kGlyphs) {
    if (glyph.character == c) return &glyph;
  }
  return nullptr;
}

}  // namespace

bool CanRenderText(absl::string_view text) {
  for (char c : text) {
    if (FindGlyph(c) == nullptr) return false;
  }
  return true;
}

int TextWidth(absl::string_view text, int scale) {
  if (text.empty()) return 0;
  return scale * (kGlyphAdvance * static_cast<int>(text.size()) -
                  (kGlyphAdvance - kGlyphWidth));
}

void SetPixelClipped(RgbImage& image, int x, int y, Rgb colour) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  image.Set(x, y, colour.r, colour.g, colour.b);
}

void DrawText(absl::string_view text, int left, int top, int scale, Rgb colour,
              RgbImage& image) {
  for (size_t i = 0; i < text.size(); ++i) {
    const Glyph* glyph = FindGlyph(text[i]);
    if (glyph == nullptr) continue;
    const int x0 = left + static_cast<int>(i) * kGlyphAdvance * scale;
    for (int row = 0; row < kGlyphHeight; ++row) {
      for (int column = 0; column < kGlyphWidth; ++column) {
        if (glyph->rows[row][column] != '#') continue;
        for (int dy = 0; dy < scale; ++dy) {
          for (int dx = 0; dx < scale; ++dx) {
            SetPixelClipped(image, x0 + column * scale + dx,
                            top + row * scale + dy, colour);
          }
        }
      }
    }
  }
}

}  // namespace epgfn
