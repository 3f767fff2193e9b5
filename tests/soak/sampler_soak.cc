// The soak run's sampler load (tests/soak/soak.sh): `--threads` threads,
// each making blocking Sample calls back to back against a real server over
// mutual TLS with a bearer token, until `--duration_seconds` pass or SIGTERM.
// One process with many threads instead of many LibTorch processes keeps the
// load on the sampler, not on process start-up.
//
// Calls fail fast (no wait-for-ready) so that the server's down windows show
// as UNAVAILABLE; every failed call is written to `--errors_file` with its
// time, so that the driver can tell the down windows' errors (expected) from
// any other (unexpected). A call is invalid when its objects are not as
// asked, or when its version is older than one this thread already got (the
// latest version must never go back, across restarts too).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/core/channel.h"
#include "proto/sampler.grpc.pb.h"
#include "tests/bench/bench_main.h"

ABSL_FLAG(std::string, server, "", "Address (host:port) of the server.");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of the server's CA.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of a client certificate the server accepts.");
ABSL_FLAG(std::string, tls_key, "", "PEM file of its private key.");
ABSL_FLAG(std::string, token_file, "", "File holding the sampler token.");
ABSL_FLAG(int, threads, 64, "Concurrent callers (one call in flight each).");
ABSL_FLAG(int, channels, 1,
          "Channels the callers share (round robin); channels made alike "
          "share gRPC's one connection.");
ABSL_FLAG(double, duration_seconds, 3600, "Run this long, then report.");
ABSL_FLAG(int, deadline_seconds, 120,
          "Deadline of each call: generous, so that load alone does not "
          "fail a call.");
ABSL_FLAG(int64_t, samples_per_call, 4, "Objects per Sample call.");
ABSL_FLAG(int, state_dim, 2, "Coordinates of a valid object.");
ABSL_FLAG(int64_t, side, 4, "Each coordinate of a valid object is < side.");
ABSL_FLAG(int, pause_ms, 0, "Pause of a caller between two calls.");
ABSL_FLAG(int, error_pause_ms, 250,
          "Pause of a caller after a failed call (the server may be down).");
ABSL_FLAG(std::string, errors_file, "",
          "Each failed or invalid call: '<unix_ms> <code> <code_name> "
          "<message>' lines.");
ABSL_FLAG(double, stats_seconds, 30, "Print running totals this often.");

namespace epgfn {
namespace {

std::atomic<bool> stop_requested{false};
extern "C" void OnSignal(int) { stop_requested = true; }

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

// Totals over all callers, and the error log they share.
class Tally {
 public:
  explicit Tally(std::FILE* errors) : errors_(errors) {}

  void Record(const grpc::Status& status, bool valid, int64_t version,
              const std::string& why_invalid) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++calls_;
    const char* name = CodeName(status.error_code());
    ++by_code_[name];
    if (status.ok() && valid) {
      if (version > max_version_) max_version_ = version;
      return;
    }
    std::string message =
        status.ok() ? "INVALID " + why_invalid : status.error_message();
    if (status.ok()) ++invalid_;
    if (errors_ != nullptr) {
      absl::StrReplaceAll({{"\n", " "}}, &message);
      std::fprintf(errors_, "%lld %d %s %s\n",
                   static_cast<long long>(absl::ToUnixMillis(absl::Now())),
                   status.ok() ? -1 : static_cast<int>(status.error_code()),
                   status.ok() ? "INVALID" : name, message.c_str());
      std::fflush(errors_);
    }
  }

  void Print(const char* prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::printf("%s calls=%lld invalid=%lld max_version=%lld", prefix,
                static_cast<long long>(calls_),
                static_cast<long long>(invalid_),
                static_cast<long long>(max_version_));
    for (const auto& [code, count] : by_code_) {
      std::printf(" %s=%lld", code.c_str(), static_cast<long long>(count));
    }
    std::printf("\n");
    std::fflush(stdout);
  }

