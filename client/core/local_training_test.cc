#include "client/core/local_training.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/core/local_state.pb.h"
#include "client/core/round_statistics.h"
#include "client/core/test_spec.h"
#include "common/env/dag/bge_statistics.h"
#include "common/env/dag/dag.h"
#include "common/env/environment_registry.h"
#include "common/spec/spec_conversion.h"

namespace epgfn {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

v1::FederationSpec SmallSpec() {
  return SmallHypergridSpec("test", /*iterations=*/5, /*seed=*/3);
}

std::string TempDir(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  return std::string(root != nullptr ? root : "/tmp") + "/" + name;
}

LocalTrainingOptions Options(const std::string& state_dir) {
  LocalTrainingOptions options;
  options.reward = "client:index=1,count=2";
  options.state_dir = state_dir;
  options.diagnostics_trajectories = 64;
  return options;
}

TEST(LocalTrainingTest, OnlyFiniteDiagnosticsAreSendable) {
  v1::LocalDiagnostics diagnostics;
  diagnostics.set_alpha(0.2);
  diagnostics.set_beta(0.5);
  diagnostics.set_log_z_estimate(-3.0);
  diagnostics.set_num_trajectories(64);
  EXPECT_EQ(DiagnosticsUnsendable(diagnostics), "");

  v1::LocalDiagnostics overflowed = diagnostics;
  overflowed.set_beta(std::numeric_limits<double>::infinity());
  EXPECT_THAT(DiagnosticsUnsendable(overflowed), HasSubstr("beta is inf"));
  v1::LocalDiagnostics undefined = diagnostics;
  undefined.set_alpha(std::nan(""));
  undefined.set_log_z_estimate(-std::numeric_limits<double>::infinity());
  EXPECT_THAT(DiagnosticsUnsendable(undefined),
              AllOf(HasSubstr("alpha is nan"), HasSubstr("log_z_hat is -inf")));
  v1::LocalDiagnostics negative = diagnostics;
  negative.set_num_trajectories(-1);
  EXPECT_THAT(DiagnosticsUnsendable(negative),
              HasSubstr("num_trajectories is -1"));
}

TEST(LocalTrainingTest, TrainsPersistsAndReusesOnRestart) {
  const v1::FederationSpec spec = SmallSpec();
  const std::string digest = FederationSpecDigest(spec);
  const std::string dir = TempDir("reuse");
  int progress_calls = 0;
  absl::StatusOr<LocalTrainingResult> first = TrainOrReuseLocalModel(
      spec, digest, Options(dir),
      [&](const LocalTrainingProgress&) { ++progress_calls; });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->reused);
  EXPECT_EQ(first->round, 1);
  EXPECT_GT(progress_calls, 0);
  EXPECT_EQ(first->diagnostics.num_trajectories(), 64);
  EXPECT_EQ(first->model_path, LocalModelPath(dir));
  EXPECT_GT(first->weights.tensors_size(), 0);

  // A restarted client: same spec, reward and options -> no training.
  progress_calls = 0;
  absl::StatusOr<LocalTrainingResult> second = TrainOrReuseLocalModel(
      spec, digest, Options(dir),
      [&](const LocalTrainingProgress&) { ++progress_calls; });
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(progress_calls, 0);
  EXPECT_EQ(second->round, 1);
  // Field-wise: map fields (the environment's params) have no canonical
  // serialized order.
  using google::protobuf::util::MessageDifferencer;
  EXPECT_TRUE(MessageDifferencer::Equals(second->weights, first->weights));
  EXPECT_TRUE(
      MessageDifferencer::Equals(second->diagnostics, first->diagnostics));
}

TEST(LocalTrainingTest, RetrainsForAnotherSpecOrReward) {
  v1::FederationSpec spec = SmallSpec();
  const std::string dir = TempDir("retrain");
  ASSERT_TRUE(
      TrainOrReuseLocalModel(spec, FederationSpecDigest(spec), Options(dir))
          .ok());

  // Another reward for the same federation: a new, newer round.
  LocalTrainingOptions other_reward = Options(dir);
  other_reward.reward = "client:index=0,count=2";
  absl::StatusOr<LocalTrainingResult> retrained =
      TrainOrReuseLocalModel(spec, FederationSpecDigest(spec), other_reward);
  ASSERT_TRUE(retrained.ok()) << retrained.status();
  EXPECT_FALSE(retrained->reused);
  EXPECT_EQ(retrained->round, 2);

  // Another federation: round numbering starts over.
  spec.set_name("another federation");
  absl::StatusOr<LocalTrainingResult> fresh =
      TrainOrReuseLocalModel(spec, FederationSpecDigest(spec), other_reward);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->reused);
  EXPECT_EQ(fresh->round, 1);
}

