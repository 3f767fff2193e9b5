// Each environment's posterior summaries against the exact marginals of an
// enumerable instance: objects are drawn exactly from a known distribution
// over the enumerated objects (random, far from uniform), and every
// estimated marginal must lie within 4 Monte Carlo standard errors (plus a
// little slack for cells near 0 or 1) of the exact value, which the test
// computes on its own from the enumeration.
#include "common/eval/feature_summary.h"

#include <torch/types.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/env/environment_registry.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr int64_t kDraws = 4000;
constexpr double kSlack = 2e-3;

struct Instance {
  std::unique_ptr<Environment> environment;
  torch::Tensor states;               // [M, width] int64, every object
  std::vector<double> probabilities;  // [M]
  torch::Tensor draws;                // [kDraws, width], iid from them
};

Instance MakeInstance(const std::string& config, uint64_t seed) {
  Instance instance;
  auto environment = MakeEnvironment(*EnvironmentConfig::Parse(config));
  EXPECT_TRUE(environment.ok()) << environment.status();
  instance.environment = std::move(environment).value();
  instance.states = instance.environment->EnumerateTerminalStates().value();
  const int64_t m = instance.states.size(0);
  std::mt19937_64 random(seed);
  std::normal_distribution<double> normal;
  double total = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    instance.probabilities.push_back(std::exp(2.0 * normal(random)));
    total += instance.probabilities.back();
  }
  for (double& p : instance.probabilities) p /= total;
  std::discrete_distribution<int64_t> pick(instance.probabilities.begin(),
                                           instance.probabilities.end());
  std::vector<int64_t> indices(kDraws);
  for (int64_t& index : indices) index = pick(random);
  instance.draws =
      instance.states.index_select(0, torch::tensor(indices, torch::kInt64));
  return instance;
}

std::unique_ptr<FeatureSummarizer> Summarizer(const Instance& instance,
                                              FeatureLabels labels = {}) {
  auto summarizer = MakeFeatureSummarizer(*instance.environment, labels);
  EXPECT_TRUE(summarizer.ok()) << summarizer.status();
  EXPECT_TRUE((*summarizer)->CheckObjects(instance.states).ok());
  return std::move(summarizer).value();
}

// Every cell within 4 standard errors of exact(row, column), and each
// standard error the binomial one of its estimate.
template <typename Exact>
void ExpectWithinMonteCarloError(const MarginalTable& table, Exact exact) {
  ASSERT_EQ(table.probabilities.size(), table.rows() * table.columns());
  ASSERT_EQ(table.standard_errors.size(), table.probabilities.size());
  for (int64_t r = 0; r < table.rows(); ++r) {
    for (int64_t c = 0; c < table.columns(); ++c) {
      const double estimate = table.probability(r, c);
      const double se = table.standard_error(r, c);
      EXPECT_NEAR(se, std::sqrt(estimate * (1 - estimate) / kDraws), 1e-12);
      EXPECT_NEAR(estimate, exact(r, c), 4 * se + kSlack)
          << table.name << " at (" << table.row_labels[r] << ", "
          << table.column_labels[c] << ")";
    }
  }
}

// Exact P(state[column] == value) over the enumeration.
double ExactCategorical(const Instance& instance, int64_t column,
                        int64_t value) {
  double p = 0.0;
  for (int64_t i = 0; i < instance.states.size(0); ++i) {
    if (instance.states[i][column].item<int64_t>() == value) {
      p += instance.probabilities[i];
    }
  }
  return p;
}

