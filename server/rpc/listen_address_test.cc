#include "server/rpc/listen_address.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace epgfn {
namespace {

TEST(ListenAddressTest, ParsesHostAndPort) {
  auto address = ListenAddress::Parse("127.0.0.1:50051", "--listen");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 50051);
  address = ListenAddress::Parse("[::1]:0", "--listen");
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 0);
  EXPECT_EQ(address->ToString(), "[::1]:0");
}

TEST(ListenAddressTest, RefusesPortsOutsideTheirRange) {
  // gRPC took 99999 modulo 2^16 and listened on 34463.
  for (const char* text :
       {"127.0.0.1:99999", "127.0.0.1:65536", "h:-1", "h:", "h", ":1", "::1:5",
        "[::1]5", "h:1e3", "h:0x10", "h:+80"}) {
    auto address = ListenAddress::Parse(text, "--listen");
    EXPECT_FALSE(address.ok()) << text;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ListenAddressTest, DiagnosesAPortInUse) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ListenAddress in_use{"127.0.0.1", ntohs(address.sin_port)};
  absl::Status status = DiagnoseBind(in_use);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("is already in use"),
            absl::string_view::npos);
  close(fd);
  EXPECT_TRUE(DiagnoseBind(in_use).ok());
  EXPECT_EQ(DiagnoseBind({"192.0.2.1", 0}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
