// Heavy Sample calls do not outlive their caller (issue #15, item 6), with
// the real epgfn_server binary: eight calls of the largest admitted work,
// each with a 1 s deadline, leave the server idle soon after the deadline
// (its CPU time read from /proc/<pid>/stat), most of them are refused at
// once as RESOURCE_EXHAUSTED (at most two heavy calls run), and a normal
// call is served promptly meanwhile.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/sampler.grpc.pb.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/testing/server_process.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

constexpr char kConfig[] = R"pb(
  name: "sampler-cpu-test"
  environment {
    kind: "hypergrid"
    params { key: "dim" value: "2" }
    params { key: "side" value: "16" }
  }
  local_architecture { hidden_width: 64 hidden_layers: 2 }
  global_architecture { hidden_width: 64 hidden_layers: 2 }
  client_ids: "client-0"
  aggregation { loss: "cb" iterations: 10 batch_size: 16 }
)pb";

TEST(SamplerCpuTest, CancelledHeavyCallsStopAndAreBoundedInNumber) {
  const std::string root = test_support::FreshDirectory("sampler-cpu");
  const std::string config_path = root + "/federation.textproto";
  std::ofstream(config_path) << kConfig;
  {
    // One published (untrained) version for the server to recover.
    auto config = LoadFederationConfig(config_path);
    ASSERT_TRUE(config.ok()) << config.status();
    auto store = ModelStore::Create(*config, root + "/state");
    ASSERT_TRUE(store.ok());
    PolicyNet policy =
        *MakePolicy(*(*config)->environment, (*config)->global_architecture, 1,
                    torch::kCPU);
    ASSERT_TRUE((*store)->Publish(policy, {{"client-0", 1}}).ok());
  }

  const test_support::ServerProcess server = test_support::StartServerProcess(
      {"--config=" + config_path, "--state_dir=" + root + "/state",
       "--listen=127.0.0.1:0", "--insecure", "--sampler_auth=open",
       "--threads=1"});
  ASSERT_FALSE(server.address.empty()) << "the server did not announce itself";
  const pid_t pid = server.pid;
  auto stub = v1::Sampler::NewStub(
      grpc::CreateChannel(server.address, grpc::InsecureChannelCredentials()));

  auto sample = [&](int64_t num_samples, int32_t log_probability_samples,
                    std::chrono::milliseconds deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    v1::SampleRequest request;
    request.set_num_samples(num_samples);
    request.set_log_probability_samples(log_probability_samples);
    auto reader = stub->Sample(&context, request);
    v1::SampleBatch batch;
    while (reader->Read(&batch)) {
    }
    return reader->Finish();
  };
  // The server is up and sampling.
  ASSERT_TRUE(sample(10, 0, std::chrono::seconds(30)).ok());

  const double cpu_before = test_support::ProcessCpuSeconds(pid);
  std::vector<std::future<grpc::Status>> heavy;
  for (int i = 0; i < 8; ++i) {
    // 8,192 objects x 1,024 = 2^23 trajectories: the most one call may ask.
    heavy.push_back(std::async(std::launch::async, [&] {
      return sample(8192, 1024, std::chrono::milliseconds(1000));
    }));
  }
  int refused = 0, expired = 0;
  for (auto& call : heavy) {
    grpc::Status status = call.get();
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++refused;
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) ++expired;
  }
  EXPECT_GE(refused, 6);
  EXPECT_EQ(refused + expired, 8);
  // A normal call is served promptly.
  const absl::Time start = absl::Now();
  EXPECT_TRUE(sample(100, 0, std::chrono::seconds(30)).ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));

  // Past their deadline the calls stop within one estimation pass: give it
  // half a second, then the server must stay (nearly) idle.
  absl::SleepFor(absl::Milliseconds(500));
  const double cpu_after_calls = test_support::ProcessCpuSeconds(pid);
  absl::SleepFor(absl::Seconds(3));
  const double cpu_idle =
      test_support::ProcessCpuSeconds(pid) - cpu_after_calls;
  std::printf(
      "server CPU: %.2f s during the heavy calls, %.2f s in the 3 s "
      "after them; %d refused, %d past their deadline\n",
      cpu_after_calls - cpu_before, cpu_idle, refused, expired);
  EXPECT_LT(cpu_idle, 0.5);
  EXPECT_LT(cpu_after_calls - cpu_before, 8.0);

  EXPECT_EQ(test_support::StopServerProcess(server), 0);
}

}  // namespace
}  // namespace epgfn
