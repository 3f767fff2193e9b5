// A full disk at publication is not permanent (issue #15, item 5), with the
// real epgfn_server binary on a real tmpfs: the disk fills up while the
// aggregation trains; the server reports "publish_retrying" (naming the
// cause) in GetStatus and keeps the trained model; once space is freed it
// publishes that model without training again. Needs root to mount the
// tmpfs; skipped (saying so) where mounting is not allowed.
#include <grpcpp/grpcpp.h>
#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/testing/rpc_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

std::string Config() {
  return test_support::ProcessTestConfig("disk-full-test", /*num_clients=*/2,
                                         /*iterations=*/3000,
                                         /*batch_size=*/16);
}

// Fills the filesystem of `directory` up with one file; returns its path.
std::string FillUp(const std::string& directory) {
  const std::string path = directory + "/filler";
  std::FILE* file = std::fopen(path.c_str(), "wb");
  const std::string block(64 << 10, 'f');
  while (file != nullptr &&
         std::fwrite(block.data(), 1, block.size(), file) == block.size() &&
         std::fflush(file) == 0) {
  }
  // Byte by byte into the last partial block.
  while (file != nullptr && std::fputc('f', file) != EOF &&
         std::fflush(file) == 0) {
  }
  if (file != nullptr) std::fclose(file);
  return path;
}

TEST(PublicationDiskFullTest, RetriesUntilSpaceIsFreedKeepingTheModel) {
  const std::string root = test_support::FreshDirectory("disk-full");
  const std::string mount_point = root + "/tmpfs";
  std::filesystem::create_directories(mount_point);
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); this test needs root";
  }
  const std::string config_path = root + "/federation.textproto";
  std::ofstream(config_path) << Config();
  const std::string state_dir = mount_point + "/state";
  const std::string admin_tokens = root + "/admin_tokens.txt";
  std::ofstream(admin_tokens)
      << "ops:" << test_support::TestAdminToken() << "\n";

  const test_support::ServerProcess server = test_support::StartServerProcess(
      {"--config=" + config_path, "--state_dir=" + state_dir,
       "--listen=127.0.0.1:0", "--insecure", "--sampler_auth=open",
       "--threads=1", "--aggregation_checkpoint_every=100",
       "--admin_tokens_file=" + admin_tokens});
  ASSERT_FALSE(server.address.empty()) << "the server did not announce itself";
  auto stub = v1::Federation::NewStub(
      grpc::CreateChannel(server.address, grpc::InsecureChannelCredentials()));
  auto status = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    test_support::AddAdminToken(context);
    v1::GetStatusResponse response;
    EXPECT_TRUE(stub->GetStatus(&context, {}, &response).ok());
    return response;
  };

  grpc::ClientContext spec_context;
  v1::GetSpecResponse spec;
  ASSERT_TRUE(stub->GetSpec(&spec_context, {}, &spec).ok());
  auto config = FederationConfigFromSpec(spec.spec());
  ASSERT_TRUE(config.ok()) << config.status();
  for (int i = 0; i < 2; ++i) {
    const std::string client = absl::StrCat("client-", i);
    auto outcome = test_support::Upload(
        *stub, client, spec.spec_digest(), 1,
        test_support::LocalModelPayload(**config, i, 2, 0));
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  }
  // The aggregation is training: fill the disk under it.
  const std::string filler = FillUp(mount_point);
  v1::GetStatusResponse seen;
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  do {
    absl::SleepFor(absl::Milliseconds(50));
    seen = status();
  } while (seen.aggregation().state() != "publish_retrying" &&
           seen.current_version() == 0 && absl::Now() < give_up);
  EXPECT_EQ(seen.current_version(), 0) << "published before the disk filled";
  EXPECT_EQ(seen.aggregation().state(), "publish_retrying");
  EXPECT_NE(seen.aggregation().last_error().find("No space left on device"),
            std::string::npos)
      << seen.aggregation().last_error();
  EXPECT_EQ(seen.aggregation().iteration(), 3000);

  // Space is freed: the trained model is published, not trained again.
  std::filesystem::remove(filler);
  do {
    absl::SleepFor(absl::Milliseconds(50));
    seen = status();
  } while (seen.current_version() == 0 && absl::Now() < give_up);
  EXPECT_EQ(seen.current_version(), 1);
  EXPECT_EQ(seen.aggregation().state(), "idle");
  EXPECT_EQ(seen.aggregation().iteration(), 3000);
  EXPECT_NE(seen.aggregation().last_error().find("publication failed (attempt"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(state_dir + "/global/v1.meta"));

  EXPECT_EQ(test_support::StopServerProcess(server), 0);
  ::umount2(mount_point.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace epgfn
