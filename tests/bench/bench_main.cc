#include "tests/bench/bench_main.h"

#include <cstdio>

namespace epgfn {

int ExitCode(const char* program, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", program, status.ToString().c_str());
  return 1;
}

}  // namespace epgfn
