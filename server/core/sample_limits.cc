#include "server/core/sample_limits.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace epgfn {

absl::Status SampleWorkLimits::Validate() const {
  for (auto [value, name] : {
           std::pair{max_objects_per_request, "max_objects_per_request"},
           std::pair{max_log_probability_samples,
                     "max_log_probability_samples"},
           std::pair{max_trajectories_per_request,
                     "max_trajectories_per_request"},
           std::pair{max_trajectories_per_pass, "max_trajectories_per_pass"},
           std::pair{heavy_request_trajectories, "heavy_request_trajectories"},
           std::pair{max_concurrent_heavy_requests,
                     "max_concurrent_heavy_requests"},
       }) {
    if (value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be >= 1, got ", value));
    }
  }
  return absl::OkStatus();
}

int64_t SampleWork(int64_t num_objects, int64_t log_probability_samples) {
  const int64_t per_object = std::max<int64_t>(1, log_probability_samples);
  if (num_objects <= 0) return 0;
  if (num_objects > std::numeric_limits<int64_t>::max() / per_object) {
    return std::numeric_limits<int64_t>::max();
  }
  return num_objects * per_object;
}

absl::Status CheckSampleWork(const SampleWorkLimits& limits,
                             int64_t num_objects,
                             int64_t log_probability_samples) {
  if (num_objects < 1 || num_objects > limits.max_objects_per_request) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_samples must lie in [1, ",
                     limits.max_objects_per_request, "], got ", num_objects));
  }
  if (log_probability_samples < 0 ||
      log_probability_samples > limits.max_log_probability_samples) {
    return absl::InvalidArgumentError(
        absl::StrCat("log_probability_samples must lie in [0, ",
                     limits.max_log_probability_samples, "], got ",
                     log_probability_samples));
  }
  const int64_t work = SampleWork(num_objects, log_probability_samples);
  if (work > limits.max_trajectories_per_request) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_samples x log_probability_samples = ", work,
        " trajectories exceeds the server's limit of ",
        limits.max_trajectories_per_request,
        " per request; ask for fewer objects or fewer log-probability "
        "samples, or split the request"));
  }
  return absl::OkStatus();
}

absl::Status RequestControl::Check() const {
  if (cancelled && cancelled()) {
    return absl::CancelledError("the caller cancelled the request");
  }
  if (deadline != absl::InfiniteFuture() && absl::Now() >= deadline) {
    return absl::DeadlineExceededError("the request's deadline passed");
  }
  return absl::OkStatus();
}

HeavyRequestGate::Ticket& HeavyRequestGate::Ticket::operator=(
    Ticket&& other) noexcept {
  if (this != &other) {
    this->~Ticket();
    gate_ = other.gate_;
    other.gate_ = nullptr;
  }
  return *this;
}

HeavyRequestGate::Ticket::~Ticket() {
  if (gate_ == nullptr) return;
  absl::MutexLock lock(&gate_->mutex_);
  --gate_->in_flight_;
  gate_ = nullptr;
}

HeavyRequestGate::HeavyRequestGate(const SampleWorkLimits& limits)
    : heavy_request_trajectories_(limits.heavy_request_trajectories),
      capacity_(limits.max_concurrent_heavy_requests) {}

absl::StatusOr<HeavyRequestGate::Ticket> HeavyRequestGate::TryEnter(
    int64_t work) {
  if (work <= heavy_request_trajectories_) return Ticket();
  absl::MutexLock lock(&mutex_);
  if (in_flight_ >= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server is already running ", in_flight_,
        " heavy sampling requests (more than ", heavy_request_trajectories_,
        " trajectories each), its limit; retry later or ask for less"));
  }
  ++in_flight_;
  return Ticket(this);
}

int64_t HeavyRequestGate::heavy_in_flight() const {
  absl::ReaderMutexLock lock(&mutex_);
  return in_flight_;
}

}  // namespace epgfn
