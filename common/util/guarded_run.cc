#include "common/util/guarded_run.h"

#include <cstdio>
#include <exception>

#include "absl/strings/str_cat.h"

namespace epgfn {

int GuardedRun(const char* program, const std::function<absl::Status()>& run) {
  absl::Status status;
  try {
    status = run();
  } catch (const std::exception& e) {
    status =
        absl::InternalError(absl::StrCat("unexpected exception: ", e.what()));
  } catch (...) {
    status = absl::InternalError("unexpected exception of unknown type");
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace epgfn