TEST(LocalTrainingTest, DoesNotTrustATamperedModelFile) {
  const v1::FederationSpec spec = SmallSpec();
  const std::string digest = FederationSpecDigest(spec);
  const std::string dir = TempDir("tampered");
  ASSERT_TRUE(TrainOrReuseLocalModel(spec, digest, Options(dir)).ok());
  FILE* file = std::fopen(LocalModelPath(dir).c_str(), "ab");
  ASSERT_NE(file, nullptr);
  std::fputs("junk", file);
  std::fclose(file);
  absl::StatusOr<LocalTrainingResult> again =
      TrainOrReuseLocalModel(spec, digest, Options(dir));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->reused);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LocalTrainingTest, StreamingUpdatesKeepEveryRoundResumeAndRollBack) {
  using google::protobuf::util::MessageDifferencer;
  const v1::FederationSpec spec = SmallSpec();
  const std::string digest = FederationSpecDigest(spec);
  const std::string dir = TempDir("streaming");
  LocalTrainingOptions options = Options(dir);
  const std::string first_reward = "client:count=2,index=1";  // canonical

  // Nothing to update yet.
  options.update_reward = "client:index=0,count=2";
  EXPECT_EQ(TrainOrReuseStreamingUpdate(spec, digest, options).status().code(),
            absl::StatusCode::kFailedPrecondition);

  options.update_reward.clear();
  absl::StatusOr<LocalTrainingResult> first =
      TrainOrReuseLocalModel(spec, digest, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->base_round, 0);
  EXPECT_EQ(first->data, std::vector<std::string>{first_reward});

  // New data: round 2, trained from round 1, which stays on disk.
  options.update_reward = "client:index=0,count=2";
  int progress_calls = 0;
  absl::StatusOr<LocalTrainingResult> update = TrainOrReuseStreamingUpdate(
      spec, digest, options,
      [&](const LocalTrainingProgress&) { ++progress_calls; });
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_FALSE(update->reused);
  EXPECT_GT(progress_calls, 0);
  EXPECT_EQ(update->round, 2);
  EXPECT_EQ(update->base_round, 1);
  EXPECT_EQ(update->data,
            (std::vector<std::string>{first_reward, "client:count=2,index=0"}));
  EXPECT_FALSE(MessageDifferencer::Equals(update->weights, first->weights));
  EXPECT_EQ(update->diagnostics.num_trajectories(), 64);
  for (int64_t round : {1, 2}) {
    EXPECT_TRUE(std::filesystem::exists(LocalRoundModelPath(dir, round)));
    EXPECT_TRUE(std::filesystem::exists(LocalRoundRecordPath(dir, round)));
    // A hypergrid reward keeps no stream statistics.
    EXPECT_FALSE(std::filesystem::exists(LocalRoundStatisticsPath(dir, round)));
  }
  // The record says what the round contains.
  const std::string record = ReadAll(LocalRoundRecordPath(dir, 2));
  EXPECT_NE(record.find("base_round: 1"), std::string::npos) << record;
  EXPECT_NE(record.find("data: \"client:count=2,index=0\""), std::string::npos)
      << record;

  // Restarted with the same update (say it crashed before uploading): the
  // trained update is reused, not retrained.
  progress_calls = 0;
  absl::StatusOr<LocalTrainingResult> resumed = TrainOrReuseStreamingUpdate(
      spec, digest, options,
      [&](const LocalTrainingProgress&) { ++progress_calls; });
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->reused);
  EXPECT_EQ(progress_calls, 0);
  EXPECT_EQ(resumed->round, 2);
  EXPECT_EQ(resumed->base_round, 1);
  EXPECT_TRUE(MessageDifferencer::Equals(resumed->weights, update->weights));
  EXPECT_EQ(resumed->ignored_update_options, "");
  EXPECT_NE(record.find("update_options: \"schedule=cosine floor=0.1"),
            std::string::npos)
      << record;
  // Restarted with the same data but another schedule: still reused (the
  // server may hold it, and updating it would count the data twice), and
  // the result says what was ignored and how to retrain.
  LocalTrainingOptions constant = options;
  constant.update_learning_rate_schedule = LearningRateSchedule::kConstant;
  absl::StatusOr<LocalTrainingResult> other =
      TrainOrReuseStreamingUpdate(spec, digest, constant);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_TRUE(other->reused);
  EXPECT_TRUE(MessageDifferencer::Equals(other->weights, update->weights));
  EXPECT_NE(other->ignored_update_options.find("not schedule=constant"),
            std::string::npos)
      << other->ignored_update_options;
  EXPECT_NE(other->ignored_update_options.find("--rollback_to_round=1"),
            std::string::npos)
      << other->ignored_update_options;
  // Restarted without --update_reward: the latest round is current.
  LocalTrainingOptions plain = Options(dir);
  absl::StatusOr<LocalTrainingResult> restarted =
      TrainOrReuseLocalModel(spec, digest, plain);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_TRUE(restarted->reused);
  EXPECT_EQ(restarted->round, 2);

  // A second update builds on round 2.
  options.update_reward = "client:index=1,count=2";
  absl::StatusOr<LocalTrainingResult> second =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->round, 3);
  EXPECT_EQ(second->base_round, 2);
  EXPECT_EQ(second->data.size(), 3u);

  // Rolled back to round 2: a new round 4 holding round 2's model and data,
  // not an update of anything; asking again changes nothing.
  absl::StatusOr<LocalTrainingResult> rolled =
      RollBackLocalModel(spec, digest, dir, 2);
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->round, 4);
  EXPECT_EQ(rolled->base_round, 0);
  EXPECT_EQ(rolled->data, update->data);
  EXPECT_TRUE(MessageDifferencer::Equals(rolled->weights, update->weights));
  absl::StatusOr<LocalTrainingResult> again =
      RollBackLocalModel(spec, digest, dir, 2);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->round, 4);
  EXPECT_EQ(RollBackLocalModel(spec, digest, dir, 9).status().code(),
            absl::StatusCode::kNotFound);
  // The next update is based on the rollback.
  options.update_reward = "client:index=0,count=2";
  absl::StatusOr<LocalTrainingResult> after =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->round, 5);
  EXPECT_EQ(after->base_round, 4);
  EXPECT_EQ(after->data.size(), 3u);
  for (int64_t round = 1; round <= 5; ++round) {
    EXPECT_FALSE(std::filesystem::exists(LocalRoundStatisticsPath(dir, round)));
  }
  EXPECT_EQ(ReadAll(LocalRoundRecordPath(dir, 5)).find("statistics_sha256"),
            std::string::npos);
}

