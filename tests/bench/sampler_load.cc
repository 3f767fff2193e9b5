// Latency of the Sampler under >= 1,000 concurrent calls: one real server
// over TLS with a bearer token on loopback, `--threads` client threads each
// keeping `--in_flight` asynchronous Sample calls outstanding.
//
//   bazel run -c opt //tests/bench:sampler_load
#include "server/testing/sampler_load.h"

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "server/core/sampler_access.h"
#include "server/testing/sampler_server.h"
#include "tests/bench/bench_main.h"

ABSL_FLAG(int, threads, 8, "Client threads (one channel each).");
ABSL_FLAG(int, in_flight, 128, "Concurrent calls per client thread.");
ABSL_FLAG(int, calls_per_thread, 1024, "Calls per client thread in all.");
ABSL_FLAG(int64_t, samples_per_call, 4, "Objects per Sample call.");
ABSL_FLAG(int, repeats, 3, "Timed runs (after one warm-up run).");

namespace epgfn {
namespace {

absl::Status Run() {
  auto certs = test_support::GenerateCertificates({"client-0"});
  if (!certs.ok()) return certs.status();
  const std::string token = test_support::TestToken(7);
  SamplerAccessFlags flags;  // token mode
  flags.tokens_file = test_support::WriteTestFile(
      "tokens.txt", absl::StrCat("bench:", token, "\n"));
  auto access = SamplerAccessOptions::Create(flags);
  if (!access.ok()) return access.status();
  auto server =
      test_support::StartSamplerServer(*certs, /*mutual_tls=*/false, *access);
  if (!server.ok()) return server.status();

  test_support::SamplerLoadOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.in_flight_per_thread = absl::GetFlag(FLAGS_in_flight);
  options.calls_per_thread = absl::GetFlag(FLAGS_calls_per_thread);
  options.samples_per_call = absl::GetFlag(FLAGS_samples_per_call);
  options.token = token;
  std::printf(
      "TLS + bearer token, 4x4 hypergrid, %lld objects per call, "
      "%d threads x %d in flight = %d concurrent\n\n",
      static_cast<long long>(options.samples_per_call), options.threads,
      options.in_flight_per_thread,
      options.threads * options.in_flight_per_thread);
  std::printf(
      "| run | calls | errors | wall s | calls/s | p50 ms | p99 ms | "
      "max ms |\n|---|---|---|---|---|---|---|---|\n");
  for (int run = 0; run <= absl::GetFlag(FLAGS_repeats); ++run) {
    auto result = test_support::RunSamplerLoad(
        [&] { return (*server)->Channel(""); }, options, 2, 4, 1);
    if (!result.ok()) return result.status();
    if (result->failed_calls + result->invalid_calls > 0) {
      return absl::InternalError(absl::StrCat(
          result->failed_calls, " failed and ", result->invalid_calls,
          " invalid calls; first error: ",
          result->first_errors.empty() ? "-" : result->first_errors[0]));
    }
    std::printf("| %s | %lld | 0 | %.2f | %.0f | %.1f | %.1f | %.1f |\n",
                run == 0 ? "warm-up" : absl::StrCat(run).c_str(),
                static_cast<long long>(result->calls), result->wall_seconds,
                result->calls / result->wall_seconds,
                1e3 * result->Percentile(0.5), 1e3 * result->Percentile(0.99),
                1e3 * result->Percentile(1.0));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Sampler latency under >= 1,000 concurrent calls over TLS + token.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("sampler_load", epgfn::Run());
}
