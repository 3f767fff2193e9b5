#ifndef EPGFN_TESTS_DEMO_PNG_CHECK_H_
#define EPGFN_TESTS_DEMO_PNG_CHECK_H_

#include <string>

#include "absl/status/statusor.h"

namespace epgfn {

struct PngSize {
  int width = 0;
  int height = 0;
  // Distinct RGB colours (a blank canvas has 1; a drawn figure many).
  int colours = 0;
};

// Decodes the whole PNG at `path` with libpng (not with anything of this
// project), so a truncated or corrupt file fails; returns its size.
absl::StatusOr<PngSize> DecodePngWithLibpng(const std::string& path);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_PNG_CHECK_H_
