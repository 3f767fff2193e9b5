#include "common/aggregate/aggregate_flow_consistency.h"

#include <torch/types.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "common/aggregate/aggregator.h"
#include "common/aggregate/federation_testing.h"
#include "common/eval/exact_distribution.h"
#include "common/eval/terminal_probability.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

// Two clients on a 6x6 hypergrid, trained for real, and their aggregate:
// small enough to enumerate, so every estimate has an exact counterpart.
class AggregateFlowConsistencyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    federation_ = new SimulatedFederation(
        MakeFederation("hypergrid:dim=2,side=6", "", 2, 300));
    AggregationOptions options = TestAggregationOptions(400);
    options.fcs_to_local_product.num_samples = 1024;
    options.fcs_progress_samples = 256;
    auto aggregator = Aggregator::Create(federation_->environment.get(),
                                         federation_->locals, options);
    ASSERT_TRUE(aggregator.ok()) << aggregator.status();
    progress_fcs_ = new std::vector<std::optional<double>>;
    ASSERT_TRUE((*aggregator)
                    ->Run([](const AggregationProgress& progress) {
                      progress_fcs_->push_back(progress.fcs_to_local_product);
                    })
                    .ok());
    global_ = new PolicyNet((*aggregator)->global_policy());
    final_fcs_ = new absl::StatusOr<double>((*aggregator)->FcsToLocalProduct());
  }
  static void TearDownTestSuite() {
    delete final_fcs_;
    delete progress_fcs_;
    delete global_;
    delete federation_;
  }

  static std::vector<WeightedPolicy> Locals() {
    std::vector<WeightedPolicy> locals;
    for (const LocalModel& local : federation_->locals) {
      locals.push_back(WeightedPolicy{local.policy, 1.0});
    }
    return locals;
  }
  static const Environment& environment() { return *federation_->environment; }

  static SimulatedFederation* federation_;
  static PolicyNet* global_;
  // What the aggregator reported: at each progress point, and at the end.
  static std::vector<std::optional<double>>* progress_fcs_;
  static absl::StatusOr<double>* final_fcs_;
};

SimulatedFederation* AggregateFlowConsistencyTest::federation_ = nullptr;
PolicyNet* AggregateFlowConsistencyTest::global_ = nullptr;
std::vector<std::optional<double>>*
    AggregateFlowConsistencyTest::progress_fcs_ = nullptr;
absl::StatusOr<double>* AggregateFlowConsistencyTest::final_fcs_ = nullptr;

TEST_F(AggregateFlowConsistencyTest, EstimateMatchesExactLocalMarginals) {
  std::vector<WeightedPolicy> locals = Locals();
  torch::Tensor states = *environment().EnumerateTerminalStates();
  // Exact: sum_i log p_T^i by propagating mass through the state graph.
  torch::Tensor exact_product = torch::zeros({states.size(0)}, torch::kFloat64);
  for (WeightedPolicy& local : locals) {
    exact_product = exact_product + ExactLearnedProbabilities(
                                        local.policy, environment(), states)
                                        ->log()
                                        .to(torch::kFloat64);
  }
  RandomSource random(11);
  torch::Tensor estimated_product =
      EstimateLogLocalProduct(locals, environment(), states, 64, random);
  // Both are normalised (not up to a constant): compare the logs directly.
  const double max_log_error =
      (estimated_product - exact_product).abs().max().item<double>();
  std::printf("max |log R_hat estimated - exact| over %lld states: %.4f\n",
              static_cast<long long>(states.size(0)), max_log_error);

  EXPECT_LT(max_log_error, 0.05);
  std::printf("local product: largest probability %.4f of %lld states\n",
              torch::softmax(exact_product, 0).max().item<double>(),
              static_cast<long long>(states.size(0)));

  // The FCS on the same subsets, exact against estimated everywhere, for
  // the trained global model (near 0) and an untrained one (far from it).
  PolicyNet untrained =
      *MakePolicy(environment(), SmallArchitecture(), 77, torch::kCPU);
  double exact_fcs = 0.0;
  for (PolicyNet* global : {global_, &untrained}) {
    torch::Tensor exact_global =
        ExactLearnedProbabilities(*global, environment(), states)
            ->log()
            .to(torch::kFloat64);
    torch::Tensor estimated_global = EstimateLogTerminalProbability(
        *global, environment(), states, 64, random);
    RandomSource exact_subsets(12);
    RandomSource estimated_subsets(12);
    const double exact = FlowConsistencyInSubgraphs(exact_global, exact_product,
                                                    8, 256, exact_subsets);
    const double estimated = FlowConsistencyInSubgraphs(
        estimated_global, estimated_product, 8, 256, estimated_subsets);
    std::printf(
        "%s global: exact TV to the local product %.4f, FCS exact %.4f, "
        "estimated on the same subsets %.4f\n",
        global == global_ ? "trained" : "untrained",
        TotalVariation(exact_global.exp(), torch::softmax(exact_product, 0)),
        exact, estimated);
    EXPECT_NEAR(estimated, exact, 0.02);
    if (global == global_) exact_fcs = exact;
  }
  // And the library's own pool, drawn on-policy from the global model.
  FcsOptions options;
  RandomSource pool_random(13);
  absl::StatusOr<double> sampled = FlowConsistencyToLocalProduct(
      *global_, environment(), locals, options, pool_random);
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  std::printf("FlowConsistencyToLocalProduct %.4f\n", *sampled);
  EXPECT_NEAR(*sampled, exact_fcs, 0.04);
  // The aggregator's own end-of-run figure is the same measurement.
  ASSERT_TRUE(final_fcs_->ok()) << final_fcs_->status();
  EXPECT_NEAR(**final_fcs_, exact_fcs, 0.04);
}

