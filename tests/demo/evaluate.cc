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
#include "tests/demo/edge_marginal_scoring.h"
#include "tests/demo/evaluation.h"
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
    RETURN_IF_ERROR(side > 0
                        ? WriteHeatmaps(std::move(rows), png_dir)
                        : WriteObjectCharts(
                              evaluation, absl::GetFlag(FLAGS_top_k), png_dir));
  }
  PrintResultLine(evaluation);
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
