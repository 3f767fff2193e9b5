#include "server/testing/sampler_load.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "proto/sampler.grpc.pb.h"

namespace epgfn {
namespace test_support {
namespace {

using Clock = std::chrono::steady_clock;

// One asynchronous Sample call: start, read every batch, finish.
struct Call {
  enum class Step { kStart, kRead, kFinish };
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReader<v1::SampleBatch>> reader;
  v1::SampleBatch batch;
  grpc::Status status;
  Step step = Step::kStart;
  Clock::time_point start;
  int64_t received = 0;
  bool valid = true;
};

struct ThreadResult {
  int64_t calls = 0;
  int64_t failed = 0;
  int64_t invalid = 0;
  std::vector<std::string> errors;
  std::vector<double> latencies;
};

ThreadResult RunThread(std::shared_ptr<grpc::Channel> channel,
                       const SamplerLoadOptions& options, int state_dim,
                       int64_t side, int64_t expected_version) {
  ThreadResult result;
  auto stub = v1::Sampler::NewStub(channel);
  grpc::CompletionQueue queue;
  v1::SampleRequest request;
  request.set_num_samples(options.samples_per_call);
  int started = 0;
  int running = 0;
  auto start_call = [&] {
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::seconds(options.deadline_seconds));
    if (!options.token.empty()) {
      call->context.AddMetadata("authorization", "Bearer " + options.token);
    }
    call->start = Clock::now();
    call->reader = stub->PrepareAsyncSample(&call->context, request, &queue);
    call->reader->StartCall(call);
    ++started;
    ++running;
  };
  // Every slot is filled before the first completion is taken, so all
  // in_flight_per_thread calls are outstanding at once.
  for (int i = 0; i < options.in_flight_per_thread; ++i) start_call();

  void* tag = nullptr;
  bool ok = false;
  while (running > 0 && queue.Next(&tag, &ok)) {
    auto* call = static_cast<Call*>(tag);
    switch (call->step) {
      case Call::Step::kStart:
      case Call::Step::kRead:
        if (call->step == Call::Step::kRead && ok) {
          if (call->batch.model_version() != expected_version) {
            call->valid = false;
          }
          for (const v1::SampledObject& object : call->batch.objects()) {
            if (object.state_size() != state_dim) call->valid = false;
            for (int64_t x : object.state()) {
              if (x < 0 || x >= side) call->valid = false;
            }
          }
          call->received += call->batch.objects_size();
        }
        if (ok) {
          call->step = Call::Step::kRead;
          call->reader->Read(&call->batch, call);
        } else {
          call->step = Call::Step::kFinish;
          call->reader->Finish(&call->status, call);
        }
        break;
      case Call::Step::kFinish: {
        result.latencies.push_back(
            std::chrono::duration<double>(Clock::now() - call->start).count());
        ++result.calls;
        if (!call->status.ok()) {
          ++result.failed;
          if (result.errors.size() < 5) {
            result.errors.push_back(
                absl::StrCat(static_cast<int>(call->status.error_code()), ": ",
                             call->status.error_message()));
          }
        } else if (!call->valid || call->received != options.samples_per_call) {
          ++result.invalid;
        }
        delete call;
        --running;
        if (started < options.calls_per_thread) start_call();
        break;
      }
    }
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return result;
}

}  // namespace

absl::Status SamplerLoadOptions::Validate() const {
  if (threads < 1 || in_flight_per_thread < 1 ||
      calls_per_thread < in_flight_per_thread || samples_per_call < 1 ||
      deadline_seconds < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "load options need threads, in_flight_per_thread, samples_per_call, "
        "deadline_seconds >= 1 and calls_per_thread >= in_flight_per_thread; "
        "got ",
        threads, ", ", in_flight_per_thread, ", ", samples_per_call, ", ",
        deadline_seconds, ", ", calls_per_thread));
  }
  return absl::OkStatus();
}

double SamplerLoadResult::Percentile(double q) const {
  if (latencies.empty()) return 0;
  std::vector<double> sorted = latencies;
  std::sort(sorted.begin(), sorted.end());
  const size_t index = std::min(
      sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5));
  return sorted[index];
}

absl::StatusOr<SamplerLoadResult> RunSamplerLoad(
    const std::function<std::shared_ptr<grpc::Channel>()>& make_channel,
    const SamplerLoadOptions& options, int state_dim, int64_t side,
    int64_t expected_version) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < options.threads; ++i) {
    channels.push_back(make_channel());
    // Connected before the clock starts: the handshake is not what is timed.
    if (!channels.back()->WaitForConnected(std::chrono::system_clock::now() +
                                           std::chrono::seconds(30))) {
      return absl::UnavailableError("a load channel did not connect");
    }
  }
  std::vector<ThreadResult> results(options.threads);
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < options.threads; ++i) {
    threads.emplace_back([&, i] {
      results[i] =
          RunThread(channels[i], options, state_dim, side, expected_version);
    });
  }
  for (std::thread& thread : threads) thread.join();
  SamplerLoadResult total;
  total.wall_seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  for (ThreadResult& result : results) {
    total.calls += result.calls;
    total.failed_calls += result.failed;
    total.invalid_calls += result.invalid;
    for (std::string& error : result.errors) {
      if (total.first_errors.size() < 5) {
        total.first_errors.push_back(std::move(error));
      }
    }
    total.latencies.insert(total.latencies.end(), result.latencies.begin(),
                           result.latencies.end());
  }
  return total;
}

}  // namespace test_support
}  // namespace epgfn
