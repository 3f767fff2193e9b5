// Aggregation checkpoint/resume in process: an aggregation stopped half-way,
// serialized, and resumed by a fresh Aggregator on the same local models ends
// bit for bit where an uninterrupted one does.
#include <string>
#include <vector>

#include "common/aggregate/aggregator.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

PolicyArchitecture SmallArchitecture() {
  PolicyArchitecture architecture;
  architecture.hidden_width = 64;
  return architecture;
}

AggregationOptions Options(int64_t iterations, uint64_t seed = 9) {
  AggregationOptions options;
  options.architecture = SmallArchitecture();
  options.training.iterations = iterations;
  options.training.batch_size = 32;
  options.training.exploration.epsilon = 0.05;
  options.training.seed = seed;
  options.training.progress_every = 50;
  return options;
}

class AggregatorCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    environment_ = std::move(
        MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=6"))
            .value());
    // Local models trained briefly on their own client rewards, so that the
    // aggregate has a non-trivial product to learn.
    for (int i = 0; i < 2; ++i) {
      rewards_.push_back(std::move(
          MakeSplitLogReward(*environment_, *RewardConfig::Parse(
                                                "client:index=" +
                                                std::to_string(i) + ",count=2"))
              .value()));
      PolicyNet policy =
          *MakePolicy(*environment_, SmallArchitecture(), 100 + i, torch::kCPU);
      TrainingOptions training;
      training.iterations = 150;
      training.batch_size = 32;
      training.seed = 200 + i;
      RewardTarget target(rewards_.back().get());
      auto trainer =
          Trainer::Create(environment_.get(), policy, &target, training);
      ASSERT_TRUE(trainer.ok()) << trainer.status();
      ASSERT_TRUE((*trainer)->Run().ok());
      locals_.push_back(LocalModel{"client-" + std::to_string(i),
                                   environment_->config(), policy,
                                   std::nullopt});
    }
  }

  std::unique_ptr<Aggregator> MakeAggregator(int64_t iterations,
                                             uint64_t seed = 9) {
    auto aggregator = Aggregator::Create(environment_.get(), locals_,
                                         Options(iterations, seed));
    EXPECT_TRUE(aggregator.ok()) << aggregator.status();
    return std::move(aggregator).value();
  }

  static void ExpectSameWeights(const PolicyNet& a, const PolicyNet& b) {
    auto left = a->named_parameters();
    auto right = b->named_parameters();
    ASSERT_EQ(left.size(), right.size());
    for (const auto& item : left) {
      const torch::Tensor* other = right.find(item.key());
      ASSERT_NE(other, nullptr) << item.key();
      EXPECT_TRUE(torch::equal(item.value(), *other)) << item.key();
    }
  }

  std::unique_ptr<Environment> environment_;
  std::vector<std::unique_ptr<LogReward>> rewards_;
  std::vector<LocalModel> locals_;
};

TEST_F(AggregatorCheckpointTest, ResumedRunEqualsAStraightRunBitForBit) {
  std::unique_ptr<Aggregator> straight = MakeAggregator(200);
  std::vector<double> straight_losses;
  ASSERT_TRUE(straight
                  ->Run([&](const AggregationProgress& progress) {
                    straight_losses.push_back(progress.training.loss);
                  })
                  .ok());
  EXPECT_EQ(straight->iterations_done(), 200);

  std::vector<double> resumed_losses;
  auto record = [&](const AggregationProgress& progress) {
    resumed_losses.push_back(progress.training.loss);
  };
  std::string bytes;
  {
    std::unique_ptr<Aggregator> first = MakeAggregator(200);
    // 120 is not a multiple of progress_every, so the loss accumulated since
    // the last report travels in the checkpoint too.
    ASSERT_TRUE(first->RunUntil(120, record).ok());
    EXPECT_EQ(first->iterations_done(), 120);
    ASSERT_TRUE(first->Checkpoint().SerializeToString(&bytes));
  }
  aggregate::v1::AggregatorCheckpoint checkpoint;
  ASSERT_TRUE(checkpoint.ParseFromString(bytes));
  EXPECT_EQ(checkpoint.iteration(), 120);
  EXPECT_EQ(checkpoint.total_iterations(), 200);
  EXPECT_EQ(checkpoint.client_ids_size(), 2);
  EXPECT_GT(checkpoint.moments_size(), 0);

  std::unique_ptr<Aggregator> second = MakeAggregator(200);
  ASSERT_TRUE(second->Restore(checkpoint).ok());
  EXPECT_EQ(second->iterations_done(), 120);
  ASSERT_TRUE(second->Run(record).ok());
  EXPECT_EQ(second->iterations_done(), 200);

  ExpectSameWeights(straight->global_policy(), second->global_policy());
  EXPECT_EQ(resumed_losses, straight_losses);
  ASSERT_TRUE(straight->local_product().has_value());
  PolicyNet straight_policy = straight->global_policy();
  PolicyNet resumed_policy = second->global_policy();
  const double straight_tv = *ExactTotalVariation(
      straight_policy, *environment_, *straight->local_product());
  const double resumed_tv = *ExactTotalVariation(resumed_policy, *environment_,
                                                 *straight->local_product());
  EXPECT_EQ(resumed_tv, straight_tv);
  // The aggregation learned something, so the equality is not vacuous.
  std::unique_ptr<Aggregator> untrained = MakeAggregator(200);
  PolicyNet untrained_policy = untrained->global_policy();
  EXPECT_LT(straight_tv, *ExactTotalVariation(untrained_policy, *environment_,
                                              *straight->local_product()));
}

