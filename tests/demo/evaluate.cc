// Exact evaluation of the demo federation's outcome, on an instance small
// enough to enumerate: rebuilds the environment and every client's reward
// (--client_reward plus "index=i,count=N", what the clients hold privately;
// only this offline evaluator ever sees them together), computes the exact
// normalized product target and the exact terminal distribution of the
// global model, and prints the total variation distances (learned and
// empirical vs target). With --full_data_reward it also scores both against
// the full-data posterior. Figures (gnuplot, with their TSV data next to
// them, see figure.h): target/learned/empirical heatmaps for 2-D hypergrids;
// for every other environment a bar chart of the most probable objects; for
// phylogenetics also the clade (split) frequencies. For DAGs it also
// computes the exact posterior edge marginals of the product target and of
// the full-data posterior by the Tian-He dynamic programme (no enumeration;
// checked against the enumeration here) and prints the max and mean
// absolute error of the global model's, the samples' and each local
// model's edge marginals against them.
//
//   evaluate --config=deploy/configs/hypergrid_demo.textproto --num_clients=4
//     --model=out/demo/client-0/global_v1.model --samples=out/demo/samples.tsv
//     --png_dir=out/demo/png
//   evaluate --config=deploy/configs/dag_demo.textproto --num_clients=4
//     --client_rewards='bge:data=c0.csv;bge:data=c1.csv;...'
//     --full_data_reward=bge:data=common/env/dag/testdata/synthetic4.csv
//     --model=... --samples=... --png_dir=...
#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/env/dag/dag.h"
#include "common/env/dag/edge_marginals.h"
#include "common/env/dag/structure_metrics.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/phylo.h"
#include "common/eval/exact_distribution.h"
#include "common/model/model_codec.h"
#include "common/spec/spec_conversion.h"
#include "common/train/trajectory_target.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "proto/federation_spec.pb.h"
#include "tests/bench/bench_main.h"
#include "tests/demo/dag_edge_reference.h"
#include "tests/demo/evaluation_figures.h"
#include "tests/demo/evaluation_inputs.h"

ABSL_FLAG(std::string, config, "",
          "FederationSpec textproto the federation ran with.");
ABSL_FLAG(int32_t, num_clients, 0,
          "Number of clients; client i held reward "
          "'client:index=i,count=N'.");
ABSL_FLAG(std::string, client_reward, "client",
          "The clients' reward without index/count: client i held "
          "'<client_reward>[:|,]index=i,count=N' (e.g. client, "
          "jc69:temperature=20, bge:synthetic=1).");
ABSL_FLAG(std::string, client_rewards, "",
          "Instead of --client_reward: each client's own reward, in client "
          "order, separated by '|' and used as given (e.g. "
          "jc69:alignment=c0.fasta,temperature=20|jc69:alignment=c1.fasta,"
          "temperature=20 where each client names its own data file); its "
          "length must equal --num_clients.");
ABSL_FLAG(std::string, full_data_reward, "",
          "Optional reward of one party holding all the data (e.g. the same "
          "as --client_reward); the evaluator then also reports TVs to this "
          "full-data posterior.");
ABSL_FLAG(int32_t, top_k, 10, "Objects (and clades) in the bar charts.");
ABSL_FLAG(std::string, model, "", "Global model file (a downloaded version).");
ABSL_FLAG(std::string, samples, "",
          "Optional output file of epgfn_sample (one object per line, state "
          "integers first).");
ABSL_FLAG(std::string, client_models, "",
          "Optional comma-separated local model files of clients 0..N-1, to "
          "show each local model against its own reward.");
ABSL_FLAG(std::string, png_dir, "",
          "Directory for the figures: PNGs drawn by gnuplot (heatmaps for 2-D "
          "hypergrids, bar charts otherwise), each with its .tsv data and "
          ".gp script; empty: none.");
ABSL_FLAG(int32_t, threads, 1,
          "Intra-op threads for LibTorch (set explicitly; the default is 1).");