// A 3-node DAG federation with the BGe reward: 60 synthetic rows in three
// blocks of 20 (round 1, then two updates).
v1::FederationSpec DagSpec() {
  v1::FederationSpec spec = SmallSpec();
  spec.mutable_environment()->set_kind("dag");
  spec.mutable_environment()->mutable_params()->clear();
  (*spec.mutable_environment()->mutable_params())["nodes"] = "3";
  spec.add_client_ids("client-2");
  return spec;
}

constexpr char kAllRows[] = "bge:synthetic=1,samples=60,data_seed=5";

std::string Block(int t) {
  return absl::StrCat(kAllRows, ",count=3,index=", t);
}

client::v1::LocalModelRecord RoundRecord(const std::string& dir,
                                         int64_t round) {
  client::v1::LocalModelRecord record;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      ReadAll(LocalRoundRecordPath(dir, round)), &record));
  return record;
}

std::string WriteStatistics(const DagEnvironment& dag,
                            const std::string& reward,
                            const std::string& path) {
  auto statistics = DagStreamStatistics(dag, *RewardConfig::Parse(reward));
  EXPECT_TRUE(statistics.ok()) << statistics.status();
  EXPECT_TRUE(WriteBgeStatistics(path, *statistics).ok());
  return path;
}

at::Tensor LogLikelihood(const Environment& environment,
                         const RewardConfig& config, bool first) {
  auto reward =
      first ? MakeStreamingInitialReward(environment, config, RewardContext{3})
            : MakeStreamingLikelihood(environment, config, RewardContext{3});
  EXPECT_TRUE(reward.ok()) << reward.status();
  return (*reward)->LogRewardFloat64(*environment.EnumerateTerminalStates());
}

