// Issue 13's evidence: three successive streaming updates on three
// environments, each followed by the exact TV (enumeration against the
// float64 reward of every block so far) of the updated model. Training is
// real and seeded, so each case is deterministic. The DAG stream is exact:
// each block's BGe likelihood is conditioned on the statistics of the blocks
// before it (`given`), so the target after t blocks is the BGe posterior of
// all their rows, which the test also builds directly from those rows.
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/env/dag/bge_statistics.h"
#include "common/env/dag/dag.h"
#include "common/env/dag/data.h"
#include "common/env/environment_registry.h"
#include "common/eval/exact_distribution.h"
#include "common/train/streaming_target.h"
#include "common/train/streaming_update.h"
#include "common/train/trainer.h"
#include "common/train/trajectory_target.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr int kBlocks = 4;  // the first model's block plus three updates
constexpr double kMaxTv = 0.05;

struct StreamCase {
  std::string name;
  std::string environment;
  // Block i's reward is `reward_kind` + ":index=i,count=4" + `reward_params`.
  std::string reward_kind;
  std::string reward_params;
  int64_t first_iterations;
  int64_t update_iterations;
  // The final TV is set by the noise of the last Adam steps more than by the
  // number of iterations (phylo: 2500/2000 iterations at batch 64, lr 1e-3
  // ended further away, TV 0.067, than 2000/1500, TV 0.052), so the harder
  // case takes larger batches at a smaller step.
  int64_t batch_size;
  double learning_rate;
  // dag only: block t > 0 is conditioned on the BGe statistics of blocks
  // 0..t-1 (`given`, written by DagStreamStatistics after block t - 1), and
  // each model is also compared with a BGe reward of a CSV file of all rows
  // so far of these synthetic data (SampleLinearGaussianNetwork arguments).
  bool bge_given = false;
  int64_t rows = 0;
  double edge_probability = 0.0;
  int64_t data_seed = 0;
};

RewardConfig BlockConfig(const StreamCase& c, int index) {
  return *RewardConfig::Parse(absl::StrCat(
      c.reward_kind, ":index=", index, ",count=", kBlocks, c.reward_params));
}

std::string TempPath(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  return absl::StrCat(root != nullptr ? root : "/tmp", "/", name);
}

// The BGe likelihood of the first `rows` rows of the case's data, read back
// from a CSV file (17 significant digits: the same doubles).
absl::StatusOr<std::unique_ptr<LogReward>> RowsSoFarReward(
    const StreamCase& c, const Environment& environment, int64_t rows) {
  absl::StatusOr<LinearGaussianNetwork> network = SampleLinearGaussianNetwork(
      dynamic_cast<const DagEnvironment&>(environment).nodes(),
      c.edge_probability, c.rows, c.data_seed);
  if (!network.ok()) return network.status();
  const Dataset& data = network->data;
  std::string csv = absl::StrCat(absl::StrJoin(data.names, ","), "\n");
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < data.columns(); ++k) {
      absl::StrAppend(&csv, k == 0 ? "" : ",",
                      absl::StrFormat("%.17g", data.at(r, k)));
    }
    absl::StrAppend(&csv, "\n");
  }
  const std::string path =
      TempPath(absl::StrCat(c.name, "_rows_", rows, ".csv"));
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return absl::InternalError("cannot write " + path);
  std::fputs(csv.c_str(), file);
  std::fclose(file);
  return MakeSplitLogReward(
      environment, *RewardConfig::Parse(absl::StrCat("bge:data=", path)));
}

// The model's TV to the BGe posterior of the first `rows` rows, checked
// first to be the stream's target `so_far` (to 1e-9 per DAG).
void ExpectNearTheRowsSoFar(const StreamCase& c, const Environment& environment,
                            PolicyNet& model,
                            const TerminalDistribution& so_far, int64_t rows) {
  auto direct = RowsSoFarReward(c, environment, rows);
  ASSERT_TRUE(direct.ok()) << direct.status();
  auto posterior = ExactTargetDistribution(environment, **direct);
  ASSERT_TRUE(posterior.ok()) << posterior.status();
  const double target_gap = (posterior->probabilities - so_far.probabilities)
                                .abs()
                                .max()
                                .item<double>();
  EXPECT_LE(target_gap, 1e-9) << rows << " rows";
  auto tv = ExactTotalVariation(model, environment, *posterior);
  ASSERT_TRUE(tv.ok()) << tv.status();
  std::printf(
      "%s: TV to the BGe posterior of all %lld rows so far %.4f (that "
      "posterior is the stream's target to %.1e)\n",
      c.name.c_str(), static_cast<long long>(rows), *tv, target_gap);
  EXPECT_LE(*tv, kMaxTv) << rows << " rows";
}