TEST_F(AggregateFlowConsistencyTest, AggregatorReportsItAtProgressPoints) {
  // Every 100 of 400 iterations, each with an FCS in [0, 1] that falls as
  // the global model learns the product.
  ASSERT_EQ(progress_fcs_->size(), 4u);
  for (const std::optional<double>& fcs : *progress_fcs_) {
    ASSERT_TRUE(fcs.has_value());
    EXPECT_GE(*fcs, 0.0);
    EXPECT_LE(*fcs, 1.0);
  }
  std::printf("FCS at progress: %.4f %.4f %.4f %.4f\n", *(*progress_fcs_)[0],
              *(*progress_fcs_)[1], *(*progress_fcs_)[2], *(*progress_fcs_)[3]);
  EXPECT_LT(*progress_fcs_->back(), *progress_fcs_->front());

  AggregationOptions off = TestAggregationOptions(10);
  auto aggregator = Aggregator::Create(federation_->environment.get(),
                                       federation_->locals, off);
  ASSERT_TRUE(aggregator.ok()) << aggregator.status();
  EXPECT_EQ((*aggregator)->FcsToLocalProduct().status().code(),
            absl::StatusCode::kFailedPrecondition);
  off.fcs_progress_samples = -1;
  EXPECT_EQ(Aggregator::Create(federation_->environment.get(),
                               federation_->locals, off)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AggregateFlowConsistencyTest, UntrainedGlobalScoresClearlyWorse) {
  std::vector<WeightedPolicy> locals = Locals();
  PolicyNet untrained =
      *MakePolicy(environment(), SmallArchitecture(), 77, torch::kCPU);
  RandomSource trained_random(5);
  RandomSource untrained_random(5);
  absl::StatusOr<double> trained = FlowConsistencyToLocalProduct(
      *global_, environment(), locals, FcsOptions{}, trained_random);
  absl::StatusOr<double> fresh = FlowConsistencyToLocalProduct(
      untrained, environment(), locals, FcsOptions{}, untrained_random);
  ASSERT_TRUE(trained.ok()) << trained.status();
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  std::printf("FCS to the local product: trained %.4f, untrained %.4f\n",
              *trained, *fresh);
  EXPECT_GE(*trained, 0.0);
  EXPECT_LT(*trained, 0.5 * *fresh);
  EXPECT_GT(*fresh - *trained, 0.05);
}

TEST_F(AggregateFlowConsistencyTest, RefusesNoLocalsAndBadOptions) {
  std::vector<WeightedPolicy> none;
  RandomSource random(1);
  EXPECT_EQ(FlowConsistencyToLocalProduct(*global_, environment(), none,
                                          FcsOptions{}, random)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<WeightedPolicy> locals = Locals();
  FcsOptions bad;
  bad.num_backward_samples = 0;
  EXPECT_EQ(FlowConsistencyToLocalProduct(*global_, environment(), locals, bad,
                                          random)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