// The client keeps the BGe statistics of every row with each round, so the
// operator passes only the new block; an explicit given= must match them.
// A streaming update trains with the options' schedule: the default is the
// cosine decay to a tenth (the same weights as asking for it), and a
// constant step gives other weights.
TEST(LocalTrainingTest, StreamingUpdatesDecayTheLearningRateByDefault) {
  using google::protobuf::util::MessageDifferencer;
  const v1::FederationSpec spec = SmallSpec();
  const std::string digest = FederationSpecDigest(spec);
  auto updated = [&](const std::string& name,
                     const LocalTrainingOptions& update_options) {
    LocalTrainingOptions options = update_options;
    options.state_dir = TempDir(name);
    options.update_reward.clear();
    EXPECT_TRUE(TrainOrReuseLocalModel(spec, digest, options).ok());
    options.update_reward = "client:index=0,count=2";
    absl::StatusOr<LocalTrainingResult> update =
        TrainOrReuseStreamingUpdate(spec, digest, options);
    EXPECT_TRUE(update.ok()) << update.status();
    return update.ok() ? update->weights : v1::ModelWeights();
  };
  const LocalTrainingOptions defaults = Options("");
  EXPECT_EQ(defaults.update_learning_rate_schedule,
            LearningRateSchedule::kCosine);
  LocalTrainingOptions cosine = defaults;
  cosine.update_learning_rate_schedule = LearningRateSchedule::kCosine;
  cosine.update_learning_rate_floor = 0.1;
  LocalTrainingOptions constant = defaults;
  constant.update_learning_rate_schedule = LearningRateSchedule::kConstant;
  const v1::ModelWeights by_default = updated("schedule_default", defaults);
  EXPECT_TRUE(MessageDifferencer::Equals(by_default,
                                         updated("schedule_cosine", cosine)));
  EXPECT_FALSE(MessageDifferencer::Equals(
      by_default, updated("schedule_constant", constant)));
}

TEST(LocalTrainingTest, DagUpdatesKeepTheBgeStatisticsOfEveryRow) {
  const v1::FederationSpec spec = DagSpec();
  const std::string digest = FederationSpecDigest(spec);
  const std::string dir = TempDir("bge_stream");
  LocalTrainingOptions options = Options(dir);
  options.reward = Block(0);
  ASSERT_TRUE(TrainOrReuseLocalModel(spec, digest, options).ok());
  auto environment =
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment()));
  ASSERT_TRUE(environment.ok()) << environment.status();
  const auto& dag = dynamic_cast<const DagEnvironment&>(**environment);
  EXPECT_EQ(ReadBgeStatistics(LocalRoundStatisticsPath(dir, 1))->rows, 20);

  // given= naming other statistics is refused before anything is trained;
  // naming the same ones (as write_bge_statistics writes them) is honoured.
  const std::string other =
      WriteStatistics(dag, Block(1), dir + "/other.stats");
  options.update_reward = Block(1) + ",given=" + other;
  absl::StatusOr<LocalTrainingResult> refused =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(other), std::string::npos);
  EXPECT_NE(refused.status().message().find(LocalRoundStatisticsPath(dir, 1)),
            std::string::npos)
      << refused.status();
  EXPECT_FALSE(std::filesystem::exists(LocalRoundRecordPath(dir, 2)));
  const std::string manual0 =
      WriteStatistics(dag, Block(0), dir + "/manual_0.stats");
  options.update_reward = Block(1) + ",given=" + manual0;
  ASSERT_TRUE(TrainOrReuseStreamingUpdate(spec, digest, options).ok());
  // The second update names only its block.
  options.update_reward = Block(2);
  absl::StatusOr<LocalTrainingResult> third =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_EQ(third->round, 3);

  // Round 3 keeps the statistics of all 60 rows at once.
  auto all = DagStreamStatistics(dag, *RewardConfig::Parse(kAllRows));
  auto kept = ReadBgeStatistics(LocalRoundStatisticsPath(dir, 3));
  ASSERT_TRUE(all.ok() && kept.ok()) << kept.status();
  EXPECT_EQ(kept->names, all->names);
  EXPECT_EQ(kept->rows, 60);
  ASSERT_EQ(kept->mean.size(), all->mean.size());
  ASSERT_EQ(kept->scatter.size(), all->scatter.size());
  for (size_t i = 0; i < all->mean.size(); ++i) {
    EXPECT_NEAR(kept->mean[i], all->mean[i], 1e-12);
  }
  for (size_t i = 0; i < all->scatter.size(); ++i) {
    EXPECT_NEAR(kept->scatter[i], all->scatter[i], 1e-12);
  }

  // Update 2's reward is the one the explicit given= form gives, and the
  // blocks' rewards add up to the all-rows reward on every DAG.
  auto conditioned = ConditionOnBaseStatistics(
      dag, *RewardConfig::Parse(Block(2)), dir, RoundRecord(dir, 2));
  ASSERT_TRUE(conditioned.ok()) << conditioned.status();
  const std::string manual1 = WriteStatistics(
      dag, Block(1) + ",given=" + manual0, dir + "/manual_1.stats");
  const at::Tensor update2 = LogLikelihood(dag, *conditioned, false);
  EXPECT_LE(
      (update2 -
       LogLikelihood(dag, *RewardConfig::Parse(Block(2) + ",given=" + manual1),
                     false))
          .abs()
          .max()
          .item<double>(),
      1e-9);
  auto conditioned1 = ConditionOnBaseStatistics(
      dag, *RewardConfig::Parse(Block(1)), dir, RoundRecord(dir, 1));
  ASSERT_TRUE(conditioned1.ok()) << conditioned1.status();
  const at::Tensor stream =
      LogLikelihood(dag, *RewardConfig::Parse(Block(0)), true) +
      LogLikelihood(dag, *conditioned1, false) + update2;
  const at::Tensor expected =
      LogLikelihood(dag, *RewardConfig::Parse(kAllRows), true);
  EXPECT_LE((stream - expected).abs().max().item<double>(), 1e-9);

  // A rollback to round 2 makes its statistics the next update's base.
  absl::StatusOr<LocalTrainingResult> rolled =
      RollBackLocalModel(spec, digest, dir, 2);
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  ASSERT_EQ(rolled->round, 4);
  EXPECT_EQ(ReadAll(LocalRoundStatisticsPath(dir, 4)),
            ReadAll(LocalRoundStatisticsPath(dir, 2)));
  auto after = ConditionOnBaseStatistics(dag, *RewardConfig::Parse(Block(2)),
                                         dir, RoundRecord(dir, 4));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->params.GetString("given", ""),
            LocalRoundStatisticsPath(dir, 4));
}

