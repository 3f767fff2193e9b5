#ifndef EPGFN_CLIENT_CORE_RETRY_H_
#define EPGFN_CLIENT_CORE_RETRY_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace epgfn {

// Bounded exponential backoff with full jitter: attempt k (1-based) that
// fails transiently is followed by a sleep drawn uniformly from
// [backoff_k / 2, backoff_k], backoff_k = min(initial * multiplier^(k-1),
// max). Jitter keeps clients that lost the server at the same moment from
// reconnecting in lockstep.
struct RetryOptions {
  int max_attempts = 6;
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(8);
  double multiplier = 2.0;

  absl::Status Validate() const;
};

// Transient failures: the server is unreachable or the connection broke
// (UNAVAILABLE). A DEADLINE_EXCEEDED is only transient while connecting,
// before the RPC reached the server; WaitForChannel reports that case as
// UNAVAILABLE, so a deadline hit by a started RPC is never retried.
bool IsTransient(const absl::Status& status);

// The sleep between attempts, injectable so tests run instantly.
using SleepFunction = std::function<void(absl::Duration)>;

// Upper end of the jitter window before attempt `attempt + 1`.
absl::Duration BackoffCeiling(const RetryOptions& options, int attempt);

// Runs `attempt_fn(attempt)` (attempt = 1, 2, ...) until it returns OK, a
// non-transient error, or options.max_attempts attempts have failed; returns
// the last status. The final error names the number of attempts.
absl::Status RetryWithBackoff(
    const RetryOptions& options,
    const std::function<absl::Status(int attempt)>& attempt_fn,
    const SleepFunction& sleep = nullptr, uint64_t jitter_seed = 0);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_RETRY_H_
