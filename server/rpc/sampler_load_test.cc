// Load: 8 client threads keep 128 Sample calls each in flight (1,024
// concurrent) against one real server over TLS with a bearer token, 2,048
// calls in all. Every call must succeed with valid objects; the latency
// percentiles are printed, not asserted (see
// tests/bench:sampler_load for the recorded numbers).
#include "server/testing/sampler_load.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/core/sampler_access.h"
#include "server/testing/sampler_server.h"

namespace epgfn {
namespace {

TEST(SamplerLoadTest, ThousandConcurrentCallsAllSucceed) {
  auto certs = test_support::GenerateCertificates({"client-0"});
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string token = test_support::TestToken(7);
  const std::string tokens_file = test_support::WriteTestFile(
      "tokens.txt", absl::StrCat("load-test:", token, "\n"));
  SamplerAccessFlags flags;  // token mode
  flags.tokens_file = tokens_file;
  auto access = SamplerAccessOptions::Create(flags);
  ASSERT_TRUE(access.ok()) << access.status();
  auto server =
      test_support::StartSamplerServer(*certs, /*mutual_tls=*/false, *access);
  ASSERT_TRUE(server.ok()) << server.status();

  test_support::SamplerLoadOptions options;
  options.threads = 8;
  options.in_flight_per_thread = 128;
  options.calls_per_thread = 256;
  options.samples_per_call = 4;
  options.token = token;
  auto result = test_support::RunSamplerLoad(
      [&] { return (*server)->Channel(""); }, options, /*state_dim=*/2,
      /*side=*/4, /*expected_version=*/1);
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_EQ(result->calls, 8 * 256);
  EXPECT_EQ(result->failed_calls, 0)
      << (result->first_errors.empty() ? "" : result->first_errors[0]);
  EXPECT_EQ(result->invalid_calls, 0);
  EXPECT_TRUE((*server)->server->sampler_access().RefusalCounts().empty());
  std::printf(
      "%lld calls (%d concurrent, %lld objects each) in %.2f s: "
      "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
      static_cast<long long>(result->calls),
      options.threads * options.in_flight_per_thread,
      static_cast<long long>(options.samples_per_call), result->wall_seconds,
      1e3 * result->Percentile(0.5), 1e3 * result->Percentile(0.99),
      1e3 * result->Percentile(1.0));
}

}  // namespace
}  // namespace epgfn
