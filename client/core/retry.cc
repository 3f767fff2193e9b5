#include "client/core/retry.h"

#include <glog/logging.h>

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/util/event_log.h"

namespace epgfn {

absl::Status RetryOptions::Validate() const {
  if (max_attempts < 1) {
    return absl::InvalidArgumentError("retry: max_attempts must be >= 1");
  }
  if (initial_backoff <= absl::ZeroDuration() ||
      max_backoff < initial_backoff) {
    return absl::InvalidArgumentError(
        "retry: need 0 < initial_backoff <= max_backoff");
  }
  if (multiplier < 1.0) {
    return absl::InvalidArgumentError("retry: multiplier must be >= 1");
  }
  return absl::OkStatus();
}

bool IsTransient(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

absl::Duration BackoffCeiling(const RetryOptions& options, int attempt) {
  absl::Duration backoff = options.initial_backoff;
  for (int i = 1; i < attempt && backoff < options.max_backoff; ++i) {
    backoff = backoff * options.multiplier;
  }
  return std::min(backoff, options.max_backoff);
}

absl::Status RetryWithBackoff(
    const RetryOptions& options,
    const std::function<absl::Status(int attempt)>& attempt_fn,
    const SleepFunction& sleep, uint64_t jitter_seed) {
  if (absl::Status valid = options.Validate(); !valid.ok()) return valid;
  std::mt19937_64 random(jitter_seed != 0 ? jitter_seed
                                          : std::random_device{}());
  absl::Status status;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    status = attempt_fn(attempt);
    if (status.ok() || !IsTransient(status)) return status;
    if (attempt == options.max_attempts) break;
    const double ceiling =
        absl::ToDoubleSeconds(BackoffCeiling(options, attempt));
    std::uniform_real_distribution<double> jitter(ceiling / 2, ceiling);
    const absl::Duration pause = absl::Seconds(jitter(random));
    LOG(WARNING) << Event("rpc_retry")
                        .With("attempt", attempt)
                        .With("max_attempts", options.max_attempts)
                        .With("backoff_seconds", absl::ToDoubleSeconds(pause))
                        .WithStatus(status);
    if (sleep) {
      sleep(pause);
    } else {
      absl::SleepFor(pause);
    }
  }
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), " (after ",
                                   options.max_attempts, " attempts)"));
}

}  // namespace epgfn
