// The epgfn_server binary end to end: mTLS with certificates from
// deploy/gen_certs.sh, a round over the wire, SIGTERM with a watcher still
// connected (exit 0), and recovery of the state directory on restart.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "gtest/gtest.h"
#include "proto/federation.grpc.pb.h"
#include "server/testing/rpc_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

std::string Config() {
  return test_support::ProcessTestConfig("binary-test", /*num_clients=*/2,
                                         /*iterations=*/40,
                                         /*batch_size=*/32);
}

constexpr char kAdminToken[] = "0123456789abcdef0123456789abcdef-admin";

std::string Read(const std::string& path) {
  auto bytes = ReadFileToString(path, 1 << 20);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

TEST(ServerBinaryTest, RoundOverMutualTlsThenGracefulShutdownAndRecovery) {
  const std::string root = test_support::FreshDirectory("binary");
  const std::string certs = root + "/certs";
  ASSERT_EQ(std::system(absl::StrCat("bash deploy/gen_certs.sh ", certs,
                                     " client-0 client-1 >/dev/null")
                            .c_str()),
            0);
  const std::string config_path = root + "/federation.textproto";
  std::ofstream(config_path) << Config();
  const std::string admin_tokens = root + "/admin_tokens.txt";
  std::ofstream(admin_tokens) << "ops:" << kAdminToken << "\n";
  const std::vector<std::string> flags = {
      "--config=" + config_path,
      "--state_dir=" + root + "/state",
      "--listen=127.0.0.1:0",
      "--tls_cert=" + certs + "/server.pem",
      "--tls_key=" + certs + "/server.key",
      "--tls_client_ca=" + certs + "/ca.pem",
      "--sampler_auth=mtls",
      "--admin_tokens_file=" + admin_tokens,
      "--threads=1"};

  test_support::ServerProcess server = test_support::StartServerProcess(flags);
  ASSERT_FALSE(server.address.empty()) << "server did not announce itself";
  auto stub_for = [&](const std::string& address, const std::string& client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read(certs + "/ca.pem");
    ssl.pem_private_key = Read(certs + "/" + client + ".key");
    ssl.pem_cert_chain = Read(certs + "/" + client + ".pem");
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    return v1::Federation::NewStub(grpc::CreateCustomChannel(
        address, grpc::SslCredentials(ssl), arguments));
  };

  auto stub0 = stub_for(server.address, "client-0");
  grpc::ClientContext spec_context;
  v1::GetSpecResponse spec;
  ASSERT_TRUE(stub0->GetSpec(&spec_context, {}, &spec).ok());
  auto config = FederationConfigFromSpec(spec.spec());
  ASSERT_TRUE(config.ok()) << config.status();

  grpc::ClientContext watch_context;
  auto watch = stub0->WatchGlobalModel(&watch_context, {});
  for (int i = 0; i < 2; ++i) {
    const std::string client = absl::StrCat("client-", i);
    auto outcome = test_support::Upload(
        *stub_for(server.address, client), client, spec.spec_digest(), 1,
        test_support::LocalModelPayload(**config, i, 2, 0));
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  }
  v1::GlobalModelAnnouncement announcement;
  ASSERT_TRUE(watch->Read(&announcement));
  EXPECT_EQ(announcement.version(), 1);
  test_support::Download download = test_support::DownloadModel(*stub0, 1);
  ASSERT_TRUE(download.status.ok()) << download.status.error_message();
  EXPECT_EQ(Sha256Hex(download.payload), announcement.payload_sha256());

  // The watcher is still connected when the server is told to stop.
  EXPECT_EQ(test_support::StopServerProcess(server), 0);
  EXPECT_FALSE(watch->Read(&announcement));
  watch->Finish();

  // A restarted server serves what the first one published.
  test_support::ServerProcess restarted =
      test_support::StartServerProcess(flags);
  ASSERT_FALSE(restarted.address.empty());
  auto stub = stub_for(restarted.address, "client-1");
  grpc::ClientContext status_context;
  status_context.AddMetadata("authorization",
                             std::string("Bearer ") + kAdminToken);
  v1::GetStatusResponse status;
  ASSERT_TRUE(stub->GetStatus(&status_context, {}, &status).ok());
  EXPECT_EQ(status.current_version(), 1);
  ASSERT_EQ(status.clients_size(), 2);
  EXPECT_EQ(status.clients(0).accepted_round(), 1);
  EXPECT_EQ(status.clients(1).accepted_round(), 1);
  EXPECT_EQ(status.aggregation().state(), "idle");
  download = test_support::DownloadModel(*stub, 0);
  ASSERT_TRUE(download.status.ok());
  EXPECT_EQ(Sha256Hex(download.payload), announcement.payload_sha256());
  EXPECT_EQ(test_support::StopServerProcess(restarted, 20, SIGINT), 0);
}

// Runs the binary to completion; returns its exit status and stderr.
std::pair<int, std::string> RunToExit(const std::vector<std::string>& flags,
                                      const std::string& stderr_path) {
  std::string command = "server/epgfn_server";
  for (const std::string& flag : flags) absl::StrAppend(&command, " ", flag);
  absl::StrAppend(&command, " >/dev/null 2>", stderr_path);
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Read(stderr_path)};
}

