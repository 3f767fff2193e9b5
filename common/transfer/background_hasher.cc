#include "common/transfer/background_hasher.h"

namespace epgfn {

BackgroundHasher::BackgroundHasher() : thread_([this] { Run(); }) {}

BackgroundHasher::~BackgroundHasher() {
  if (thread_.joinable()) Digest();
}

void BackgroundHasher::Add(absl::string_view piece) {
  absl::MutexLock lock(&mutex_);
  pending_.push_back(piece);
}

std::string BackgroundHasher::Digest() {
  {
    absl::MutexLock lock(&mutex_);
    done_ = true;
  }
  thread_.join();
  return hasher_.HexDigest();
}

void BackgroundHasher::Run() {
  while (true) {
    std::deque<absl::string_view> batch;
    bool done;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.Await(absl::Condition(this, &BackgroundHasher::Ready));
      batch.swap(pending_);
      done = done_;
    }
    for (absl::string_view piece : batch) hasher_.Update(piece);
    if (done) return;
  }
}

}  // namespace epgfn
