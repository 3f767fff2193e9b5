// Must NOT compile under -Werror=thread-safety: run_thread_checks.sh checks
// that clang rejects it, so that a flag or include change that silently
// switches the analysis off fails CI instead of passing every file.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace epgfn {

class Counter {
 public:
  // Reads `value_` without holding `mutex_`: the analysis must report it.
  int UnguardedRead() const { return value_; }

 private:
  mutable absl::Mutex mutex_;
  int value_ ABSL_GUARDED_BY(mutex_) = 0;
};

int Read(const Counter& counter) { return counter.UnguardedRead(); }

}  // namespace epgfn