// A tempered base reward: an update that names no temperature inherits it
// (and a restart naming it explicitly is the same update); another
// temperature is refused before anything is trained.
TEST(LocalTrainingTest, StreamingUpdatesInheritTheBaseTemperature) {
  const v1::FederationSpec spec = SmallSpec();
  const std::string digest = FederationSpecDigest(spec);
  const std::string dir = TempDir("tempered");
  LocalTrainingOptions options = Options(dir);
  options.reward = "client:index=1,count=2,temperature=4";
  ASSERT_TRUE(TrainOrReuseLocalModel(spec, digest, options).ok());

  options.update_reward = "client:index=0,count=2,temperature=2";
  absl::StatusOr<LocalTrainingResult> refused =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(refused.status().message());
  EXPECT_NE(message.find("temperature 2 but the base reward"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("has temperature 4"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(LocalRoundRecordPath(dir, 2)));

  options.update_reward = "client:index=0,count=2";
  absl::StatusOr<LocalTrainingResult> update =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_EQ(update->round, 2);
  EXPECT_EQ(update->data.back(), "client:count=2,index=0,temperature=4");

  // Restarted with the temperature spelled out: the same update, reused.
  options.update_reward = "client:index=0,count=2,temperature=4.0";
  absl::StatusOr<LocalTrainingResult> same =
      TrainOrReuseStreamingUpdate(spec, digest, options);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->reused);
  EXPECT_EQ(same->round, 2);

  // An untempered base refuses a tempered update (the default is 1).
  const std::string plain_dir = TempDir("untempered");
  LocalTrainingOptions plain = Options(plain_dir);
  ASSERT_TRUE(TrainOrReuseLocalModel(spec, digest, plain).ok());
  plain.update_reward = "client:index=0,count=2,temperature=20";
  absl::StatusOr<LocalTrainingResult> sharper =
      TrainOrReuseStreamingUpdate(spec, digest, plain);
  EXPECT_EQ(sharper.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(sharper.status().message().find("has temperature 1"),
            std::string::npos)
      << sharper.status();
}

TEST(LocalTrainingTest, RefusesAnUnknownReward) {
  const v1::FederationSpec spec = SmallSpec();
  LocalTrainingOptions options = Options("");
  options.reward = "no_such_reward";
  EXPECT_FALSE(
      TrainOrReuseLocalModel(spec, FederationSpecDigest(spec), options).ok());
}

}  // namespace
}  // namespace epgfn