// Grids (per coordinate), multisets (each item's count) and sequences (the
// token at each position): one table of P(state[r] = c).
TEST(FeatureSummaryTest, CategoricalMarginalsOfGridsMultisetsAndSequences) {
  struct Case {
    std::string config;
    std::vector<std::string> variable_names;  // given when not empty
    std::vector<std::string> rows;
    std::vector<std::string> columns;
  };
  const std::vector<Case> cases = {
      {"hypergrid:dim=3,side=4", {}, {"x0", "x1", "x2"}, {"0", "1", "2", "3"}},
      {"multiset:items=4,size=3",
       {"a", "b", "c", "d"},
       {"a", "b", "c", "d"},
       {"0", "1", "2", "3"}},
      {"sequence:length=3,vocab=3",
       {},
       {"position0", "position1", "position2"},
       {"A", "B", "C"}},
  };
  uint64_t seed = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config);
    const Instance instance = MakeInstance(c.config, ++seed);
    FeatureLabels labels;
    labels.variable_names = c.variable_names;
    const FeatureSummary summary =
        Summarizer(instance, labels)->Summarize(instance.draws);
    ASSERT_EQ(summary.tables.size(), 1);
    const MarginalTable& table = summary.tables[0];
    EXPECT_EQ(table.row_labels, c.rows);
    EXPECT_EQ(table.column_labels, c.columns);
    ExpectWithinMonteCarloError(table, [&](int64_t r, int64_t v) {
      return ExactCategorical(instance, r, v);
    });
  }
}

TEST(FeatureSummaryTest, DagEdgeProbabilitiesWithVariableNames) {
  const Instance instance = MakeInstance("dag:nodes=4", 4);
  FeatureLabels labels;
  labels.variable_names = {"raf", "mek", "erk", "akt"};
  const FeatureSummary summary =
      Summarizer(instance, labels)->Summarize(instance.draws);
  ASSERT_EQ(summary.tables.size(), 1);
  const MarginalTable& table = summary.tables[0];
  EXPECT_EQ(table.row_labels, labels.variable_names);
  EXPECT_EQ(table.column_labels, labels.variable_names);
  ExpectWithinMonteCarloError(table, [&](int64_t i, int64_t j) {
    return ExactCategorical(instance, i * 4 + j, 1);
  });
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(table.probability(i, i), 0.0);
}

// The clades (as sorted taxon-name lists) of a Newick tree with support
// values after internal nodes, e.g. "((t1,t2)0.93,t3);", with their support.
std::map<std::string, double> NewickClades(const std::string& newick) {
  std::map<std::string, double> clades;
  std::vector<std::vector<std::string>> open;
  std::string name;
  auto flush_leaf = [&] {
    if (name.empty()) return;
    for (auto& members : open) members.push_back(name);
    name.clear();
  };
  for (size_t i = 0; i < newick.size(); ++i) {
    const char c = newick[i];
    if (c == '(') {
      open.emplace_back();
    } else if (c == ',' || c == ';') {
      flush_leaf();
    } else if (c == ')') {
      flush_leaf();
      std::vector<std::string> members = open.back();
      open.pop_back();
      std::string support;
      while (i + 1 < newick.size() &&
             (std::isdigit(newick[i + 1]) || newick[i + 1] == '.')) {
        support += newick[++i];
      }
      std::sort(members.begin(), members.end());
      if (!open.empty()) {
        clades[absl::StrJoin(members, ",")] =
            support.empty() ? -1.0 : std::stod(support);
      }
      for (auto& outer : open) {
        outer.insert(outer.end(), members.begin(), members.end());
      }
    } else {
      name += c;
    }
  }
  return clades;
}

