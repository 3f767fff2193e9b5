// The Summarize workflow in process on every environment: a published
// (untrained, randomly initialised) global policy whose exact terminal
// distribution p_T is computed by enumeration, so the summary's object
// frequencies, importance-sampled p_T estimates and marginals can be checked
// against exact values; and every refusal with its status code.
#include "server/core/summarizer.h"

#include <torch/types.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/eval/exact_distribution.h"
#include "common/policy/policy_net.h"
#include "gtest/gtest.h"
#include "server/core/federation_config.h"
#include "server/core/model_store.h"
#include "server/core/sampler.h"
#include "server/testing/test_federation.h"

namespace epgfn {
namespace {

constexpr int64_t kDraws = 3000;
constexpr int64_t kCap = 5000;

class Published {
 public:
  explicit Published(const std::string& kind,
                     const std::map<std::string, std::string>& params) {
    v1::FederationSpec spec = test_support::SmallHypergridSpec(1);
    spec.mutable_environment()->set_kind(kind);
    spec.mutable_environment()->mutable_params()->clear();
    for (const auto& [key, value] : params) {
      (*spec.mutable_environment()->mutable_params())[key] = value;
    }
    spec.mutable_global_architecture()->set_hidden_width(16);
    spec.mutable_global_architecture()->set_hidden_layers(1);
    auto config = FederationConfigFromSpec(spec);
    EXPECT_TRUE(config.ok()) << config.status();
    config_ = *config;
    auto store =
        ModelStore::Create(config_, test_support::FreshDirectory("summarizer"));
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
    policy_ = MakePolicy(*config_->environment, config_->global_architecture,
                         /*seed=*/3, torch::kCPU)
                  .value();
    EXPECT_TRUE(store_->Publish(policy_, {{"client-0", 1}}).ok());
    SamplerOptions sampler_options;
    sampler_options.limits.max_objects_per_request = kCap;
    sampler_options.batch_size = 512;
    sampler_ =
        std::make_unique<Sampler>(config_, store_.get(), sampler_options);
    summarizer_ =
        std::make_unique<Summarizer>(config_, store_.get(), sampler_.get());
  }

  const Environment& environment() const { return *config_->environment; }
  Summarizer& summarizer() { return *summarizer_; }

  // The policy's exact p_T over every object, keyed by raw state.
  std::map<std::vector<int64_t>, double> ExactTerminal() {
    const torch::Tensor states =
        environment().EnumerateTerminalStates().value();
    const torch::Tensor p =
        ExactLearnedProbabilities(policy_, environment(), states).value();
    std::map<std::vector<int64_t>, double> exact;
    for (int64_t i = 0; i < states.size(0); ++i) {
      const torch::Tensor row = states[i].contiguous();
      exact[std::vector<int64_t>(row.data_ptr<int64_t>(),
                                 row.data_ptr<int64_t>() + row.numel())] =
          p[i].item<double>();
    }
    return exact;
  }