PolicyArchitecture SmallArchitecture() {
  PolicyArchitecture architecture;
  architecture.hidden_width = 128;
  return architecture;
}

TrainingOptions Training(int64_t iterations, uint64_t seed,
                         int64_t batch_size = 64, double learning_rate = 1e-3) {
  TrainingOptions options;
  options.iterations = iterations;
  options.batch_size = batch_size;
  options.learning_rate = learning_rate;
  options.exploration.epsilon = 0.05;
  options.seed = seed;
  options.progress_every = iterations;
  return options;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// How the updates of one stream are trained, beside the case's budget.
struct UpdateVariant {
  std::string name;  // empty: the default options
  LearningRateSchedule schedule = LearningRateSchedule::kConstant;
  double learning_rate_floor = 0.1;
  double replay_fraction = 0.0;
};

// Trains the case's first model, then, for each variant, three updates from
// it, checking the exact TV of each model against kMaxTv.
void RunStream(const StreamCase& c,
               const std::vector<UpdateVariant>& variants) {
  torch::set_num_threads(1);
  const auto start = std::chrono::steady_clock::now();
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(c.environment));
  ASSERT_TRUE(environment.ok()) << environment.status();

  // Block 0 carries the prior; later blocks only their likelihood. Their sum
  // is the log-posterior of every block so far.
  std::vector<std::unique_ptr<LogReward>> blocks;
  std::string given;  // the statistics of the blocks so far (dag)
  for (int i = 0; i < kBlocks; ++i) {
    RewardConfig config = BlockConfig(c, i);
    if (!given.empty()) config.params.Set("given", given);
    auto reward = i == 0 ? MakeStreamingInitialReward(**environment, config,
                                                      RewardContext{1})
                         : MakeStreamingLikelihood(**environment, config,
                                                   RewardContext{1});
    ASSERT_TRUE(reward.ok()) << reward.status();
    if (c.bge_given) {
      auto statistics = DagStreamStatistics(
          dynamic_cast<const DagEnvironment&>(**environment), config);
      ASSERT_TRUE(statistics.ok()) << statistics.status();
      given = TempPath(absl::StrCat(c.name, "_blocks_0_to_", i, ".stats"));
      ASSERT_TRUE(WriteBgeStatistics(given, *statistics).ok());
    }
    std::printf("%s block %d: %s\n", c.name.c_str(), i,
                (*reward)->Describe().c_str());
    blocks.push_back(std::move(reward).value());
  }

  PolicyNet model =
      *MakePolicy(**environment, SmallArchitecture(), 11, torch::kCPU);
  RewardTarget first_target(blocks[0].get());
  auto trainer = Trainer::Create(
      environment->get(), model, &first_target,
      Training(c.first_iterations, 21, c.batch_size, c.learning_rate));
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Run().ok());
  auto first_posterior = ExactTargetDistribution(**environment, *blocks[0]);
  ASSERT_TRUE(first_posterior.ok()) << first_posterior.status();
  auto first_tv = ExactTotalVariation(model, **environment, *first_posterior);
  ASSERT_TRUE(first_tv.ok()) << first_tv.status();
  std::printf("%s first model (block 0, %lld iterations): TV %.4f (%.1f s)\n",
              c.name.c_str(), static_cast<long long>(c.first_iterations),
              *first_tv, Seconds(start));
  EXPECT_LE(*first_tv, kMaxTv);
  if (c.bge_given) {
    ExpectNearTheRowsSoFar(c, **environment, model, *first_posterior,
                           c.rows / kBlocks);
  }

  const PolicyNet first_model = model;
  for (const UpdateVariant& variant : variants) {
    model = first_model;
    const std::string name =
        variant.name.empty() ? c.name
                             : absl::StrCat(c.name, " (", variant.name, ")");
    std::vector<const LogReward*> so_far = {blocks[0].get()};
    for (int t = 1; t < kBlocks; ++t) {
      so_far.push_back(blocks[t].get());
      ProductOfRewards all_data(so_far);
      StreamingUpdateOptions options;
      options.training =
          Training(c.update_iterations, 30 + t, c.batch_size, c.learning_rate);
      options.diagnostics_trajectories = 1024;
      options.training.learning_rate_schedule = variant.schedule;
      options.training.learning_rate_floor = variant.learning_rate_floor;
      options.replay_fraction = variant.replay_fraction;
      auto update =
          TrainStreamingUpdate(**environment, model, *blocks[t], options,
                               torch::kCPU, nullptr, &all_data);
      ASSERT_TRUE(update.ok()) << update.status();
      auto posterior = ExactTargetDistribution(**environment, all_data);
      ASSERT_TRUE(posterior.ok()) << posterior.status();
      auto tv = ExactTotalVariation(update->policy, **environment, *posterior);
      ASSERT_TRUE(tv.ok()) << tv.status();
      const StreamingUpdateDiagnostics& d = update->diagnostics;
      std::printf(
          "%s update %d (blocks 0..%d, %lld iterations, %.1f s): TV to the "
          "exact posterior %.4f; loss %.4f alpha %.3f beta %.3f FCS %.4f; max "
          "posterior probability %.4f\n",
          name.c_str(), t, t, static_cast<long long>(c.update_iterations),
          update->training_seconds, *tv, d.final_loss, d.alpha, d.beta,
          d.fcs.value_or(-1), posterior->probabilities.max().item<double>());
      EXPECT_LE(*tv, kMaxTv) << name << " update " << t;
      model = update->policy;
      if (c.bge_given) {
        ExpectNearTheRowsSoFar(c, **environment, model, *posterior,
                               c.rows / kBlocks * (t + 1));
      }
    }
  }
  std::printf("%s total %.1f s\n", c.name.c_str(), Seconds(start));
}