namespace epgfn {
namespace {

// Everything the evaluation compares, filled in by the steps below.
struct Evaluation {
  std::unique_ptr<Environment> environment;
  std::vector<std::unique_ptr<LogReward>> rewards;  // client i's at i
  TerminalDistribution target;                      // the exact product
  std::optional<TerminalDistribution> full;         // --full_data_reward's
  std::unique_ptr<LogReward> full_reward;           // the same reward
  torch::Tensor learned;    // the global model's exact distribution
  torch::Tensor empirical;  // of --samples; undefined without them
  torch::Tensor samples;    // their raw states
  int64_t num_samples = 0;
  // -1 where the inputs are missing, as the RESULT line prints them.
  double tv_learned = -1;
  double tv_learned_full = -1;
  double tv_empirical = -1;
  double tv_empirical_full = -1;
  // Edge marginals against the exact DP (dag only): the samples' max and
  // mean absolute error to the product target and to the full-data
  // posterior, and the DP's own agreement with the enumeration.
  EdgeMarginalError edge_empirical{-1, -1};
  EdgeMarginalError edge_empirical_full{-1, -1};
  EdgeMarginalError edge_learned{-1, -1};
  EdgeMarginalError edge_learned_full{-1, -1};
  double dp_vs_enumeration = -1;
};

absl::Status CheckFlags() {
  if (absl::GetFlag(FLAGS_config).empty() ||
      absl::GetFlag(FLAGS_model).empty() ||
      absl::GetFlag(FLAGS_num_clients) < 1) {
    return absl::InvalidArgumentError(
        "--config, --model and --num_clients >= 1 are required");
  }
  if (absl::GetFlag(FLAGS_threads) < 1) {
    return absl::InvalidArgumentError("--threads must be >= 1");
  }
  return absl::OkStatus();
}

// The environment of --config and every client's reward: --client_rewards as
// given, else --client_reward with client i's share.
absl::Status BuildFederation(int num_clients, Evaluation& evaluation) {
  ASSIGN_OR_RETURN(const v1::FederationSpec spec,
                   ReadSpec(absl::GetFlag(FLAGS_config)));
  ASSIGN_OR_RETURN(
      evaluation.environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  const Environment& environment = *evaluation.environment;
  const std::vector<std::string> own_rewards =
      absl::GetFlag(FLAGS_client_rewards).empty()
          ? std::vector<std::string>()
          : absl::StrSplit(absl::GetFlag(FLAGS_client_rewards), '|');
  if (!own_rewards.empty() &&
      static_cast<int>(own_rewards.size()) != num_clients) {
    return absl::InvalidArgumentError(
        absl::StrCat("--client_rewards lists ", own_rewards.size(),
                     " rewards but --num_clients=", num_clients));
  }
  for (int i = 0; i < num_clients; ++i) {
    ASSIGN_OR_RETURN(
        RewardConfig config,
        RewardConfig::Parse(
            own_rewards.empty()
                ? WithShare(absl::GetFlag(FLAGS_client_reward), i, num_clients)
                : own_rewards[i]));
    // A client's own reward (its own data file) carries prior^(1/N) with N
    // from the federation, as the client daemon builds it.
    ASSIGN_OR_RETURN(
        std::unique_ptr<LogReward> reward,
        own_rewards.empty()
            ? MakeSplitLogReward(environment, config)
            : MakeLogReward(environment, config, RewardContext{num_clients}));
    evaluation.rewards.push_back(std::move(reward));
  }
  return absl::OkStatus();
}

// The normalized product of the client rewards, and a line about it.
absl::Status ComputeProductTarget(Evaluation& evaluation) {
  const Environment& environment = *evaluation.environment;
  std::vector<const LogReward*> factors;
  for (const auto& reward : evaluation.rewards) factors.push_back(reward.get());
  ProductOfRewards product(factors);
  ASSIGN_OR_RETURN(evaluation.target,
                   ExactTargetDistribution(environment, product));
  const torch::Tensor& states = evaluation.target.states;
  std::printf(
      "environment %s: %lld objects; exact target = normalized "
      "product of %d client rewards (client 0: %s)\n",
      environment.config().ToString().c_str(),
      static_cast<long long>(states.size(0)),
      static_cast<int>(evaluation.rewards.size()),
      evaluation.rewards[0]->Describe().c_str());
  const torch::Tensor& p = evaluation.target.probabilities;
  const int64_t mode = p.argmax().item<int64_t>();
  const double perplexity =
      std::exp(-(p * p.clamp_min(1e-300).log()).sum().item<double>());
  std::printf("target: mode %s with p = %.4f, perplexity %.1f objects\n",
              environment.Describe(states[mode]).c_str(),
              p[mode].item<double>(), perplexity);
  return absl::OkStatus();
}

// --full_data_reward's posterior, when given, on the same enumeration.
absl::Status ComputeFullDataPosterior(Evaluation& evaluation) {
  if (absl::GetFlag(FLAGS_full_data_reward).empty()) return absl::OkStatus();
  const Environment& environment = *evaluation.environment;
  ASSIGN_OR_RETURN(RewardConfig config,
                   RewardConfig::Parse(
                       WithShare(absl::GetFlag(FLAGS_full_data_reward), 0, 1)));
  ASSIGN_OR_RETURN(std::unique_ptr<LogReward> reward,
                   MakeSplitLogReward(environment, config));
  ASSIGN_OR_RETURN(TerminalDistribution distribution,
                   ExactTargetDistribution(environment, *reward));
  if (!distribution.states.equal(evaluation.target.states)) {
    return absl::InternalError("the enumerations of the rewards differ");
  }
  evaluation.full = std::move(distribution);
  std::printf("full-data posterior (%s): TV to the product target %.6f\n",
              reward->Describe().c_str(),
              TotalVariation(evaluation.full->probabilities,
                             evaluation.target.probabilities));
  evaluation.full_reward = std::move(reward);
  return absl::OkStatus();
}

// The global model's exact distribution against the target(s).
absl::Status ScoreGlobalModel(Evaluation& evaluation) {
  ASSIGN_OR_RETURN(
      evaluation.learned,
      LearnedProbabilities(absl::GetFlag(FLAGS_model), *evaluation.environment,
                           evaluation.target.states));
  evaluation.tv_learned =
      TotalVariation(evaluation.learned, evaluation.target.probabilities);
  std::printf("TV(global model, exact product)      = %.6f\n",
              evaluation.tv_learned);
  if (evaluation.full.has_value()) {
    evaluation.tv_learned_full =
        TotalVariation(evaluation.learned, evaluation.full->probabilities);
    std::printf("TV(global model, full-data posterior) = %.6f\n",
                evaluation.tv_learned_full);
  }
  return absl::OkStatus();
}

// The empirical distribution of --samples, when given, against the
// target(s), with the noise floor of that many samples.
absl::Status ScoreSamples(Evaluation& evaluation) {
  if (absl::GetFlag(FLAGS_samples).empty()) return absl::OkStatus();
  const TerminalDistribution& target = evaluation.target;
  ASSIGN_OR_RETURN(torch::Tensor samples,
                   ReadSampleStates(absl::GetFlag(FLAGS_samples),
                                    evaluation.environment->raw_state_dim()));
  const int64_t num_samples = samples.size(0);
  evaluation.num_samples = num_samples;
  evaluation.samples = samples;
  evaluation.empirical = EmpiricalDistribution(samples, target.states);
  evaluation.tv_empirical =
      TotalVariation(evaluation.empirical, target.probabilities);
  // The sampling noise floor, for reading the number above: the TV the
  // exact learned distribution itself would show with as many samples is
  // about sum_x sqrt(p(1-p)/(2 pi n)).
  const double floor = (target.probabilities * (1 - target.probabilities) /
                        (2 * M_PI * num_samples))
                           .sqrt()
                           .sum()
                           .item<double>();
  std::printf(
      "TV(%lld samples, exact product)    = %.6f (sampling noise "
      "alone: ~%.4f)\n",
      static_cast<long long>(num_samples), evaluation.tv_empirical, floor);
  if (evaluation.full.has_value()) {
    evaluation.tv_empirical_full =
        TotalVariation(evaluation.empirical, evaluation.full->probabilities);
    std::printf("TV(%lld samples, full-data posterior) = %.6f\n",
                static_cast<long long>(num_samples),
                evaluation.tv_empirical_full);
  }
  return absl::OkStatus();
}

// The line of one estimate against the DP's exact edge marginals.
absl::StatusOr<EdgeMarginalError> PrintEdgeError(
    const std::string& what, const std::vector<double>& estimate,
    const EdgeMarginals& exact, const std::string& target) {
  ASSIGN_OR_RETURN(
      EdgeMarginalError error,
      CompareEdgeMarginals(exact.nodes, estimate, exact.probabilities));
  std::printf(
      "edge marginals, %s vs exact DP of the %s: max abs error %.4f, mean abs "
      "error %.4f\n",
      what.c_str(), target.c_str(), error.max_abs, error.mean_abs);
  return error;
}

// DAGs: the exact edge marginals of the product target and of the full-data
// posterior by the DP, the DP checked against the enumeration, and the
// errors of the global model and of the samples against both.
absl::Status ScoreEdgeMarginals(Evaluation& evaluation) {
  const auto* dag =
      dynamic_cast<const DagEnvironment*>(evaluation.environment.get());
  if (dag == nullptr) return absl::OkStatus();
  const int64_t d = dag->nodes();
  std::vector<const LogReward*> factors;
  for (const auto& reward : evaluation.rewards) factors.push_back(reward.get());
  ASSIGN_OR_RETURN(const EdgeMarginals product,
                   ExactEdgeMarginals(*dag, factors));
  const TerminalDistribution& target = evaluation.target;
  ASSIGN_OR_RETURN(
      const EdgeMarginalError check,
      CompareEdgeMarginals(
          d, EdgeMarginalsOf(target.states, target.probabilities, d),
          product.probabilities));
  evaluation.dp_vs_enumeration = check.max_abs;
  std::printf(
      "exact edge marginals by the Tian-He DP (product target; normalizer "
      "check %.1e): max |DP - enumeration| = %.3g\n",
      product.normalizer_check, check.max_abs);
  std::optional<EdgeMarginals> full;
  if (evaluation.full_reward != nullptr) {
    ASSIGN_OR_RETURN(full,
                     ExactEdgeMarginals(*dag, {evaluation.full_reward.get()}));
    ASSIGN_OR_RETURN(
        const EdgeMarginalError full_check,
        CompareEdgeMarginals(
            d,
            EdgeMarginalsOf(target.states, evaluation.full->probabilities, d),
            full->probabilities));
    evaluation.dp_vs_enumeration =
        std::max(evaluation.dp_vs_enumeration, full_check.max_abs);
    ASSIGN_OR_RETURN(
        const EdgeMarginalError gap,
        CompareEdgeMarginals(d, product.probabilities, full->probabilities));
    std::printf(
        "exact edge marginals by the DP (full-data posterior): max |DP - "
        "enumeration| = %.3g; product vs full data: max %.4f, mean %.4f\n",
        full_check.max_abs, gap.max_abs, gap.mean_abs);
  }
  const std::vector<double> learned =
      EdgeMarginalsOf(target.states, evaluation.learned, d);
  ASSIGN_OR_RETURN(evaluation.edge_learned,
                   PrintEdgeError("global model (exact)", learned, product,
                                  "product target"));
  if (full.has_value()) {
    ASSIGN_OR_RETURN(evaluation.edge_learned_full,
                     PrintEdgeError("global model (exact)", learned, *full,
                                    "full-data posterior"));
  }
  if (!evaluation.samples.defined()) return absl::OkStatus();
  const std::vector<double> sampled =
      SampledEdgeMarginals(evaluation.samples, d);
  const std::string what = absl::StrCat(evaluation.num_samples, " samples");
  double noise = 0;  // the largest Monte Carlo standard error
  for (double p : product.probabilities) {
    noise = std::max(noise, std::sqrt(p * (1 - p) / evaluation.num_samples));
  }
  ASSIGN_OR_RETURN(evaluation.edge_empirical,
                   PrintEdgeError(what, sampled, product, "product target"));
  std::printf("  (sampling noise alone: standard error up to %.4f)\n", noise);
  if (full.has_value()) {
    ASSIGN_OR_RETURN(
        evaluation.edge_empirical_full,
        PrintEdgeError(what, sampled, *full, "full-data posterior"));
  }
  return absl::OkStatus();
}

// Each client's local model (--client_models) against its own reward, and,
// for a 2-D hypergrid, the heatmap rows of the figure: the product first,
// then one per client.
absl::StatusOr<std::vector<PanelRow>> CompareClients(
    const Evaluation& evaluation, int side) {
  const Environment& environment = *evaluation.environment;
  const torch::Tensor& states = evaluation.target.states;
  const int num_clients = static_cast<int>(evaluation.rewards.size());
  std::vector<std::string> client_models;
  if (!absl::GetFlag(FLAGS_client_models).empty()) {
    client_models = absl::StrSplit(absl::GetFlag(FLAGS_client_models), ',');
    if (static_cast<int>(client_models.size()) != num_clients) {
      return absl::InvalidArgumentError(
          "--client_models needs one file per client");
    }
  }
  const bool heatmaps = side > 0;
  std::vector<PanelRow> rows;
  if (heatmaps) {
    rows.push_back(
        {"product",
         {ToHeatmap(states, evaluation.target.probabilities, side,
                    "product of rewards: exact target"),
          ToHeatmap(states, evaluation.learned, side, "global model (exact)"),
          evaluation.empirical.defined()
              ? ToHeatmap(states, evaluation.empirical, side,
                          absl::StrCat(evaluation.num_samples, " samples"))
              : HeatmapFigure()}});
  }
  for (int i = 0; i < num_clients; ++i) {
    const torch::Tensor client_target =
        NormalizedReward(*evaluation.rewards[i], states);
    torch::Tensor client_learned;
    if (!client_models.empty()) {
      ASSIGN_OR_RETURN(
          client_learned,
          LearnedProbabilities(client_models[i], environment, states));
      std::printf("client-%d: TV(local model, own reward) = %.6f\n", i,
                  TotalVariation(client_learned, client_target));
      if (const auto* dag = dynamic_cast<const DagEnvironment*>(&environment)) {
        ASSIGN_OR_RETURN(
            const EdgeMarginals own,
            ExactEdgeMarginals(*dag, {evaluation.rewards[i].get()}));
        RETURN_IF_ERROR(
            PrintEdgeError(
                absl::StrCat("client-", i, " local model (exact)"),
                EdgeMarginalsOf(states, client_learned, dag->nodes()), own,
                "own reward")
                .status());
      }
    }
    if (heatmaps) {
      PanelRow row{absl::StrCat("client_", i),
                   {ToHeatmap(states, client_target, side,
                              absl::StrCat("client ", i, ": own reward"))}};
      if (client_learned.defined()) {
        row.panels.push_back(
            ToHeatmap(states, client_learned, side,
                      absl::StrCat("client ", i, ": local model (exact)")));
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

// The figures of an environment that is not a 2-D hypergrid: the most
// probable objects, and for trees their clades.
absl::Status WriteObjectCharts(const Evaluation& evaluation,
                               const std::string& png_dir) {
  const Environment& environment = *evaluation.environment;
  const TerminalDistribution& target = evaluation.target;
  RETURN_IF_ERROR(MakeDirectories(png_dir));
  const std::vector<int64_t> order =
      TopK(target.probabilities, absl::GetFlag(FLAGS_top_k));
  Bars bars;
  AddSeries(bars, "exact product target", target.probabilities, order);
  AddSeries(bars, "global model (exact)", evaluation.learned, order);
  AddSeries(bars, "samples", evaluation.empirical, order);
  if (evaluation.full.has_value()) {
    AddSeries(bars, "full-data posterior", evaluation.full->probabilities,
              order);
  }
  std::vector<std::string> labels;
  for (int64_t index : order) {
    labels.push_back(environment.Describe(target.states[index]));
  }
  const std::string kind = environment.config().kind;
  RETURN_IF_ERROR(
      WriteBars(bars, png_dir + "/top_objects",
                absl::StrCat("The ", labels.size(),
                             " most probable objects under the product target"),
                kind == "dag"     ? "DAG (its edges, parent->child)"
                : kind == "phylo" ? "tree topology (Newick)"
                                  : absl::StrCat(kind, " object"),
                labels));
  if (const auto* phylo = dynamic_cast<const PhyloEnvironment*>(&environment)) {
    RETURN_IF_ERROR(
        WriteCladeChart(*phylo, target.states,
                        {{"exact posterior", target.probabilities},
                         {"global model (exact)", evaluation.learned},
                         {"samples", evaluation.empirical}},
                        absl::GetFlag(FLAGS_top_k), png_dir));
  }
  return absl::OkStatus();
}

absl::Status Run() {
  RETURN_IF_ERROR(CheckFlags());
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  Evaluation evaluation;
  RETURN_IF_ERROR(
      BuildFederation(absl::GetFlag(FLAGS_num_clients), evaluation));
  RETURN_IF_ERROR(ComputeProductTarget(evaluation));
  RETURN_IF_ERROR(ComputeFullDataPosterior(evaluation));
  RETURN_IF_ERROR(ScoreGlobalModel(evaluation));
  RETURN_IF_ERROR(ScoreSamples(evaluation));
  RETURN_IF_ERROR(ScoreEdgeMarginals(evaluation));
  const Environment& environment = *evaluation.environment;
  if (evaluation.full.has_value() && environment.config().kind == "dag") {
    std::printf(
        "note: BGe integrates out the network parameters, so the product of "
        "the clients' posteriors (what EP-GFlowNets targets) is not the "
        "full-data posterior: it counts the parameter prior once per client. "
        "Only the TV to the product measures the federation.\n");
  }
  const int side = HeatmapSide(environment, evaluation.target.states);
  ASSIGN_OR_RETURN(std::vector<PanelRow> rows,
                   CompareClients(evaluation, side));
  const std::string png_dir = absl::GetFlag(FLAGS_png_dir);
  if (!png_dir.empty()) {
    RETURN_IF_ERROR(side > 0 ? WriteHeatmaps(std::move(rows), png_dir)
                             : WriteObjectCharts(evaluation, png_dir));
  }
  // One machine-readable line for scripts.
  // The edge_* fields (-1 but for DAGs): max and mean absolute error of the
  // edge marginals against the exact DP of the product (and _full: of the
  // full-data posterior); dp_vs_enumeration: the DP's largest difference
  // from the enumerated marginals.
  std::printf(
      "RESULT tv_learned=%.6f tv_empirical=%.6f num_samples=%lld "
      "tv_learned_full=%.6f tv_empirical_full=%.6f edge_max_learned=%.6f "
      "edge_mean_learned=%.6f edge_max_empirical=%.6f "
      "edge_mean_empirical=%.6f edge_max_learned_full=%.6f "
      "edge_mean_learned_full=%.6f edge_max_empirical_full=%.6f "
      "edge_mean_empirical_full=%.6f dp_vs_enumeration=%.3g\n",
      evaluation.tv_learned, evaluation.tv_empirical,
      static_cast<long long>(evaluation.num_samples),
      evaluation.tv_learned_full, evaluation.tv_empirical_full,
      evaluation.edge_learned.max_abs, evaluation.edge_learned.mean_abs,
      evaluation.edge_empirical.max_abs, evaluation.edge_empirical.mean_abs,
      evaluation.edge_learned_full.max_abs,
      evaluation.edge_learned_full.mean_abs,
      evaluation.edge_empirical_full.max_abs,
      evaluation.edge_empirical_full.mean_abs, evaluation.dp_vs_enumeration);
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Exact evaluation of a federated global model against the product of "
      "the clients' rewards, with figures drawn by gnuplot.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode("evaluate", epgfn::Run());
}
