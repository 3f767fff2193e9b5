#include "server/testing/test_federation.h"

#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/env/environment_registry.h"
#include "common/model/model_codec.h"
#include "common/train/trainer.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace test_support {

v1::FederationSpec SmallHypergridSpec(int num_clients,
                                      int64_t aggregation_iterations) {
  v1::FederationSpec spec;
  spec.set_name("test-federation");
  spec.mutable_environment()->set_kind("hypergrid");
  (*spec.mutable_environment()->mutable_params())["dim"] = "2";
  (*spec.mutable_environment()->mutable_params())["side"] = "4";
  for (auto* architecture : {spec.mutable_local_architecture(),
                             spec.mutable_global_architecture()}) {
    architecture->set_hidden_width(64);
    architecture->set_hidden_layers(2);
  }
  for (int i = 0; i < num_clients; ++i) {
    spec.add_client_ids(absl::StrCat("client-", i));
  }
  spec.mutable_local_training()->set_loss("cb");
  spec.mutable_local_training()->set_iterations(300);
  spec.mutable_local_training()->set_batch_size(64);
  spec.mutable_aggregation()->set_loss("cb");
  spec.mutable_aggregation()->set_iterations(aggregation_iterations);
  spec.mutable_aggregation()->set_batch_size(64);
  spec.mutable_aggregation()->set_seed(7);
  return spec;
}

std::shared_ptr<const FederationConfig> SmallHypergridConfig(
    int num_clients, int64_t aggregation_iterations) {
  auto config = FederationConfigFromSpec(
      SmallHypergridSpec(num_clients, aggregation_iterations));
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

std::string LocalModelPayload(const FederationConfig& config, int index,
                              int count, int64_t iterations) {
  const Environment& environment = *config.environment;
  PolicyNet policy = *MakePolicy(environment, config.local_architecture,
                                 100 + index, torch::kCPU);
  if (iterations > 0) {
    auto reward = MakeSplitLogReward(
        environment, *RewardConfig::Parse(absl::StrCat("client:index=", index,
                                                       ",count=", count)));
    EXPECT_TRUE(reward.ok()) << reward.status();
    TrainingOptions options;
    options.iterations = iterations;
    options.batch_size = 64;
    options.exploration.epsilon = 0.05;
    options.seed = 200 + index;
    RewardTarget target(reward->get());
    auto trainer = Trainer::Create(&environment, policy, &target, options);
    EXPECT_TRUE(trainer.ok()) << trainer.status();
    EXPECT_TRUE((*trainer)->Run().ok());
  }
  return ExportModel(environment, policy).SerializeAsString();
}

std::string FreshDirectory(const std::string& name) {
  static int counter = 0;
  const char* root = std::getenv("TEST_TMPDIR");
  std::string path =
      absl::StrCat(root != nullptr ? root : "/tmp", "/", name, "-", ++counter);
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

}  // namespace test_support
}  // namespace epgfn
