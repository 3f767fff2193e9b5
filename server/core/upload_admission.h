#ifndef EPGFN_SERVER_CORE_UPLOAD_ADMISSION_H_
#define EPGFN_SERVER_CORE_UPLOAD_ADMISSION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace epgfn {

// Resource limits on upload streams. Each open stream holds a server thread
// and, once its header is read, a buffer of its announced size.
struct UploadLimits {
  int64_t max_concurrent_uploads = 32;
  int64_t max_concurrent_uploads_per_client = 2;
  // What all streams together may buffer: each reserves its header's
  // total_bytes before receiving any data, or is refused.
  int64_t max_buffered_bytes = int64_t{1} << 30;
  // A stream that delivers no message for this long is cancelled.
  absl::Duration idle_timeout = absl::Seconds(30);

  // InvalidArgument naming the field when a limit is < 1 (or the timeout
  // not positive).
  absl::Status Validate() const;
};

// Admits upload streams within UploadLimits (ResourceExhausted beyond them,
// saying which limit) and cancels idle ones from a watchdog thread.
class UploadAdmission {
 public:
  class Stream;

  static absl::StatusOr<std::unique_ptr<UploadAdmission>> Create(
      const UploadLimits& limits);
  ~UploadAdmission();
  UploadAdmission(const UploadAdmission&) = delete;
  UploadAdmission& operator=(const UploadAdmission&) = delete;

  // A new stream, before its header is read (the total cap). `on_idle` is
  // called once, from the watchdog thread, when the stream goes idle_timeout
  // without Touch(); it runs under the admission's lock, so it must be cheap
  // and must not call back into it (gRPC's TryCancel).
  absl::StatusOr<Stream> Open(std::function<void()> on_idle);

  int64_t open_streams() const;
  int64_t buffered_bytes() const;
  const UploadLimits& limits() const { return limits_; }

 private:
  struct Entry {
    absl::Time last_activity;
    std::function<void()> on_idle;
    bool timed_out = false;
    std::string client_id;  // empty until claimed
    int64_t bytes = 0;
  };

  explicit UploadAdmission(const UploadLimits& limits);
  void Watch();
  void Close(int64_t id);
  void Touch(int64_t id);
  bool TimedOut(int64_t id) const;
  absl::Status Claim(int64_t id, const std::string& client_id, int64_t bytes);

  const UploadLimits limits_;
  mutable absl::Mutex mutex_;
  int64_t next_id_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<int64_t, Entry> streams_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int64_t> per_client_ ABSL_GUARDED_BY(mutex_);
  int64_t buffered_bytes_ ABSL_GUARDED_BY(mutex_) = 0;
  bool stop_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread watchdog_;
};

// One admitted stream; closing it (destruction) releases its place and its
// reserved bytes.
class UploadAdmission::Stream {
 public:
  Stream(Stream&& other) noexcept : owner_(other.owner_), id_(other.id_) {
    other.owner_ = nullptr;
  }
  Stream& operator=(Stream&&) = delete;
  ~Stream();

  // A message arrived.
  void Touch();
  // The header's client and announced size: the per-client cap and the
  // memory bound.
  absl::Status Claim(const std::string& client_id, int64_t bytes);
  // The watchdog cancelled this stream for idleness.
  bool timed_out() const;

 private:
  friend class UploadAdmission;
  Stream(UploadAdmission* owner, int64_t id) : owner_(owner), id_(id) {}
  UploadAdmission* owner_;
  int64_t id_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_UPLOAD_ADMISSION_H_
