#include "tests/demo/png_writer.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

void AppendBigEndian32(uint32_t value, std::string& out) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

// length, type, data, CRC-32 of type + data.
void AppendChunk(const char type[4], const std::string& data,
                 std::string& out) {
  AppendBigEndian32(static_cast<uint32_t>(data.size()), out);
  const std::string typed = std::string(type, 4) + data;
  out += typed;
  const uLong crc =
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(typed.data()),
            static_cast<uInt>(typed.size()));
  AppendBigEndian32(static_cast<uint32_t>(crc), out);
}

}  // namespace

absl::StatusOr<std::string> EncodePng(const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() !=
          static_cast<size_t>(image.width) * image.height * 3) {
    return absl::InvalidArgumentError("EncodePng: inconsistent image size");
  }
  // Scanlines, each preceded by its filter type (0: none).
  const size_t row_bytes = static_cast<size_t>(image.width) * 3;
  std::string raw;
  raw.reserve((row_bytes + 1) * image.height);
  for (int y = 0; y < image.height; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(&image.pixels[y * row_bytes]),
               row_bytes);
  }
  uLongf deflated_size = compressBound(raw.size());
  std::string deflated(deflated_size, '\0');
  const int result =
      compress2(reinterpret_cast<Bytef*>(deflated.data()), &deflated_size,
                reinterpret_cast<const Bytef*>(raw.data()), raw.size(),
                Z_BEST_COMPRESSION);
  if (result != Z_OK) {
    return absl::InternalError(absl::StrCat("zlib compress2 failed: ", result));
  }
  deflated.resize(deflated_size);

  std::string header;
  AppendBigEndian32(static_cast<uint32_t>(image.width), header);
  AppendBigEndian32(static_cast<uint32_t>(image.height), header);
  header.push_back(8);  // bit depth
  header.push_back(2);  // colour type: truecolour
  header.push_back(0);  // compression: deflate
  header.push_back(0);  // filter method
  header.push_back(0);  // no interlace

  std::string png("\x89PNG\r\n\x1a\n", 8);
  AppendChunk("IHDR", header, png);
  AppendChunk("IDAT", deflated, png);
  AppendChunk("IEND", "", png);
  return png;
}

}  // namespace epgfn