TEST(FeatureSummaryTest, PhyloCladeFrequenciesAndMajorityConsensus) {
  const Instance instance = MakeInstance("phylo:num_taxa=5", 5);
  const FeatureSummary summary =
      Summarizer(instance)->Summarize(instance.draws);
  // Exact clade probabilities, keyed by the sorted taxon names.
  const std::vector<std::string> taxa = {"t1", "t2", "t3", "t4", "t5"};
  std::map<std::string, double> exact;
  for (int64_t i = 0; i < instance.states.size(0); ++i) {
    for (int64_t k = 0; k < 4; ++k) {
      const int64_t mask = instance.states[i][k].item<int64_t>();
      if (mask == 31) continue;  // the root: in every tree
      std::vector<std::string> members;
      for (int b = 0; b < 5; ++b) {
        if (mask >> b & 1) members.push_back(taxa[b]);
      }
      exact[absl::StrJoin(members, ",")] += instance.probabilities[i];
    }
  }
  ASSERT_EQ(summary.tables.size(), 1);
  const MarginalTable& table = summary.tables[0];
  ASSERT_EQ(table.columns(), 1);
  std::set<std::string> seen;
  for (int64_t r = 0; r < table.rows(); ++r) {
    // Labels are "{t1,t3}".
    const std::string& label = table.row_labels[r];
    ASSERT_GE(label.size(), 2);
    const std::string key = label.substr(1, label.size() - 2);
    seen.insert(key);
    ASSERT_TRUE(exact.count(key)) << label;
    if (r > 0) {
      EXPECT_GE(table.probability(r - 1, 0), table.probability(r, 0));
    }
  }
  ExpectWithinMonteCarloError(table, [&](int64_t r, int64_t) {
    const std::string& label = table.row_labels[r];
    return exact[label.substr(1, label.size() - 2)];
  });
  // Clades never drawn are rare.
  for (const auto& [key, p] : exact) {
    if (!seen.count(key)) {
      EXPECT_LT(p, kSlack) << key;
    }
  }

  ASSERT_EQ(summary.texts.size(), 1);
  EXPECT_EQ(summary.texts[0].name, "majority_rule_consensus");
  const std::map<std::string, double> consensus =
      NewickClades(summary.texts[0].text);
  std::set<std::string> majority;
  for (const auto& [key, p] : exact) {
    // This instance has no clade near 0.5, where sampling could flip it.
    ASSERT_GT(std::abs(p - 0.5), 0.05) << key;
    if (p > 0.5) majority.insert(key);
  }
  std::set<std::string> got;
  for (const auto& [key, support] : consensus) {
    got.insert(key);
    EXPECT_NEAR(support, exact[key], 0.04) << summary.texts[0].text;
  }
  EXPECT_EQ(got, majority) << summary.texts[0].text;
}

TEST(FeatureSummaryTest, ObjectsOutsideTheEnvironmentAreRefused) {
  struct Case {
    std::string config;
    std::vector<int64_t> bad_row;
  };
  const std::vector<Case> cases = {
      {"hypergrid:dim=2,side=4", {1, 4}},
      {"multiset:items=3,size=2", {1, 0, 0}},
      {"sequence:length=2,vocab=3", {0, -1}},
      // 0 -> 1 and 1 -> 0: a cycle (closure as if it were consistent).
      {"dag:nodes=2", {0, 1, 1, 0, 1, 1, 1, 1}},
      // Clades {t1,t2} and {t2,t3} overlap without nesting.
      {"phylo:num_taxa=4", {15, 6, 3}},
  };
  for (const Case& c : cases) {
    const Instance instance = MakeInstance(c.config, 9);
    auto summarizer = MakeFeatureSummarizer(*instance.environment);
    ASSERT_TRUE(summarizer.ok()) << summarizer.status();
    torch::Tensor states = instance.states.narrow(0, 0, 2).clone();
    states[1] = torch::tensor(c.bad_row, torch::kInt64);
    const absl::Status status = (*summarizer)->CheckObjects(states);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.config;
    EXPECT_NE(status.message().find("object 1"), std::string::npos)
        << status.message();
    // A row of the wrong width.
    EXPECT_EQ(
        (*summarizer)->CheckObjects(torch::zeros({1, 1}, torch::kInt64)).code(),
        absl::StatusCode::kInvalidArgument)
        << c.config;
  }
}

TEST(FeatureSummaryTest, VariableNamesMustMatchTheVariables) {
  const Instance instance = MakeInstance("dag:nodes=3", 1);
  FeatureLabels labels;
  labels.variable_names = {"a", "b"};
  EXPECT_EQ(
      MakeFeatureSummarizer(*instance.environment, labels).status().code(),
      absl::StatusCode::kInvalidArgument);
  labels.variable_names = {"a", "b", "a"};
  EXPECT_EQ(
      MakeFeatureSummarizer(*instance.environment, labels).status().code(),
      absl::StatusCode::kInvalidArgument);
  const Instance tree = MakeInstance("phylo:num_taxa=4", 1);
  labels.variable_names = {"a", "b", "c", "d"};
  EXPECT_EQ(MakeFeatureSummarizer(*tree.environment, labels).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace epgfn
