#include "tests/demo/png_writer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "tests/demo/heatmap.h"

namespace epgfn {
namespace {

uint32_t ReadBigEndian32(const std::string& bytes, size_t offset) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + 1]))
          << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[offset + 3]));
}

TEST(PngWriterTest, ChunksAreWellFormedAndPixelsRoundTrip) {
  RgbImage image(5, 3);
  image.Set(0, 0, 255, 0, 0);
  image.Set(4, 2, 0, 0, 255);
  absl::StatusOr<std::string> png = EncodePng(image);
  ASSERT_TRUE(png.ok()) << png.status();
  ASSERT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));

  // Walk the chunks, checking each CRC, and collect IDAT.
  size_t offset = 8;
  std::string idat;
  std::vector<std::string> types;
  while (offset < png->size()) {
    const uint32_t length = ReadBigEndian32(*png, offset);
    const std::string typed = png->substr(offset + 4, 4 + length);
    const uint32_t crc = ReadBigEndian32(*png, offset + 8 + length);
    EXPECT_EQ(
        crc, crc32(crc32(0L, Z_NULL, 0),
                   reinterpret_cast<const Bytef*>(typed.data()), typed.size()));
    types.push_back(typed.substr(0, 4));
    if (types.back() == "IHDR") {
      EXPECT_EQ(ReadBigEndian32(typed, 4), 5u);
      EXPECT_EQ(ReadBigEndian32(typed, 8), 3u);
    }
    if (types.back() == "IDAT") idat += typed.substr(4);
    offset += 12 + length;
  }
  EXPECT_EQ(offset, png->size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));

  std::string raw(3 * (1 + 5 * 3), '\0');
  uLongf raw_size = raw.size();
  ASSERT_EQ(
      uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size,
                 reinterpret_cast<const Bytef*>(idat.data()), idat.size()),
      Z_OK);
  ASSERT_EQ(raw_size, raw.size());
  EXPECT_EQ(raw[0], '\0');  // filter type of row 0
  EXPECT_EQ(static_cast<uint8_t>(raw[1]), 255);
  EXPECT_EQ(static_cast<uint8_t>(raw[2]), 0);
  // Last pixel of the last row is blue.
  EXPECT_EQ(static_cast<uint8_t>(raw[raw.size() - 1]), 255);
  EXPECT_EQ(static_cast<uint8_t>(raw[raw.size() - 3]), 0);
}

TEST(HeatmapTest, BrightestCellIsTheLargestValue) {
  Grid grid{2, 2, {0.0, 0.1, 0.2, 0.7}};
  RgbImage image(4, 4, 0);
  DrawHeatmap(grid, 0.7, 0, 0, 2, image);
  // Grid (1, 1) is drawn top right; value 0.7 / 0.7 is the ramp's yellow.
  EXPECT_EQ(image.pixels[(0 * 4 + 3) * 3 + 0], 253);
  // Grid (0, 0) is bottom left, the ramp's dark end.
  EXPECT_EQ(image.pixels[(3 * 4 + 0) * 3 + 0], 68);
}

TEST(PngWriterTest, RefusesInconsistentImage) {
  RgbImage image(2, 2);
  image.pixels.pop_back();
  EXPECT_FALSE(EncodePng(image).ok());
}

}  // namespace
}  // namespace epgfn
