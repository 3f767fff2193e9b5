#include "common/util/metrics_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "common/util/metrics.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  return fd;
}

// Sends `request` and reads until the server closes the connection.
std::string Exchange(int port, const std::string& request) {
  const int fd = Connect(port);
  EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t received;
  while ((received = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<size_t>(received));
  }
  close(fd);
  return response;
}

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.AddCounter("scrapes_total", "Scrapes so far.");
    auto server = MetricsHttpServer::Start("127.0.0.1:0", [this] {
      registry_.AddCounter("scrapes_total", "Scrapes so far.")
          .Get()
          .Increment();
      return registry_.TextFormat();
    });
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }

  MetricsRegistry registry_;
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpServerTest, ServesMetricsOverARealSocket) {
  const std::string response = Exchange(
      server_->port(),
      "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
  const std::string body =
      "# HELP scrapes_total Scrapes so far.\n"
      "# TYPE scrapes_total counter\n"
      "scrapes_total 1\n";
  EXPECT_EQ(response,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "Connection: close\r\n\r\n" +
                body);
  // A query string is ignored; every scrape renders afresh.
  EXPECT_TRUE(absl::StrContains(
      Exchange(server_->port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
      "scrapes_total 2\n"));
}

TEST_F(MetricsHttpServerTest, HeadHasHeadersOnly) {
  const std::string response =
      Exchange(server_->port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(response, "HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_TRUE(absl::EndsWith(response, "Connection: close\r\n\r\n"))
      << response;
}

TEST_F(MetricsHttpServerTest, OtherPathsMethodsAndGarbageAreRefused) {
  EXPECT_TRUE(
      absl::StartsWith(Exchange(server_->port(), "GET / HTTP/1.1\r\n\r\n"),
                       "HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(absl::StartsWith(
      Exchange(server_->port(), "GET /metricsx HTTP/1.1\r\n\r\n"),
      "HTTP/1.1 404 Not Found\r\n"));
  const std::string post =
      Exchange(server_->port(),
               "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_TRUE(absl::StartsWith(post, "HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_TRUE(absl::StrContains(post, "Allow: GET, HEAD\r\n"));
  EXPECT_TRUE(absl::StartsWith(Exchange(server_->port(), "hello\r\n\r\n"),
                               "HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(absl::StartsWith(
      Exchange(server_->port(), "GET /metrics SMTP/1.0\r\n\r\n"),
      "HTTP/1.1 400 Bad Request\r\n"));
  // A request that never ends within the size limit.
  EXPECT_TRUE(absl::StartsWith(
      Exchange(server_->port(),
               "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a')),
      "HTTP/1.1 400 Bad Request\r\n"));
  // A client that hangs up mid-request gets nothing and breaks nothing.
  close(Connect(server_->port()));
  const int partial = Connect(server_->port());
  send(partial, "GET /met", 8, MSG_NOSIGNAL);
  close(partial);
  EXPECT_TRUE(absl::StartsWith(
      Exchange(server_->port(), "GET /metrics HTTP/1.1\r\n\r\n"),
      "HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsHttpServerTest, ShutdownIsPromptWithAStuckClientConnected) {
  // Connected but silent: the server thread waits on it until shutdown.
  const int stuck = Connect(server_->port());
  server_->Shutdown();
  server_->Shutdown();  // idempotent
  server_.reset();
  // Closed (or reset, if it was never accepted) without a response.
  char byte;
  EXPECT_LE(recv(stuck, &byte, 1, 0), 0);
  close(stuck);
}

TEST(MetricsHttpServerStartTest, BadAddressesAreErrors) {
  auto render = [] { return std::string(); };
  EXPECT_FALSE(MetricsHttpServer::Start("127.0.0.1", render).ok());
  EXPECT_FALSE(MetricsHttpServer::Start("127.0.0.1:99999", render).ok());
  EXPECT_FALSE(MetricsHttpServer::Start("127.0.0.1:http", render).ok());
  auto first = MetricsHttpServer::Start("127.0.0.1:0", render);
  ASSERT_TRUE(first.ok());
  auto taken = MetricsHttpServer::Start(
      "127.0.0.1:" + std::to_string((*first)->port()), render);
  EXPECT_FALSE(taken.ok());
  EXPECT_TRUE(absl::StrContains(taken.status().message(), "cannot listen"))
      << taken.status();
}

}  // namespace
}  // namespace epgfn
