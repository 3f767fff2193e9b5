#ifndef EPGFN_TESTS_DEMO_PNG_READER_H_
#define EPGFN_TESTS_DEMO_PNG_READER_H_

#include <string>

#include "absl/status/statusor.h"
#include "tests/demo/png_writer.h"

namespace epgfn {

// Decodes the PNGs EncodePng writes (8-bit truecolour, no interlace, filter
// 0 on every row), checking every chunk's CRC, so that the renderers' tests
// look at the decoded file rather than the in-memory image. Anything else is
// refused with InvalidArgument: this is not a general PNG decoder.
absl::StatusOr<RgbImage> DecodePng(const std::string& bytes);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_PNG_READER_H_
