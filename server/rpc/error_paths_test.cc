// Errors returned to clients carry no server filesystem path (issue #15,
// 9): a file I/O failure under the state directory is answered with the
// path replaced, and the full message stays in the server's log.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

TEST(ErrorPathsTest, AFailedWriteDoesNotTellTheClientWhereTheStateIs) {
  auto config = test_support::SmallHypergridConfig(2);
  const std::string state_dir = test_support::FreshDirectory("paths");
  auto core = *ServerCore::Create(
      config, *ServerCore::Options::Create(state_dir, torch::kCPU, 100));
  RpcServerOptions options = test_support::InsecureLoopbackOptions(1 << 20);
  auto server = RpcServer::Start(core.get(), options);
  ASSERT_TRUE(server.ok()) << server.status();
  // The uploads folder becomes a plain file: every write under it fails
  // with ENOTDIR, whose message names the path.
  std::filesystem::remove_all(state_dir + "/uploads");
  std::ofstream(state_dir + "/uploads") << "not a directory";
  auto stub = v1::Federation::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  test_support::UploadOutcome outcome =
      test_support::Upload(*stub, "client-0", config->spec_digest, 1,
                           test_support::LocalModelPayload(*config, 0, 2, 0));
  ASSERT_FALSE(outcome.status.ok());
  const std::string message = outcome.status.error_message();
  EXPECT_EQ(message.find(state_dir), std::string::npos) << message;
  EXPECT_EQ(message.find("/uploads"), std::string::npos) << message;
  EXPECT_NE(message.find("<server path>"), std::string::npos) << message;
  (*server)->Shutdown(absl::Seconds(2));
}

}  // namespace
}  // namespace epgfn
