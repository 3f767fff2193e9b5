#include "tests/demo/png_reader.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[offset + i]);
  }
  return value;
}

}  // namespace

absl::StatusOr<RgbImage> DecodePng(const std::string& bytes) {
  if (bytes.size() < 8 || bytes.compare(0, 8, "\x89PNG\r\n\x1a\n", 8) != 0) {
    return absl::InvalidArgumentError("not a PNG signature");
  }
  size_t offset = 8;
  int width = 0;
  int height = 0;
  std::string idat;
  bool ended = false;
  while (offset + 12 <= bytes.size() && !ended) {
    const uint32_t length = BigEndian32(bytes, offset);
    if (offset + 12 + length > bytes.size()) {
      return absl::InvalidArgumentError("truncated chunk");
    }
    const std::string typed = bytes.substr(offset + 4, 4 + length);
    const uint32_t crc = BigEndian32(bytes, offset + 8 + length);
    if (crc != crc32(crc32(0L, Z_NULL, 0),
                     reinterpret_cast<const Bytef*>(typed.data()),
                     typed.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad CRC on chunk ", typed.substr(0, 4)));
    }
    const std::string type = typed.substr(0, 4);
    if (type == "IHDR") {
      if (length != 13 || typed[12] != 8 || typed[13] != 2 || typed[16] != 0) {
        return absl::InvalidArgumentError("only 8-bit RGB, no interlace");
      }
      width = static_cast<int>(BigEndian32(typed, 4));
      height = static_cast<int>(BigEndian32(typed, 8));
    } else if (type == "IDAT") {
      idat += typed.substr(4);
    } else if (type == "IEND") {
      ended = true;
    }
    offset += 12 + length;
  }
  if (!ended || width <= 0 || height <= 0) {
    return absl::InvalidArgumentError("missing IHDR or IEND");
  }
  const size_t stride = 1 + 3 * static_cast<size_t>(width);
  std::string raw(stride * height, '\0');
  uLongf raw_size = raw.size();
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size,
                 reinterpret_cast<const Bytef*>(idat.data()),
                 idat.size()) != Z_OK ||
      raw_size != raw.size()) {
    return absl::InvalidArgumentError("IDAT does not inflate to the image");
  }
  RgbImage image(width, height);
  for (int y = 0; y < height; ++y) {
    if (raw[y * stride] != 0) {
      return absl::InvalidArgumentError("only filter type 0 is supported");
    }
    std::copy(raw.begin() + y * stride + 1, raw.begin() + (y + 1) * stride,
              image.pixels.begin() + static_cast<size_t>(y) * width * 3);
  }
  return image;
}

}  // namespace epgfn
