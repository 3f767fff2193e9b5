// The Prometheus endpoint end to end: a real server over loopback gRPC, two
// real uploads, a real aggregation, then an HTTP GET of /metrics from the
// prometheus-cpp Exposer, checked family by family and value by value.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/metrics_endpoint.h"
#include "server/core/server_core.h"
#include "server/core/server_metrics.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

// GET `path` from 127.0.0.1:`port` with a plain socket (no HTTP library on
// the test side, so nothing is shared with what is being tested).
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return "connect failed";
  }
  const std::string request =
      absl::StrCat("GET ", path,
                   " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) {
    response.append(buffer, n);
  }
  close(fd);
  return response;
}

bool HasLine(const std::string& text, const std::string& line) {
  return absl::StrContains(text, absl::StrCat("\n", line, "\n"));
}

TEST(MetricsScrapeTest, FamiliesAndValuesAfterUploadsAndAggregation) {
  auto config = test_support::SmallHypergridConfig(2, 30);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("scrape"), torch::kCPU, 1000);
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  RpcServerOptions rpc_options = test_support::InsecureLoopbackOptions();
  auto server = RpcServer::Start(core->get(), rpc_options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto endpoint =
      MetricsEndpoint::Start("127.0.0.1:0", ServerMetricsRegistry());
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  EXPECT_GT((*endpoint)->port(), 0);
  EXPECT_EQ((*endpoint)->address(),
            absl::StrCat("127.0.0.1:", (*endpoint)->port()));

  // Before anything happened: label-less gauges exist at 0.
  const std::string before = HttpGet((*endpoint)->port(), "/metrics");
  ASSERT_TRUE(absl::StartsWith(before, "HTTP/1.1 200")) << before;
  EXPECT_TRUE(HasLine(before, "epgfn_published_version 0")) << before;

  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials());
  auto stub = v1::Federation::NewStub(channel);
  // One refused upload (a digest from another federation), then both
  // clients' real uploads.
  EXPECT_FALSE(
      test_support::Upload(*stub, "client-0", "not-the-digest", 1,
                           test_support::LocalModelPayload(*config, 0, 2, 0))
          .status.ok());
  // client-0's header carries diagnostics with an FCS, client-1's none.
  const std::function<void(std::vector<v1::UploadChunk>&)> with_fcs =
      [](std::vector<v1::UploadChunk>& chunks) {
        chunks[0].mutable_header()->mutable_diagnostics()->set_fcs(0.25);
      };
  for (int i = 0; i < 2; ++i) {
    auto outcome = test_support::Upload(
        *stub, absl::StrCat("client-", i), config->spec_digest, 1,
        test_support::LocalModelPayload(*config, i, 2, 0),
        i == 0 ? with_fcs : nullptr);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  }
  ASSERT_NE((*core)->models().WaitForNewer(0, absl::Seconds(60)), nullptr);

  // The run is counted just after publishing: poll the scrape itself.
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text = HttpGet((*endpoint)->port(), "/metrics");
    if (HasLine(text, "epgfn_aggregation_runs_total{result=\"published\"} 1"))
      break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(absl::StartsWith(text, "HTTP/1.1 200")) << text;
  // Every family the README lists, with its type.
  for (const char* family : {
           "epgfn_uploads_accepted_total counter",
           "epgfn_uploads_refused_total counter",
           "epgfn_aggregation_runs_total counter",
           "epgfn_aggregation_running gauge",
           "epgfn_aggregation_iteration gauge",
           "epgfn_aggregation_total_iterations gauge",
           "epgfn_aggregation_loss gauge",
           "epgfn_client_fcs gauge",
           "epgfn_published_version gauge",
           "epgfn_samples_served_total counter",
           "epgfn_rpc_requests_total counter",
           "epgfn_rpc_duration_seconds histogram",
       }) {
    EXPECT_TRUE(HasLine(text, absl::StrCat("# TYPE ", family))) << family;
  }
  EXPECT_TRUE(
      HasLine(text, "epgfn_uploads_accepted_total{client=\"client-0\"} 1"))
      << text;
  EXPECT_TRUE(
      HasLine(text, "epgfn_uploads_accepted_total{client=\"client-1\"} 1"));
  EXPECT_TRUE(HasLine(
      text, "epgfn_uploads_refused_total{reason=\"digest_mismatch\"} 1"))
      << text;
  EXPECT_TRUE(
      HasLine(text, "epgfn_aggregation_runs_total{result=\"published\"} 1"));
  EXPECT_TRUE(HasLine(text, "epgfn_client_fcs{client=\"client-0\"} 0.25"))
      << text;
  EXPECT_TRUE(HasLine(text, "epgfn_client_fcs{client=\"client-1\"} -1"));
  EXPECT_TRUE(HasLine(text, "epgfn_published_version 1"));
  EXPECT_TRUE(HasLine(text, "epgfn_aggregation_running 0"));
  EXPECT_TRUE(HasLine(text, "epgfn_aggregation_total_iterations 30"));
  // Three Upload calls finished: two OK, one refused.
  EXPECT_TRUE(
      HasLine(text,
              "epgfn_rpc_requests_total{code=\"OK\",method=\"UploadModel\","
              "service=\"epgfn.v1.Federation\"} 2"))
      << text;
  // The histogram keeps its 15 buckets from 1 ms to 60 s, plus +Inf.
  EXPECT_TRUE(absl::StrContains(
      text,
      "epgfn_rpc_duration_seconds_bucket{method=\"UploadModel\","
      "service=\"epgfn.v1.Federation\",le=\"0.001\"}"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text,
      "epgfn_rpc_duration_seconds_bucket{method=\"UploadModel\","
      "service=\"epgfn.v1.Federation\",le=\"60\"} 3"));
  EXPECT_TRUE(HasLine(text,
                      "epgfn_rpc_duration_seconds_count{method=\"UploadModel\","
                      "service=\"epgfn.v1.Federation\"} 3"));
  EXPECT_TRUE(
      absl::StartsWith(HttpGet((*endpoint)->port(), "/other"), "HTTP/1.1 404"));

  // A second endpoint on the same port is refused with the address named.
  auto taken =
      MetricsEndpoint::Start((*endpoint)->address(), ServerMetricsRegistry());
  EXPECT_FALSE(taken.ok());
  EXPECT_TRUE(
      absl::StrContains(taken.status().message(), (*endpoint)->address()))
      << taken.status();
  EXPECT_FALSE(MetricsEndpoint::Start("no-port", ServerMetricsRegistry()).ok());

  (*server)->Shutdown(absl::Seconds(2));
}

}  // namespace
}  // namespace epgfn