TEST_F(AggregatorCheckpointTest, TwoHundredAsTwiceOneHundred) {
  std::unique_ptr<Aggregator> straight = MakeAggregator(200);
  ASSERT_TRUE(straight->Run().ok());
  std::unique_ptr<Aggregator> first = MakeAggregator(200);
  ASSERT_TRUE(first->RunUntil(100).ok());
  const aggregate::v1::AggregatorCheckpoint checkpoint = first->Checkpoint();
  std::unique_ptr<Aggregator> second = MakeAggregator(200);
  ASSERT_TRUE(second->Restore(checkpoint).ok());
  ASSERT_TRUE(second->RunUntil(1000).ok());  // capped at the total
  EXPECT_EQ(second->iterations_done(), 200);
  ExpectSameWeights(straight->global_policy(), second->global_policy());
}

TEST_F(AggregatorCheckpointTest, RefusesACheckpointOfAnotherAggregation) {
  std::unique_ptr<Aggregator> first = MakeAggregator(100);
  ASSERT_TRUE(first->RunUntil(50).ok());
  const aggregate::v1::AggregatorCheckpoint checkpoint = first->Checkpoint();

  // Another seed, another length, other clients: FailedPrecondition.
  EXPECT_EQ(MakeAggregator(100, /*seed=*/10)->Restore(checkpoint).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(MakeAggregator(200)->Restore(checkpoint).code(),
            absl::StatusCode::kFailedPrecondition);
  aggregate::v1::AggregatorCheckpoint other_clients = checkpoint;
  other_clients.set_client_ids(1, "client-7");
  EXPECT_EQ(MakeAggregator(100)->Restore(other_clients).code(),
            absl::StatusCode::kFailedPrecondition);

  // Malformed parts: InvalidArgument, and the aggregator is left untouched.
  std::unique_ptr<Aggregator> target = MakeAggregator(100);
  PolicyNet before = ClonePolicy(target->global_policy());
  aggregate::v1::AggregatorCheckpoint bad_random = checkpoint;
  bad_random.set_random_state("short");
  EXPECT_EQ(target->Restore(bad_random).code(),
            absl::StatusCode::kInvalidArgument);
  aggregate::v1::AggregatorCheckpoint bad_moment = checkpoint;
  bad_moment.mutable_moments(0)->mutable_exp_avg()->add_shape(3);
  EXPECT_EQ(target->Restore(bad_moment).code(),
            absl::StatusCode::kInvalidArgument);
  aggregate::v1::AggregatorCheckpoint unknown = checkpoint;
  unknown.mutable_moments(0)->set_parameter("no_such_parameter");
  EXPECT_EQ(target->Restore(unknown).code(),
            absl::StatusCode::kInvalidArgument);
  aggregate::v1::AggregatorCheckpoint bad_policy = checkpoint;
  bad_policy.mutable_policy()->mutable_tensors(0)->set_data("x");
  EXPECT_EQ(target->Restore(bad_policy).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(target->iterations_done(), 0);
  ExpectSameWeights(before, target->global_policy());
  // ...and still takes the good one.
  EXPECT_TRUE(target->Restore(checkpoint).ok());
  EXPECT_EQ(target->iterations_done(), 50);
}

}  // namespace
}  // namespace epgfn
