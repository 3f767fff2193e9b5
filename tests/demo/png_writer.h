#ifndef EPGFN_TESTS_DEMO_PNG_WRITER_H_
#define EPGFN_TESTS_DEMO_PNG_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace epgfn {

// An 8-bit RGB image, row-major, top row first.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3

  RgbImage(int width, int height, uint8_t fill = 255)
      : width(width),
        height(height),
        pixels(static_cast<size_t>(width) * height * 3, fill) {}

  void Set(int x, int y, uint8_t r, uint8_t g, uint8_t b) {
    uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 3];
    p[0] = r;
    p[1] = g;
    p[2] = b;
  }
};

// The bytes of a PNG file holding `image` (truecolour, no interlace, filter
// 0 on every row, zlib-deflated; CRCs by zlib's crc32). A demo needs no
// more than that, and it spares a libpng dependency.
absl::StatusOr<std::string> EncodePng(const RgbImage& image);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_PNG_WRITER_H_
