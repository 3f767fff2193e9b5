#ifndef EPGFN_SERVER_TESTING_SAMPLER_LOAD_H_
#define EPGFN_SERVER_TESTING_SAMPLER_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/sampler.pb.h"

namespace epgfn {
namespace test_support {

struct SamplerLoadOptions {
  // Client threads, each with its own channel and completion queue.
  int threads = 8;
  // Sample calls each thread keeps in flight at once (threads * in_flight
  // are concurrent).
  int in_flight_per_thread = 128;
  // Calls each thread makes in all (>= in_flight_per_thread).
  int calls_per_thread = 256;
  int64_t samples_per_call = 4;
  // Sent as "authorization: Bearer <token>" when not empty.
  std::string token;
  // Deadline of each call.
  int deadline_seconds = 60;

  absl::Status Validate() const;
};

struct SamplerLoadResult {
  int64_t calls = 0;
  int64_t failed_calls = 0;
  // Calls whose objects were not as asked (count, state shape, version).
  int64_t invalid_calls = 0;
  // A few failure messages, for the test's output.
  std::vector<std::string> first_errors;
  // Seconds from the call's start to its status, one per call.
  std::vector<double> latencies;
  double wall_seconds = 0;

  double Percentile(double q) const;
};

// Drives `options.threads` clients of the Sampler with asynchronous
// server-streaming calls against `make_channel()` (called once per thread).
// An object is valid when it has `state_dim` coordinates in [0, side) and
// comes from `expected_version`.
absl::StatusOr<SamplerLoadResult> RunSamplerLoad(
    const std::function<std::shared_ptr<grpc::Channel>()>& make_channel,
    const SamplerLoadOptions& options, int state_dim, int64_t side,
    int64_t expected_version);

}  // namespace test_support
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_SAMPLER_LOAD_H_
