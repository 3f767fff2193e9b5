// epgfn_admin's workflow (client/core/admin.h) against the real server over
// loopback gRPC: the status and versions tables and JSON after a real
// aggregation, and a watch that reports a re-aggregated version as it is
// published.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/core/admin.h"
#include "client/core/channel.h"
#include "client/core/federation_client.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/server_core.h"
#include "server/rpc/rpc_server.h"
#include "server/testing/loopback_rpc_options.h"
#include "server/testing/rpc_client.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

TEST(AdminRpcTest, StatusVersionsAndWatchAgainstARealServer) {
  auto config = test_support::SmallHypergridConfig(2, 20);
  auto options = *ServerCore::Options::Create(
      test_support::FreshDirectory("admin"), torch::kCPU, 1000);
  auto core = ServerCore::Create(config, options);
  ASSERT_TRUE(core.ok()) << core.status();
  RpcServerOptions rpc_options = test_support::InsecureLoopbackOptions();
  auto server = RpcServer::Start(core->get(), rpc_options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());

  ChannelFlags flags;
  flags.server = address;
  flags.insecure = true;
  FederationClientOptions admin_options;
  admin_options.status_token = test_support::TestAdminToken();
  FederationClient admin(*MakeChannel(*ChannelOptionsFromFlags(flags)),
                         admin_options);

  // Before any upload.
  absl::StatusOr<v1::GetStatusResponse> status = admin.GetStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(VersionsTable(*status), "no published versions\n");
  std::string table = StatusTable(*status);
  EXPECT_TRUE(absl::StrContains(table, "current version:  none published"))
      << table;

  auto stub = v1::Federation::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(test_support::Upload(
                    *stub, absl::StrCat("client-", i), config->spec_digest, 1,
                    test_support::LocalModelPayload(*config, i, 2, 0))
                    .status.ok());
  }
  ASSERT_NE((*core)->models().WaitForNewer(0, absl::Seconds(60)), nullptr);

  status = admin.GetStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  table = StatusTable(*status);
  EXPECT_TRUE(absl::StrContains(
      table, absl::StrCat("spec digest:      ", config->spec_digest)))
      << table;
  EXPECT_TRUE(absl::StrContains(table, "current version:  v1")) << table;
  EXPECT_TRUE(absl::StrContains(table, "iteration ")) << table;
  EXPECT_TRUE(absl::StrContains(table, "/20, loss ")) << table;
  EXPECT_TRUE(absl::StrContains(table, "CLIENT    ROUND  ALPHA")) << table;
  EXPECT_TRUE(absl::StrContains(table, "\nclient-0  1      ")) << table;
  EXPECT_TRUE(absl::StrContains(table, "\nclient-1  1      ")) << table;
  const std::string versions = VersionsTable(*status);
  EXPECT_TRUE(absl::StartsWith(versions, "VERSION  PUBLISHED")) << versions;
  EXPECT_TRUE(absl::StrContains(versions, "\nv1       ")) << versions;
  EXPECT_TRUE(absl::StrContains(versions, "UTC  2  client-0,client-1"))
      << versions;
  absl::StatusOr<std::string> json = ToJsonLine(*status);
  ASSERT_TRUE(json.ok());
  EXPECT_TRUE(
      absl::StrContains(*json, "\"published_versions\":[{\"version\":\"1\""))
      << *json;

  // A watch started now sees the re-aggregation that a round-2 upload
  // triggers, and only that.
  std::vector<int64_t> seen;
  absl::Status watched;
  std::thread watcher([&] {
    WatchOptions watch;
    watch.poll_interval = absl::Milliseconds(100);
    watch.max_versions = 1;
    watch.deadline = absl::Now() + absl::Seconds(90);
    watched = WatchVersions(admin, watch,
                            [&](const v1::GlobalModelAnnouncement& version) {
                              seen.push_back(version.version());
                            });
  });
  absl::SleepFor(absl::Milliseconds(300));
  ASSERT_TRUE(
      test_support::Upload(*stub, "client-0", config->spec_digest, 2,
                           test_support::LocalModelPayload(*config, 0, 2, 1))
          .status.ok());
  watcher.join();
  EXPECT_TRUE(watched.ok()) << watched;
  EXPECT_EQ(seen, std::vector<int64_t>({2}));
  (*server)->Shutdown(absl::Seconds(2));
}

}  // namespace
}  // namespace epgfn
