#ifndef EPGFN_COMMON_UTIL_GUARDED_RUN_H_
#define EPGFN_COMMON_UTIL_GUARDED_RUN_H_

#include <functional>

#include "absl/status/status.h"

namespace epgfn {

// A daemon's or tool's exit code for `run`: 0 when it returns OK, else 1
// after "<program>: <status>" on stderr. An exception (LibTorch's
// c10::Error, std::bad_alloc) becomes an Internal status, so that nothing
// ends the process without a message and a non-zero exit.
int GuardedRun(const char* program, const std::function<absl::Status()>& run);

}  // namespace epgfn

#endif  // EPGFN_COMMON_UTIL_GUARDED_RUN_H_
