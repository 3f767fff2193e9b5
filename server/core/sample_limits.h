#ifndef EPGFN_SERVER_CORE_SAMPLE_LIMITS_H_
#define EPGFN_SERVER_CORE_SAMPLE_LIMITS_H_

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace epgfn {

// Caps on the work that one request drawing objects from a global model may
// cause (Sample, and any RPC that samples to answer, such as a summary), so
// that no caller can occupy the server beyond them. A request's work is its
// trajectories: objects x max(1, log_probability_samples) (one forward
// rollout per object, plus that many backward ones to estimate log p_T).
struct SampleWorkLimits {
  int64_t max_objects_per_request = 100000;
  int64_t max_log_probability_samples = 1024;
  int64_t max_trajectories_per_request = int64_t{1} << 23;  // 8.4 M
  // Backward trajectories rolled out and scored per pass: bounds a request's
  // working memory (~ pass x trajectory length x hidden width floats), and
  // the cancellation and the deadline are checked before every pass.
  int64_t max_trajectories_per_pass = 4096;
  // A request of more than this many trajectories is heavy; at most
  // max_concurrent_heavy_requests of them run at once, and one more is
  // refused with ResourceExhausted (the caller retries later) rather than
  // slowing every other request down.
  int64_t heavy_request_trajectories = int64_t{1} << 16;
  int64_t max_concurrent_heavy_requests = 2;

  // InvalidArgument naming the field when a limit is < 1.
  absl::Status Validate() const;
};

// The work of a request, saturating (never overflows).
int64_t SampleWork(int64_t num_objects, int64_t log_probability_samples);

// InvalidArgument, naming the field and the limit, when num_objects lies
// outside [1, max_objects_per_request], log_probability_samples outside
// [0, max_log_probability_samples], or the work above
// max_trajectories_per_request.
absl::Status CheckSampleWork(const SampleWorkLimits& limits,
                             int64_t num_objects,
                             int64_t log_probability_samples);

// What a long request polls between passes: its caller went away, or its
// deadline passed.
struct RequestControl {
  std::function<bool()> cancelled;  // empty: never
  absl::Time deadline = absl::InfiniteFuture();

  // Cancelled or DeadlineExceeded; OK to go on.
  absl::Status Check() const;
};

// Counts heavy requests in flight.
class HeavyRequestGate {
 public:
  // Holds a heavy request's place; releases it when destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept : gate_(other.gate_) {
      other.gate_ = nullptr;
    }
    Ticket& operator=(Ticket&& other) noexcept;
    ~Ticket();

   private:
    friend class HeavyRequestGate;
    explicit Ticket(HeavyRequestGate* gate) : gate_(gate) {}
    HeavyRequestGate* gate_ = nullptr;
  };

  explicit HeavyRequestGate(const SampleWorkLimits& limits);

  // An empty ticket for a light request; ResourceExhausted when the heavy
  // request would exceed max_concurrent_heavy_requests.
  absl::StatusOr<Ticket> TryEnter(int64_t work);
  int64_t heavy_in_flight() const;

 private:
  const int64_t heavy_request_trajectories_;
  const int64_t capacity_;
  mutable absl::Mutex mutex_;
  int64_t in_flight_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_SAMPLE_LIMITS_H_