 private:
  std::shared_ptr<const FederationConfig> config_;
  std::unique_ptr<ModelStore> store_;
  PolicyNet policy_{nullptr};
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<Summarizer> summarizer_;
};

bool Forever() { return true; }

SummaryQuery Drawn(int64_t num_samples) {
  SummaryQuery query;
  query.num_samples = num_samples;
  query.seed = 11;
  query.top_objects = 5;
  query.log_probability_samples = 64;
  return query;
}

struct Case {
  std::string kind;
  std::map<std::string, std::string> params;
};

class SummarizerEnvironmentTest : public ::testing::TestWithParam<Case> {};

TEST_P(SummarizerEnvironmentTest, TopObjectsMatchTheExactTerminalDistribution) {
  Published published(GetParam().kind, GetParam().params);
  auto summary = published.summarizer().Summarize(Drawn(kDraws), Forever);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->model_version, 1);
  EXPECT_EQ(summary->num_objects, kDraws);
  EXPECT_EQ(summary->log_probability_samples, 64);
  ASSERT_EQ(summary->top_objects.size(), 5);
  EXPECT_FALSE(summary->features.tables.empty());
  const auto exact = published.ExactTerminal();
  for (size_t i = 0; i < summary->top_objects.size(); ++i) {
    const TopObjectSummary& object = summary->top_objects[i];
    if (i > 0) {
      EXPECT_GE(summary->top_objects[i - 1].count, object.count);
    }
    ASSERT_TRUE(exact.count(object.state)) << object.description;
    const double p = exact.at(object.state);
    EXPECT_NEAR(object.frequency, p, 4 * object.frequency_standard_error + 2e-3)
        << object.description;
    // 64 backward trajectories: the IS estimate is within a few percent.
    EXPECT_NEAR(object.probability, p, 0.1 * p) << object.description;
    EXPECT_NEAR(std::log(object.probability), object.log_probability, 1e-9);
    EXPECT_EQ(object.description,
              published.environment().Describe(
                  torch::tensor(object.state, torch::kInt64)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryEnvironment, SummarizerEnvironmentTest,
    ::testing::Values(Case{"hypergrid", {{"dim", "2"}, {"side", "3"}}},
                      Case{"multiset", {{"items", "3"}, {"size", "2"}}},
                      Case{"sequence", {{"length", "2"}, {"vocab", "3"}}},
                      Case{"dag", {{"nodes", "3"}}},
                      Case{"phylo", {{"num_taxa", "4"}}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.kind; });

TEST(SummarizerTest, GridMarginalsMatchTheExactTerminalDistribution) {
  Published published("hypergrid", {{"dim", "2"}, {"side", "3"}});
  auto summary = published.summarizer().Summarize(Drawn(kDraws), Forever);
  ASSERT_TRUE(summary.ok()) << summary.status();
  const auto exact = published.ExactTerminal();
  const MarginalTable& table = summary->features.tables.at(0);
  ASSERT_EQ(table.rows(), 2);
  ASSERT_EQ(table.columns(), 3);
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t c = 0; c < 3; ++c) {
      double p = 0.0;
      for (const auto& [state, q] : exact) p += state[r] == c ? q : 0.0;
      EXPECT_NEAR(table.probability(r, c), p,
                  4 * table.standard_error(r, c) + 2e-3);
    }
  }
}

TEST(SummarizerTest, GivenObjectsAreSummarizedAsGiven) {
  Published published("hypergrid", {{"dim", "2"}, {"side", "3"}});
  SummaryQuery query;
  query.objects = {{2, 1}, {0, 0}, {2, 1}, {2, 1}};
  query.top_objects = 2;
  auto summary = published.summarizer().Summarize(query, Forever);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->num_objects, 4);
  EXPECT_EQ(summary->num_distinct, 2);
  ASSERT_EQ(summary->top_objects.size(), 2);
  EXPECT_EQ(summary->top_objects[0].state, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(summary->top_objects[0].count, 3);
  EXPECT_EQ(summary->top_objects[0].description, "(2,1)");
  EXPECT_DOUBLE_EQ(summary->top_objects[0].frequency, 0.75);
  EXPECT_EQ(summary->log_probability_samples,
            kDefaultSummaryLogProbabilitySamples);
  // P(x0 = 2) = 3/4, P(x1 = 0) = 1/4.
  const MarginalTable& table = summary->features.tables.at(0);
  EXPECT_DOUBLE_EQ(table.probability(0, 2), 0.75);
  EXPECT_DOUBLE_EQ(table.probability(1, 0), 0.25);
  EXPECT_NEAR(table.standard_error(0, 2), std::sqrt(0.75 * 0.25 / 4), 1e-12);
}

TEST(SummarizerTest, ASeedRepeatsTheSummary) {
  Published published("sequence", {{"length", "2"}, {"vocab", "3"}});
  auto first = published.summarizer().Summarize(Drawn(500), Forever);
  auto second = published.summarizer().Summarize(Drawn(500), Forever);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(first->top_objects.size(), second->top_objects.size());
  for (size_t i = 0; i < first->top_objects.size(); ++i) {
    EXPECT_EQ(first->top_objects[i].state, second->top_objects[i].state);
    EXPECT_EQ(first->top_objects[i].log_probability,
              second->top_objects[i].log_probability);
  }
  EXPECT_EQ(first->features.tables[0].probabilities,
            second->features.tables[0].probabilities);
}

TEST(SummarizerTest, BadQueriesAreRefusedWithTheirCodes) {
  Published published("hypergrid", {{"dim", "2"}, {"side", "3"}});
  Summarizer& summarizer = published.summarizer();
  auto code = [&](const SummaryQuery& query) {
    return summarizer.Summarize(query, Forever).status().code();
  };
  EXPECT_EQ(code(Drawn(0)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(Drawn(kCap + 1)), absl::StatusCode::kInvalidArgument);
  SummaryQuery query = Drawn(10);
  query.model_version = 7;
  EXPECT_EQ(code(query), absl::StatusCode::kNotFound);
  query = Drawn(10);
  query.top_objects = kMaxSummaryTopObjects + 1;
  EXPECT_EQ(code(query), absl::StatusCode::kInvalidArgument);
  query = Drawn(10);
  query.log_probability_samples = 100000;
  EXPECT_EQ(code(query), absl::StatusCode::kInvalidArgument);
  query = Drawn(10);
  query.objects = {{0, 0}};
  EXPECT_EQ(code(query), absl::StatusCode::kInvalidArgument);  // both
  query = SummaryQuery();
  query.objects = {{0, 0}, {0, 3}};  // side 3: coordinate 3 is off the grid
  auto refused = summarizer.Summarize(query, Forever);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("object 1"), std::string::npos)
      << refused.status();
  query.objects = {{0, 0, 0}};
  EXPECT_EQ(code(query), absl::StatusCode::kInvalidArgument);
  query.objects = std::vector<std::vector<int64_t>>(kCap + 1, {0, 0});
  EXPECT_EQ(code(query), absl::StatusCode::kInvalidArgument);
  query.objects = {{0, 0}};
  query.model_version = 2;
  EXPECT_EQ(code(query), absl::StatusCode::kNotFound);
  query = Drawn(10);
  query.variable_names = {"only-one"};
  EXPECT_EQ(code(query), absl::StatusCode::kInvalidArgument);
}

TEST(SummarizerTest, ACallerThatGoesAwayCancelsIt) {
  Published published("hypergrid", {{"dim", "2"}, {"side", "3"}});
  int polls = 0;
  auto summary = published.summarizer().Summarize(Drawn(2000), [&] {
    return ++polls < 2;  // gone after the first of four batches
  });
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(polls, 2);
}

}  // namespace
}  // namespace epgfn
