#include "tests/demo/png_check.h"

#include <png.h>

#include <cstring>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_cat.h"

namespace epgfn {

absl::StatusOr<PngSize> DecodePngWithLibpng(const std::string& path) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a PNG: ", image.message));
  }
  image.format = PNG_FORMAT_RGB;
  std::vector<png_byte> pixels(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": PNG does not decode: ", message));
  }
  std::unordered_set<uint32_t> colours;
  for (size_t i = 0; i + 2 < pixels.size(); i += 3) {
    colours.insert(pixels[i] << 16 | pixels[i + 1] << 8 | pixels[i + 2]);
  }
  return PngSize{static_cast<int>(image.width), static_cast<int>(image.height),
                 static_cast<int>(colours.size())};
}

}  // namespace epgfn