 private:
  std::mutex mutex_;
  std::FILE* errors_;
  int64_t calls_ = 0;
  int64_t invalid_ = 0;
  int64_t max_version_ = 0;
  std::map<std::string, int64_t> by_code_;
};

// One caller: blocking calls until told to stop.
void RunCaller(v1::Sampler::Stub& stub, const std::string& token,
               absl::Time end, Tally& tally) {
  const int64_t samples = absl::GetFlag(FLAGS_samples_per_call);
  const int dim = absl::GetFlag(FLAGS_state_dim);
  const int64_t side = absl::GetFlag(FLAGS_side);
  int64_t last_version = 0;
  v1::SampleRequest request;
  request.set_num_samples(samples);
  while (!stop_requested && absl::Now() < end) {
    grpc::ClientContext context;
    context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::seconds(absl::GetFlag(FLAGS_deadline_seconds)));
    context.AddMetadata("authorization", "Bearer " + token);
    auto reader = stub.Sample(&context, request);
    v1::SampleBatch batch;
    int64_t received = 0;
    int64_t version = 0;
    std::string why_invalid;
    while (reader->Read(&batch)) {
      if (version == 0) version = batch.model_version();
      if (batch.model_version() != version) why_invalid = "mixed versions";
      for (const v1::SampledObject& object : batch.objects()) {
        bool in_range = object.state_size() == dim;
        for (int64_t x : object.state()) in_range &= x >= 0 && x < side;
        if (!in_range) why_invalid = "object out of range";
      }
      received += batch.objects_size();
    }
    const grpc::Status status = reader->Finish();
    if (status.ok()) {
      if (received != samples) {
        why_invalid = absl::StrCat("got ", received, " objects");
      } else if (version < last_version) {
        why_invalid =
            absl::StrCat("version ", version, " after ", last_version);
      }
    }
    tally.Record(status, why_invalid.empty(), version, why_invalid);
    if (status.ok() && why_invalid.empty()) last_version = version;
    const int pause = status.ok() ? absl::GetFlag(FLAGS_pause_ms)
                                  : absl::GetFlag(FLAGS_error_pause_ms);
    if (pause > 0) absl::SleepFor(absl::Milliseconds(pause));
  }
}

absl::Status Run() {
  auto bearer = ReadBearerTokenFile(absl::GetFlag(FLAGS_token_file),
                                    "sampler token file");
  if (!bearer.ok()) return bearer.status();
  const int threads = absl::GetFlag(FLAGS_threads);
  const int channels = absl::GetFlag(FLAGS_channels);
  if (threads < 1 || channels < 1) {
    return absl::InvalidArgumentError("--threads and --channels must be >= 1");
  }
  // The clients' own channel (MakeChannel), so that the soak shows how a
  // long-lived real client rides out the restarts.
  ChannelOptions channel_options;
  channel_options.target = absl::GetFlag(FLAGS_server);
  channel_options.ca_pem_path = absl::GetFlag(FLAGS_tls_ca);
  channel_options.cert_pem_path = absl::GetFlag(FLAGS_tls_cert);
  channel_options.key_pem_path = absl::GetFlag(FLAGS_tls_key);
  std::vector<std::unique_ptr<v1::Sampler::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    auto channel = MakeChannel(channel_options);
    if (!channel.ok()) return channel.status();
    stubs.push_back(v1::Sampler::NewStub(*channel));
  }
  std::FILE* errors = nullptr;
  if (!absl::GetFlag(FLAGS_errors_file).empty()) {
    errors = std::fopen(absl::GetFlag(FLAGS_errors_file).c_str(), "a");
    if (errors == nullptr) {
      return absl::NotFoundError("cannot open --errors_file for appending");
    }
  }
  Tally tally(errors);
  const absl::Time end =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  std::vector<std::thread> callers;
  for (int i = 0; i < threads; ++i) {
    callers.emplace_back(
        [&, i] { RunCaller(*stubs[i % channels], *bearer, end, tally); });
  }
  const absl::Duration period =
      absl::Seconds(absl::GetFlag(FLAGS_stats_seconds));
  absl::Time next = absl::Now() + period;
  while (!stop_requested && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(200));
    if (absl::Now() >= next) {
      tally.Print(
          absl::StrCat("STATS unix_s=", absl::ToUnixSeconds(absl::Now()))
              .c_str());
      next += period;
    }
  }
  for (std::thread& caller : callers) caller.join();
  tally.Print("TOTAL");
  if (errors != nullptr) std::fclose(errors);
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Keeps --threads Sample calls going against --server until "
      "--duration_seconds pass or SIGTERM; prints totals by status code.");
  absl::ParseCommandLine(argc, argv);
  std::signal(SIGTERM, epgfn::OnSignal);
  std::signal(SIGINT, epgfn::OnSignal);
  return epgfn::ExitCode("sampler_soak", epgfn::Run());
}