class StreamingUpdateAccuracyTest
    : public ::testing::TestWithParam<StreamCase> {};

TEST_P(StreamingUpdateAccuracyTest, EachUpdateReachesThePosteriorSoFar) {
  RunStream(GetParam(), {UpdateVariant{}});
}

std::string CaseName(const ::testing::TestParamInfo<StreamCase>& info) {
  return info.param.name;
}

// A new corner factor of the hypergrid's client reward per block.
StreamCase HypergridCase() {
  return StreamCase{
      "hypergrid", "hypergrid:dim=2,side=8", "client", "", 1000, 1000, 64,
      1e-3};
}

constexpr char kDagData[] = "synthetic=1,samples=60,edge_prob=0.5,data_seed=2";

INSTANTIATE_TEST_SUITE_P(
    Streams, StreamingUpdateAccuracyTest,
    ::testing::Values(
        HypergridCase(),
        // Four blocks of 15 rows each of one synthetic dataset, each
        // conditioned on the statistics of the blocks before it. At batch
        // 64 the result hung on rounding: lr 1e-3 ended at TV 0.075 after
        // update 3, lr 5e-4 at 0.033 with one sampler and 0.059 with the
        // 6PS on-policy path (same trajectories, last-bit differences in
        // the gradients). Batch 128 averages that noise away.
        StreamCase{"dag", "dag:nodes=4", "bge", absl::StrCat(",", kDagData),
                   1500, 1500, 128, 5e-4, /*bge_given=*/true, 60, 0.5, 2},
        // Four contiguous blocks of the alignment's sites (JC69 sites are
        // independent given the tree, so the blocks factor exactly).
        StreamCase{"phylo",
                   "phylo:taxa=Tarsius_syrichta;Lemur_catta;Homo_sapiens;Pan;"
                   "Gorilla;Pongo",
                   "jc69",
                   ",alignment=common/env/phylo/testdata/primates.nex,split="
                   "contiguous,temperature=20",
                   2000, 1500, 128, 5e-4}),
    CaseName);

// The update's options (issue 13, session 10) keep the bound on the
// hypergrid stream: a cosine learning-rate decay to a tenth with a quarter
// of each batch replayed from the frozen previous model (together, to keep
// the test to one stream's cost; OffIsThePlainTrainerBitForBit shows that
// the schedule acts, the bench measures each option alone).
TEST(StreamingUpdateOptionsTest, LearningRateDecayAndReplayKeepTheBound) {
  UpdateVariant both;
  both.name = "cosine lr decay to 0.1, replay 0.25";
  both.schedule = LearningRateSchedule::kCosine;
  both.replay_fraction = 0.25;
  RunStream(HypergridCase(), {both});
}

