#ifndef EPGFN_COMMON_TRANSFER_BACKGROUND_HASHER_H_
#define EPGFN_COMMON_TRANSFER_BACKGROUND_HASHER_H_

#include <deque>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/util/sha256.h"

namespace epgfn {

// SHA-256 of pieces handed over in order, computed on a thread of its own so
// that hashing overlaps whatever produces the pieces (serialization on the
// client, receiving on the server: session 16).
class BackgroundHasher {
 public:
  BackgroundHasher();
  BackgroundHasher(const BackgroundHasher&) = delete;
  BackgroundHasher& operator=(const BackgroundHasher&) = delete;
  // Waits for the thread when Digest was never called.
  ~BackgroundHasher();

  // `piece` must stay alive and unchanged, at the same address, until
  // Digest returns.
  void Add(absl::string_view piece);

  // The lower-case hex digest of every piece added; call at most once.
  std::string Digest();

 private:
  void Run();
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return done_ || !pending_.empty();
  }

  Sha256 hasher_;  // used by thread_ only, until it is joined
  absl::Mutex mutex_;
  std::deque<absl::string_view> pending_ ABSL_GUARDED_BY(mutex_);
  bool done_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // last: starts once the rest is constructed
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_TRANSFER_BACKGROUND_HASHER_H_
