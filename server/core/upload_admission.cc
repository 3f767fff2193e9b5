#include "server/core/upload_admission.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace epgfn {

absl::Status UploadLimits::Validate() const {
  for (auto [value, name] : {
           std::pair{max_concurrent_uploads, "max_concurrent_uploads"},
           std::pair{max_concurrent_uploads_per_client,
                     "max_concurrent_uploads_per_client"},
           std::pair{max_buffered_bytes, "max_buffered_bytes"},
       }) {
    if (value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be >= 1, got ", value));
    }
  }
  if (idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idle_timeout must be > 0, got ", absl::FormatDuration(idle_timeout)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<UploadAdmission>> UploadAdmission::Create(
    const UploadLimits& limits) {
  if (absl::Status valid = limits.Validate(); !valid.ok()) return valid;
  std::unique_ptr<UploadAdmission> admission(new UploadAdmission(limits));
  admission->watchdog_ = std::thread([raw = admission.get()] { raw->Watch(); });
  return admission;
}

UploadAdmission::UploadAdmission(const UploadLimits& limits)
    : limits_(limits) {}

UploadAdmission::~UploadAdmission() {
  {
    absl::MutexLock lock(&mutex_);
    stop_ = true;
  }
  if (watchdog_.joinable()) watchdog_.join();
}

void UploadAdmission::Watch() {
  // Checked often enough that a stream is cancelled within 5/4 of the
  // timeout, and at most every second.
  const absl::Duration period =
      std::min(absl::Seconds(1), limits_.idle_timeout / 4);
  absl::MutexLock lock(&mutex_);
  while (!stop_) {
    mutex_.AwaitWithTimeout(absl::Condition(&stop_), period);
    if (stop_) break;
    const absl::Time now = absl::Now();
    for (auto& [id, entry] : streams_) {
      if (!entry.timed_out &&
          now - entry.last_activity >= limits_.idle_timeout) {
        entry.timed_out = true;
        // Under the lock: the stream (and the RPC whose cancel this is)
        // cannot end meanwhile, since closing it takes the lock.
        if (entry.on_idle) entry.on_idle();
      }
    }
  }
}

absl::StatusOr<UploadAdmission::Stream> UploadAdmission::Open(
    std::function<void()> on_idle) {
  absl::MutexLock lock(&mutex_);
  if (static_cast<int64_t>(streams_.size()) >= limits_.max_concurrent_uploads) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server already receives ", streams_.size(),
                     " uploads, its limit; retry later"));
  }
  const int64_t id = next_id_++;
  streams_[id] = Entry{absl::Now(), std::move(on_idle)};
  return Stream(this, id);
}

void UploadAdmission::Close(int64_t id) {
  absl::MutexLock lock(&mutex_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  if (!it->second.client_id.empty()) {
    if (--per_client_[it->second.client_id] <= 0) {
      per_client_.erase(it->second.client_id);
    }
    buffered_bytes_ -= it->second.bytes;
  }
  streams_.erase(it);
}

void UploadAdmission::Touch(int64_t id) {
  absl::MutexLock lock(&mutex_);
  auto it = streams_.find(id);
  if (it != streams_.end()) it->second.last_activity = absl::Now();
}

bool UploadAdmission::TimedOut(int64_t id) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto it = streams_.find(id);
  return it != streams_.end() && it->second.timed_out;
}

absl::Status UploadAdmission::Claim(int64_t id, const std::string& client_id,
                                    int64_t bytes) {
  absl::MutexLock lock(&mutex_);
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.client_id.empty()) {
    return absl::FailedPreconditionError("upload stream claimed twice");
  }
  const int64_t of_client =
      per_client_.count(client_id) > 0 ? per_client_.at(client_id) : 0;
  if (of_client >= limits_.max_concurrent_uploads_per_client) {
    return absl::ResourceExhaustedError(
        absl::StrCat("client '", client_id, "' already has ", of_client,
                     " uploads in progress, the limit per client"));
  }
  if (bytes < 0 || bytes > limits_.max_buffered_bytes - buffered_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server cannot buffer another ", bytes,
                     " bytes now (uploads in progress hold ", buffered_bytes_,
                     " of ", limits_.max_buffered_bytes, "); retry later"));
  }
  it->second.client_id = client_id;
  it->second.bytes = bytes;
  ++per_client_[client_id];
  buffered_bytes_ += bytes;
  return absl::OkStatus();
}

int64_t UploadAdmission::open_streams() const {
  absl::ReaderMutexLock lock(&mutex_);
  return static_cast<int64_t>(streams_.size());
}

int64_t UploadAdmission::buffered_bytes() const {
  absl::ReaderMutexLock lock(&mutex_);
  return buffered_bytes_;
}

UploadAdmission::Stream::~Stream() {
  if (owner_ != nullptr) owner_->Close(id_);
}

void UploadAdmission::Stream::Touch() { owner_->Touch(id_); }

absl::Status UploadAdmission::Stream::Claim(const std::string& client_id,
                                            int64_t bytes) {
  return owner_->Claim(id_, client_id, bytes);
}

bool UploadAdmission::Stream::timed_out() const {
  return owner_->TimedOut(id_);
}

}  // namespace epgfn