// The update is a plain Trainer on the streaming target of a frozen copy:
// with the default options, and with a schedule that stays at 1 (a linear
// decay to a floor of 1), it takes the very steps of one written out.
TEST(StreamingUpdateOptionsTest, OffIsThePlainTrainerBitForBit) {
  torch::set_num_threads(1);
  auto environment =
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=8"));
  ASSERT_TRUE(environment.ok()) << environment.status();
  auto likelihood = MakeStreamingLikelihood(
      **environment, *RewardConfig::Parse("client:index=1,count=4"), {1});
  ASSERT_TRUE(likelihood.ok()) << likelihood.status();
  PolicyNet previous =
      *MakePolicy(**environment, SmallArchitecture(), 11, torch::kCPU);
  const TrainingOptions training = Training(50, 31);

  // Today's update, written out: a Trainer on a copy of the previous model
  // against the streaming target of a frozen copy.
  PolicyNet frozen = ClonePolicy(previous);
  for (torch::Tensor& p : frozen->parameters()) p.set_requires_grad(false);
  PolicyNet expected = ClonePolicy(previous);
  expected->train();
  StreamingTarget target(environment->get(), frozen, likelihood->get());
  auto trainer =
      Trainer::Create(environment->get(), expected, &target, training);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Run().ok());

  StreamingUpdateOptions plain;
  plain.training = training;
  plain.diagnostics_trajectories = 16;
  StreamingUpdateOptions held = plain;
  held.training.learning_rate_schedule = LearningRateSchedule::kLinear;
  held.training.learning_rate_floor = 1.0;
  StreamingUpdateOptions decayed = plain;
  decayed.training.learning_rate_schedule = LearningRateSchedule::kLinear;
  for (const StreamingUpdateOptions* options : {&plain, &held, &decayed}) {
    auto update = TrainStreamingUpdate(**environment, previous, **likelihood,
                                       *options, torch::kCPU);
    ASSERT_TRUE(update.ok()) << update.status();
    auto got = update->policy->named_parameters();
    bool all_equal = true;
    for (const auto& item : expected->named_parameters()) {
      all_equal = all_equal && torch::equal(item.value(), got[item.key()]);
    }
    // The decayed run is the control: it must differ, or the comparison
    // could not see a change.
    EXPECT_EQ(all_equal, options != &decayed);
  }
}

TEST(StreamingUpdateOptionsTest, ValidateRejectsBadOptions) {
  StreamingUpdateOptions options;
  options.training.batch_size = 64;
  options.replay_fraction = 0.25;
  EXPECT_TRUE(options.Validate().ok());
  options.replay_fraction = 1.0;
  EXPECT_FALSE(options.Validate().ok());
  options.replay_fraction = 0.01;  // rounds to 1 replayed trajectory
  EXPECT_FALSE(options.Validate().ok());
  options.replay_fraction = 0.0;
  options.training.learning_rate_floor = 0.0;
  EXPECT_FALSE(options.Validate().ok());
  // Clipping composes with a schedule and replay (one loop, the Trainer's).
  options.training.learning_rate_floor = 0.1;
  options.training.max_gradient_norm = 10;
  options.training.learning_rate_schedule = LearningRateSchedule::kCosine;
  options.replay_fraction = 0.25;
  EXPECT_TRUE(options.Validate().ok());
}

// The negative control: the new block's likelihood alone, learned well from
// scratch, is far from the posterior of all blocks so far; the streaming
// target's previous-model term is what carries the old data.
TEST(StreamingUpdateAccuracyTest, TheNewLikelihoodAloneMissesThePosterior) {
  torch::set_num_threads(1);
  auto environment =
      MakeEnvironment(*EnvironmentConfig::Parse("hypergrid:dim=2,side=8"));
  ASSERT_TRUE(environment.ok()) << environment.status();
  auto first = MakeStreamingInitialReward(
      **environment, *RewardConfig::Parse("client:index=0,count=4"), {1});
  auto second = MakeStreamingLikelihood(
      **environment, *RewardConfig::Parse("client:index=1,count=4"), {1});
  ASSERT_TRUE(first.ok() && second.ok());
  PolicyNet policy =
      *MakePolicy(**environment, SmallArchitecture(), 11, torch::kCPU);
  RewardTarget target(second->get());
  auto trainer =
      Trainer::Create(environment->get(), policy, &target, Training(1000, 31));
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE((*trainer)->Run().ok());
  auto own = ExactTargetDistribution(**environment, **second);
  ProductOfRewards both({first->get(), second->get()});
  auto posterior = ExactTargetDistribution(**environment, both);
  ASSERT_TRUE(own.ok() && posterior.ok());
  auto own_tv = ExactTotalVariation(policy, **environment, *own);
  auto posterior_tv = ExactTotalVariation(policy, **environment, *posterior);
  ASSERT_TRUE(own_tv.ok() && posterior_tv.ok());
  std::printf(
      "negative control (hypergrid, block 1's likelihood alone): TV to its "
      "own target %.4f, TV to the posterior of blocks 0..1 %.4f\n",
      *own_tv, *posterior_tv);
  EXPECT_LE(*own_tv, kMaxTv);        // it learned what it was given ...
  EXPECT_GT(*posterior_tv, kMaxTv);  // ... which is not the posterior
}

}  // namespace
}  // namespace epgfn