TEST(ServerBinaryTest, RefusesToStartWithIncompleteSamplerAccess) {
  const std::string root = test_support::FreshDirectory("sampler-flags");
  const std::string certs = root + "/certs";
  ASSERT_EQ(std::system(absl::StrCat("bash deploy/gen_certs.sh ", certs,
                                     " client-0 >/dev/null")
                            .c_str()),
            0);
  const std::string config_path = root + "/federation.textproto";
  std::ofstream(config_path) << Config();
  const std::string tokens = root + "/tokens.txt";
  const std::string secret(40, 'k');
  std::ofstream(tokens) << "# callers\nalice:" << secret << "\nbob " << secret
                        << "\n";
  const std::vector<std::string> tls = {
      "--config=" + config_path, "--state_dir=" + root + "/state",
      "--listen=127.0.0.1:0", "--tls_cert=" + certs + "/server.pem",
      "--tls_key=" + certs + "/server.key"};
  struct Case {
    std::vector<std::string> extra;
    std::string message;
  };
  const Case cases[] = {
      {{}, "--sampler_tokens_file"},  // the default is token, not open
      {{"--sampler_auth=token"}, "--sampler_tokens_file"},
      {{"--sampler_auth=mtls"}, "--tls_client_ca"},
      {{"--sampler_auth=token", "--sampler_tokens_file=" + tokens},
       "tokens.txt line 3"},
      {{"--sampler_auth=anyone"}, "token, mtls or open"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> flags = tls;
    flags.insert(flags.end(), c.extra.begin(), c.extra.end());
    auto [code, errors] = RunToExit(flags, root + "/stderr.txt");
    EXPECT_EQ(code, 1) << errors;
    EXPECT_NE(errors.find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << errors;
    EXPECT_EQ(errors.find(secret), std::string::npos) << errors;
  }
}

// A server with certificates and a config in a fresh folder, for the
// start-up refusals below.
struct StartupCase {
  std::string root;
  std::string certs;
  std::vector<std::string> flags;  // without --state_dir and --listen
};

StartupCase MakeSetup(const std::string& name) {
  StartupCase setup;
  setup.root = test_support::FreshDirectory(name);
  setup.certs = setup.root + "/certs";
  EXPECT_EQ(std::system(absl::StrCat("bash deploy/gen_certs.sh ", setup.certs,
                                     " client-0 >/dev/null")
                            .c_str()),
            0);
  const std::string config_path = setup.root + "/federation.textproto";
  std::ofstream(config_path) << Config();
  setup.flags = {"--config=" + config_path,
                 "--tls_cert=" + setup.certs + "/server.pem",
                 "--tls_key=" + setup.certs + "/server.key",
                 "--tls_client_ca=" + setup.certs + "/ca.pem",
                 "--sampler_auth=mtls",
                 "--threads=1"};
  return setup;
}

std::vector<std::string> With(std::vector<std::string> flags,
                              const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

// gRPC sets SO_REUSEPORT unless told not to: a second server on the port
// used to start and take half of the new connections.
TEST(ServerBinaryTest, ASecondServerOnAPortInUseFailsToStart) {
  const StartupCase setup = MakeSetup("port-in-use");
  test_support::ServerProcess first = test_support::StartServerProcess(
      With(setup.flags,
           {"--state_dir=" + setup.root + "/a", "--listen=127.0.0.1:0"}));
  ASSERT_FALSE(first.address.empty());
  auto [code, errors] = RunToExit(
      With(setup.flags,
           {"--state_dir=" + setup.root + "/b", "--listen=" + first.address}),
      setup.root + "/stderr.txt");
  EXPECT_EQ(code, 1) << errors;
  EXPECT_NE(errors.find(absl::StrCat("epgfn_server: cannot listen on ",
                                     first.address, " is already in use")),
            std::string::npos)
      << errors;
  EXPECT_EQ(test_support::StopServerProcess(first), 0);
}

TEST(ServerBinaryTest, APortOutOfRangeIsRefused) {
  const StartupCase setup = MakeSetup("port-range");
  for (const char* listen :
       {"127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:-5", "localhost"}) {
    auto [code, errors] =
        RunToExit(With(setup.flags, {"--state_dir=" + setup.root + "/state",
                                     absl::StrCat("--listen=", listen)}),
                  setup.root + "/stderr.txt");
    EXPECT_EQ(code, 1) << errors;
    EXPECT_NE(errors.find(absl::StrCat("--listen='", listen, "'")),
              std::string::npos)
        << errors;
    EXPECT_NE(errors.find("port 1..65535"), std::string::npos) << errors;
  }
}

// Two servers on one state directory forked it (each replaced the other's
// versions); the second is now refused, naming the first's PID.
TEST(ServerBinaryTest, ASecondServerOnAStateDirInUseIsRefused) {
  const StartupCase setup = MakeSetup("state-in-use");
  const std::string state = setup.root + "/state";
  test_support::ServerProcess first = test_support::StartServerProcess(
      With(setup.flags, {"--state_dir=" + state, "--listen=127.0.0.1:0"}));
  ASSERT_FALSE(first.address.empty());
  auto [code, errors] = RunToExit(
      With(setup.flags, {"--state_dir=" + state, "--listen=127.0.0.1:0"}),
      setup.root + "/stderr.txt");
  EXPECT_EQ(code, 1) << errors;
  EXPECT_NE(errors.find(absl::StrCat("state directory ", state,
                                     " is in use by another process (pid ",
                                     first.pid, ",")),
            std::string::npos)
      << errors;
  EXPECT_EQ(test_support::StopServerProcess(first), 0);
  // A SIGKILLed holder leaves no stale lock.
  test_support::ServerProcess second = test_support::StartServerProcess(
      With(setup.flags, {"--state_dir=" + state, "--listen=127.0.0.1:0"}));
  ASSERT_FALSE(second.address.empty());
  kill(second.pid, SIGKILL);
  waitpid(second.pid, nullptr, 0);
  test_support::ServerProcess third = test_support::StartServerProcess(
      With(setup.flags, {"--state_dir=" + state, "--listen=127.0.0.1:0"}));
  EXPECT_FALSE(third.address.empty());
  EXPECT_EQ(test_support::StopServerProcess(third), 0);
}

TEST(ServerBinaryTest, ABadKeyIsNamedNotReportedAsAListenFailure) {
  const StartupCase setup = MakeSetup("bad-key");
  const std::string garbage = setup.root + "/garbage.key";
  std::ofstream(garbage) << "-----BEGIN PRIVATE KEY-----\ngarbage\n"
                            "-----END PRIVATE KEY-----\n";
  struct Case {
    std::string key;
    std::string message;
  };
  const Case cases[] = {
      {garbage, "garbage.key is not a PEM private key"},
      {setup.certs + "/client-0.key",
       "client-0.key does not belong to the certificate"},
  };
  for (const Case& c : cases) {
    auto [code, errors] = RunToExit(
        With(setup.flags, {"--state_dir=" + setup.root + "/state",
                           "--listen=127.0.0.1:0", "--tls_key=" + c.key}),
        setup.root + "/stderr.txt");
    EXPECT_EQ(code, 1) << errors;
    EXPECT_NE(errors.find(c.message), std::string::npos) << errors;
    EXPECT_EQ(errors.find("cannot listen"), std::string::npos) << errors;
  }
}

// An existing state directory on a read-only filesystem started and failed
// at the first upload. A read-only bind mount needs a mount namespace of
// our own (root or user namespaces); the test skips without one.
TEST(ServerBinaryTest, AReadOnlyStateDirIsRefusedAtStart) {
  const StartupCase setup = MakeSetup("read-only");
  const std::string state = setup.root + "/state";
  // An existing state: with its folders in place the old server started
  // (creating them was what failed on an empty read-only directory).
  ASSERT_EQ(std::system(absl::StrCat("mkdir -p ", state, "/uploads ", state,
                                     "/global ", state, "/aggregation")
                            .c_str()),
            0);
  std::string command =
      absl::StrCat("unshare --mount --map-root-user sh -c 'mount --bind ",
                   state, " ", state, " && mount -o remount,bind,ro ", state,
                   " ", state, " || exit 99; exec server/epgfn_server");
  for (const std::string& flag :
       With(setup.flags, {"--state_dir=" + state, "--listen=127.0.0.1:0"})) {
    absl::StrAppend(&command, " ", flag);
  }
  const std::string stderr_path = setup.root + "/stderr.txt";
  absl::StrAppend(&command, "' >/dev/null 2>", stderr_path);
  const int status = std::system(command.c_str());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 99 ||
      (code == 1 && Read(stderr_path).find("unshare") != std::string::npos)) {
    GTEST_SKIP() << "no mount namespace here: " << Read(stderr_path);
  }
  const std::string errors = Read(stderr_path);
  EXPECT_EQ(code, 1) << errors;
  EXPECT_NE(
      errors.find(absl::StrCat("state directory ", state, " is not writable")),
      std::string::npos)
      << errors;
}

// --check_config (like nginx -t): validates everything, starts nothing.
TEST(ServerBinaryTest, CheckConfigReportsWhatWouldRunOrTheFirstProblem) {
  const std::string root = test_support::FreshDirectory("check-config");
  const std::string certs = root + "/certs";
  ASSERT_EQ(std::system(absl::StrCat("bash deploy/gen_certs.sh ", certs,
                                     " client-0 >/dev/null")
                            .c_str()),
            0);
  const std::string config_path = root + "/federation.textproto";
  std::ofstream(config_path) << Config();
  const std::string bad_config = root + "/bad.textproto";
  std::ofstream(bad_config) << Config() << "\nquorum_typo: 2\n";
  std::ofstream(root + "/a_file") << "x";
  const std::vector<std::string> good = {"--check_config",
                                         "--config=" + config_path,
                                         "--state_dir=" + root + "/state",
                                         "--listen=127.0.0.1:0",
                                         "--tls_cert=" + certs + "/server.pem",
                                         "--tls_key=" + certs + "/server.key",
                                         "--tls_client_ca=" + certs + "/ca.pem",
                                         "--sampler_auth=mtls",
                                         "--metrics_listen=127.0.0.1:9464"};
  {
    const std::string out = root + "/stdout.txt";
    std::string command = "server/epgfn_server";
    for (const std::string& flag : good) absl::StrAppend(&command, " ", flag);
    const int status =
        std::system(absl::StrCat(command, " >", out, " 2>&1").c_str());
    ASSERT_TRUE(WIFEXITED(status));
    const std::string report = Read(out);
    EXPECT_EQ(WEXITSTATUS(status), 0) << report;
    auto config = LoadFederationConfig(config_path);
    ASSERT_TRUE(config.ok());
    for (const std::string& part :
         {absl::StrCat("spec digest: ", (*config)->spec_digest),
          std::string("federation 'binary-test'"),
          std::string("clients (2): client-0, client-1"),
          std::string("aggregation: "), std::string("40 iterations x 32"),
          absl::StrCat("certificate ", certs, "/server.pem: "),
          std::string("CN="), std::string("key "), std::string(" matches"),
          std::string("sampler access: mtls"),
          std::string("metrics: http://127.0.0.1:9464/metrics"),
          std::string("state dir: " + root + "/state (will be created)"),
          std::string("configuration OK")}) {
      EXPECT_NE(report.find(part), std::string::npos)
          << "'" << part << "' missing from:\n"
          << report;
    }
    // Nothing was created or started.
    EXPECT_FALSE(std::ifstream(root + "/state").good());
    EXPECT_EQ(report.find("listening on"), std::string::npos);
  }
  struct Case {
    std::string flag;  // replaces the flag with the same name, or is added
    std::string message;
  };
  const Case cases[] = {
      {"--config=" + bad_config, "bad.textproto"},
      {"--tls_key=" + certs + "/client-0.key",
       "does not belong to the certificate"},
      {"--tls_cert=" + root + "/missing.pem", "missing.pem"},
      {"--tls_client_ca=" + config_path, "is not a PEM certificate"},
      {"--state_dir=" + root + "/a_file", "not a directory"},
      {"--metrics_listen=9464", "--metrics_listen='9464' is not host:port"},
      {"--first_aggregation_warm_start=first",
       "unknown aggregation warm start 'first'"},
      {"--first_aggregation_warm_start=average",
       "cannot start from the average of the uploaded models"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> flags;
    const std::string name = c.flag.substr(0, c.flag.find('='));
    bool replaced = false;
    for (const std::string& flag : good) {
      const bool same = flag.substr(0, flag.find('=')) == name;
      flags.push_back(same ? c.flag : flag);
      replaced |= same;
    }
    if (!replaced) flags.push_back(c.flag);
    auto [code, errors] = RunToExit(flags, root + "/stderr.txt");
    EXPECT_EQ(code, 1) << c.flag << ": " << errors;
    EXPECT_NE(errors.find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << errors;
  }
}

}  // namespace
}  // namespace epgfn
