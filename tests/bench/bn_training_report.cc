#include "tests/bench/bn_training_report.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/aggregate/aggregator.h"
#include "common/aggregate/local_model.h"
#include "common/env/dag/bge.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/structure_metrics.h"
#include "common/env/environment_registry.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/train/trainer.h"
#include "common/util/status_macros.h"
#include "tests/bench/bge_targets.h"
#include "tests/bench/local_score_reward.h"
#include "tests/bench/model_fcs.h"
#include "tests/bench/sachs_data.h"
#include "tests/bench/stopwatch.h"

namespace epgfn {
namespace {

// The variable subset the comparison trains on.
struct Subset {
  std::vector<std::string> names;
  std::vector<int64_t> truth;  // the ground truth restricted to it
  Dataset sample;              // options.rows rows of its columns
  int64_t d() const { return static_cast<int64_t>(names.size()); }
};

absl::StatusOr<Subset> SelectSubset(const Dataset& data,
                                    const std::vector<int64_t>& truth,
                                    const TrainingReportOptions& options) {
  ASSIGN_OR_RETURN(std::vector<int64_t> columns,
                   ParseColumns(data, options.variables));
  Subset subset;
  for (int64_t c : columns) subset.names.push_back(data.names[c]);
  subset.truth = SelectTruth(truth, data.columns(), columns);
  ASSIGN_OR_RETURN(subset.sample,
                   Subsample(SelectColumns(data, columns), options.rows,
                             options.seed * 1000 + 999));
  return subset;
}

// The tempered local-score tables and the DP of the two targets.
struct TemperedTargets {
  std::vector<double> full;
  std::vector<std::vector<double>> clients;
  std::vector<double> product;
  EdgeMarginals exact_full;
  EdgeMarginals exact_product;
};

// Tempering divides each local score by T: the product of the tempered
// clients' targets is the tempered product, so the federation still aims
// at `product`.
absl::StatusOr<TemperedTargets> MakeTemperedTargets(
    const Dataset& sample, int64_t d, const TrainingReportOptions& options) {
  const double temperature = options.temperature;
  if (!(temperature > 0)) {
    return absl::InvalidArgumentError("--train_temperature must be > 0");
  }
  const auto tempered = [temperature](std::vector<double> scores) {
    for (double& s : scores) s /= temperature;
    return scores;
  };
  TemperedTargets targets;
  ASSIGN_OR_RETURN(BGeScore full_score, BGeScore::Create(sample, 1.0, 0.0));
  targets.full = tempered(full_score.local_scores());
  std::vector<BGeScore> client_scores;
  for (int i = 0; i < options.clients; ++i) {
    ASSIGN_OR_RETURN(
        std::vector<int64_t> rows,
        ClientRows(sample.rows, i, options.clients, "random", options.seed));
    ASSIGN_OR_RETURN(BGeScore score,
                     BGeScore::Create(sample.Subset(rows), 1.0, 0.0));
    targets.clients.push_back(tempered(score.local_scores()));
    client_scores.push_back(std::move(score));
  }
  ASSIGN_OR_RETURN(std::vector<double> product, SumLocalScores(client_scores));
  targets.product = tempered(std::move(product));
  ASSIGN_OR_RETURN(targets.exact_full,
                   ComputeEdgeMarginals(d, targets.full, Prior(0)));
  ASSIGN_OR_RETURN(targets.exact_product,
                   ComputeEdgeMarginals(d, targets.product, Prior(0)));
  return targets;
}

absl::StatusOr<TrainingOptions> TrainingSetup(
    const TrainingReportOptions& report, int64_t seed) {
  TrainingOptions options;
  ASSIGN_OR_RETURN(options.loss, ParseLossKind(report.loss));
  options.iterations = report.iterations;
  options.batch_size = report.batch_size;
  options.learning_rate = report.learning_rate;
  options.log_z_learning_rate = report.log_z_learning_rate;
  options.exploration.epsilon = report.epsilon;
  options.max_gradient_norm = report.max_gradient_norm;
  options.seed = seed;
  options.progress_every =
      report.progress_every > 0 ? report.progress_every : int64_t{1} << 30;
  return options;
}

// Prints a training's progress to stderr when asked to.
ProgressCallback ProgressPrinter(const std::string& name,
                                 const TrainingReportOptions& report) {
  if (report.progress_every <= 0) return nullptr;
  return [name](const TrainingProgress& progress) {
    std::fprintf(stderr,
                 "progress %s iteration=%lld loss=%.4g log_z=%.4g "
                 "largest_gradient_norm=%.4g elapsed_s=%.0f\n",
                 name.c_str(), static_cast<long long>(progress.iteration),
                 progress.loss, progress.log_z, progress.largest_gradient_norm,
                 progress.elapsed_seconds);
  };
}

struct TrainedModel {
  PolicyNet policy{nullptr};
  double seconds = 0.0;
};

// A GFlowNet trained (CB) on the modular target with these local scores.
absl::StatusOr<TrainedModel> TrainOnScores(const Environment& environment,
                                           int64_t d,
                                           const std::vector<double>& scores,
                                           const std::string& name,
                                           const TrainingReportOptions& report,
                                           int64_t seed) {
  ASSIGN_OR_RETURN(EdgeMarginals exact,
                   ComputeEdgeMarginals(d, scores, Prior(0)));
  LocalScoreReward reward(d, scores, exact.log_normalizer, name);
  TrainedModel model;
  ASSIGN_OR_RETURN(model.policy, MakePolicy(environment, PolicyArchitecture(),
                                            seed, torch::kCPU));
  RewardTarget target(&reward);
  ASSIGN_OR_RETURN(const TrainingOptions training,
                   TrainingSetup(report, seed + 1));
  ASSIGN_OR_RETURN(
      std::unique_ptr<Trainer> trainer,
      Trainer::Create(&environment, model.policy, &target, training));
  const auto start = Clock::now();
  RETURN_IF_ERROR(trainer->Run(ProgressPrinter(name, report)));
  model.seconds = SecondsSince(start);
  return model;
}

// Federated: each client trains on prior^(1/N) x its own BGe (the uniform
// prior's share is a constant), then the aggregation sees only the
// clients' policies. The time is the slowest client's plus the
// aggregation's.
absl::StatusOr<TrainedModel> TrainFederated(
    Environment& environment, const EnvironmentConfig& config, int64_t d,
    const TemperedTargets& targets, const TrainingReportOptions& options) {
  const int64_t seed = options.seed;
  std::vector<LocalModel> locals;
  double slowest_client = 0.0;
  for (int i = 0; i < options.clients; ++i) {
    ASSIGN_OR_RETURN(TrainedModel local,
                     TrainOnScores(environment, d, targets.clients[i],
                                   absl::StrCat("client ", i), options,
                                   seed * 1000 + 320 + 2 * i));
    slowest_client = std::max(slowest_client, local.seconds);
    // What the client would upload with its diagnostics (issue 12: FCS in
    // every output). The normaliser does not enter FCS.
    const LocalScoreReward own(d, targets.clients[i], 0.0, "client reward");
    std::printf(
        "federated: client %d's local model, FCS against its own "
        "reward: %s\n",
        i,
        FcsCell(local.policy, environment, own, seed * 1000 + 380 + i).c_str());
    locals.push_back(LocalModel{absl::StrCat("client-", i), config,
                                local.policy, std::nullopt});
  }
  AggregationOptions aggregation;
  ASSIGN_OR_RETURN(aggregation.training,
                   TrainingSetup(options, seed * 1000 + 390));
  aggregation.evaluate_exact = false;
  ASSIGN_OR_RETURN(std::unique_ptr<Aggregator> aggregator,
                   Aggregator::Create(&environment, locals, aggregation));
  const auto aggregation_start = Clock::now();
  RETURN_IF_ERROR(aggregator->Run());
  return TrainedModel{aggregator->global_policy(),
                      slowest_client + SecondsSince(aggregation_start)};
}

struct Method {
  std::string name;
  TrainedModel model;
  const EdgeMarginals* aim = nullptr;     // the DP of the target it aims at
  const LogReward* aim_reward = nullptr;  // the same target, for the FCS
};

// Edge frequencies of `samples` terminal states of `policy`, and how many
// distinct DAGs they are (a collapse onto a few modes shows there).
struct SampledEdges {
  std::vector<double> marginals;
  int64_t distinct = 0;
};

SampledEdges SampleEdges(PolicyNet policy, const Environment& environment,
                         int64_t d, int64_t samples, int64_t seed) {
  RandomSource random(seed);
  const torch::Tensor adjacency =
      SampleTrajectories(policy, environment, samples, {}, random)
          .terminal_states.slice(1, 0, d * d);
  const torch::Tensor frequencies =
      adjacency.to(torch::kFloat64).mean(0).contiguous();
  SampledEdges edges;
  edges.marginals.assign(frequencies.data_ptr<double>(),
                         frequencies.data_ptr<double>() + d * d);
  edges.distinct = std::get<0>(torch::unique_dim(adjacency, 0)).size(0);
  return edges;
}

void PrintHeader(const Subset& subset, const TrainingReportOptions& options) {
  const long long rows = static_cast<long long>(subset.sample.rows);
  std::printf(
      "\n### (e) Trained GFlowNets against the DP: {%s}, %lld rows (%d "
      "clients of %lld), temperature %g\n\n",
      absl::StrJoin(subset.names, ", ").c_str(), rows, options.clients,
      rows / options.clients, options.temperature);
  std::printf(
      "%s loss, 2x256 MLP, batch %lld, lr %g (log Z %g), epsilon %g, "
      "gradient norm cap %g (0: off), %lld iterations per "
      "training (clients and aggregation alike), 1 thread; %lld samples per "
      "model. The error is against the exact edge marginals of the target the "
      "method aims at (full-data posterior or product).\n\n",
      options.loss.c_str(), static_cast<long long>(options.batch_size),
      options.learning_rate, options.log_z_learning_rate, options.epsilon,
      options.max_gradient_norm, static_cast<long long>(options.iterations),
      static_cast<long long>(options.samples));
  std::printf(
      "| method | aims at | max abs error | mean abs error | max MC std error "
      "| E-SHD (exact) | AUROC sampled (exact) | AUPRC sampled (exact) | FCS "
      "| distinct DAGs in the samples | time |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

// The method's line of the table; `index` seeds its samples and FCS.
absl::Status PrintMethod(const Method& method, size_t index,
                         const Environment& environment, const Subset& subset,
                         const TemperedTargets& targets,
                         const TrainingReportOptions& options) {
  const int64_t d = subset.d();
  const int64_t samples = options.samples;
  const SampledEdges edges =
      SampleEdges(method.model.policy, environment, d, samples,
                  options.seed * 1000 + 600 + index);
  const std::vector<double>& sampled = edges.marginals;
  const Gap error = MarginalGap(sampled, method.aim->probabilities, d);
  double max_std_error = 0.0;
  for (double p : method.aim->probabilities) {
    max_std_error = std::max(max_std_error, std::sqrt(p * (1 - p) / samples));
  }
  ASSIGN_OR_RETURN(StructureMetrics got,
                   EvaluateEdgeMarginals(d, sampled, subset.truth));
  ASSIGN_OR_RETURN(
      StructureMetrics exact,
      EvaluateEdgeMarginals(d, method.aim->probabilities, subset.truth));
  std::printf(
      "| %s | %s | %.4f | %.4f | %.4f | %.2f (%.2f) | %.3f (%.3f) | %.3f "
      "(%.3f) | %s | %lld | %.0f s |\n",
      method.name.c_str(),
      method.aim == &targets.exact_full ? "full data" : "product",
      error.max_abs, error.mean_abs, max_std_error, got.expected_shd,
      exact.expected_shd, got.auroc, exact.auroc, got.auprc, exact.auprc,
      FcsCell(method.model.policy, environment, *method.aim_reward,
              options.seed * 1000 + 700 + index)
          .c_str(),
      static_cast<long long>(edges.distinct), method.model.seconds);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReportTraining(const Dataset& data,
                            const std::vector<int64_t>& truth,
                            const TrainingReportOptions& options) {
  ASSIGN_OR_RETURN(Subset subset, SelectSubset(data, truth, options));
  const int64_t d = subset.d();
  ASSIGN_OR_RETURN(EnvironmentConfig config,
                   EnvironmentConfig::Parse(absl::StrCat("dag:nodes=", d)));
  ASSIGN_OR_RETURN(std::unique_ptr<Environment> environment,
                   MakeEnvironment(config));
  ASSIGN_OR_RETURN(TemperedTargets targets,
                   MakeTemperedTargets(subset.sample, d, options));
  // (FCS ignores the log normaliser; it is there for symmetry.)
  const LocalScoreReward full_reward(
      d, targets.full, targets.exact_full.log_normalizer, "full data");
  const LocalScoreReward product_reward(d, targets.product,
                                        targets.exact_product.log_normalizer,
                                        "product of the client rewards");
  const int64_t seed = options.seed;
  std::vector<Method> methods;
  const std::vector<std::string> chosen = absl::StrSplit(options.methods, ',');
  const auto wanted = [&chosen](const std::string& name) {
    return std::find(chosen.begin(), chosen.end(), name) != chosen.end();
  };
  for (const std::string& name : chosen) {
    if (name != "full" && name != "product" && name != "federated") {
      return absl::InvalidArgumentError(
          absl::StrCat("--train_methods: unknown method '", name, "'"));
    }
  }
  if (wanted("full")) {
    ASSIGN_OR_RETURN(TrainedModel central_full,
                     TrainOnScores(*environment, d, targets.full, "full data",
                                   options, seed * 1000 + 300));
    methods.push_back({"centralized, full-data reward", central_full,
                       &targets.exact_full, &full_reward});
  }
  if (wanted("product")) {
    ASSIGN_OR_RETURN(TrainedModel central_product,
                     TrainOnScores(*environment, d, targets.product, "product",
                                   options, seed * 1000 + 310));
    methods.push_back({"centralized, product reward", central_product,
                       &targets.exact_product, &product_reward});
  }
  if (wanted("federated")) {
    ASSIGN_OR_RETURN(TrainedModel federated,
                     TrainFederated(*environment, config, d, targets, options));
    methods.push_back({absl::StrCat("federated (EP-GFlowNet: ", options.clients,
                                    " clients + aggregation)"),
                       federated, &targets.exact_product, &product_reward});
  }

  PrintHeader(subset, options);
  for (size_t m = 0; m < methods.size(); ++m) {
    RETURN_IF_ERROR(
        PrintMethod(methods[m], m, *environment, subset, targets, options));
  }
  std::printf("\n%s\n", FcsLegend().c_str());
  const Gap targets_gap = MarginalGap(targets.exact_product.probabilities,
                                      targets.exact_full.probabilities, d);
  std::printf("\nThe two exact targets differ by max %.4f / mean %.4f here.\n",
              targets_gap.max_abs, targets_gap.mean_abs);
  return absl::OkStatus();
}

}  // namespace epgfn
