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
// phylogenetics also the clade (split) frequencies.
//
//   evaluate --config=deploy/configs/hypergrid_demo.textproto --num_clients=4
//     --model=out/demo/client-0/global_v1.model --samples=out/demo/samples.tsv
//     --png_dir=out/demo/png
//   evaluate --config=deploy/configs/dag_demo.textproto --num_clients=4
//     --client_rewards='bge:data=c0.csv;bge:data=c1.csv;...'
//     --full_data_reward=bge:data=common/env/dag/testdata/synthetic4.csv
//     --model=... --samples=... --png_dir=...
#include <google/protobuf/text_format.h>
#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/phylo.h"
#include "common/eval/exact_distribution.h"
#include "common/model/model_codec.h"
#include "common/model/spec_conversion.h"
#include "common/train/trajectory_target.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"
#include "proto/federation_spec.pb.h"
#include "tests/demo/figure.h"

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

constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

absl::StatusOr<v1::FederationSpec> ReadSpec(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path, 1 << 20));
  v1::FederationSpec spec;
  if (!google::protobuf::TextFormat::ParseFromString(text, &spec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a FederationSpec textproto"));
  }
  return spec;
}

// The state integers (first tab-separated field) of every line.
absl::StatusOr<torch::Tensor> ReadSampleStates(const std::string& path,
                                               int64_t state_dim) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, kMaxFileBytes));
  std::vector<int64_t> values;
  int64_t rows = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    const std::vector<absl::string_view> ints =
        absl::StrSplit(fields[0], ' ', absl::SkipEmpty());
    if (static_cast<int64_t>(ints.size()) != state_dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " line ", rows + 1, ": expected ", state_dim, " integers"));
    }
    for (absl::string_view field : ints) {
      int64_t value = 0;
      if (!absl::SimpleAtoi(field, &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " line ", rows + 1, ": not an integer"));
      }
      values.push_back(value);
    }
    ++rows;
  }
  if (rows == 0) return absl::InvalidArgumentError(path + " holds no samples");
  return torch::tensor(values, torch::kInt64).reshape({rows, state_dim});
}

// R(x)/Z on `states` (float64).
torch::Tensor NormalizedReward(const LogReward& reward,
                               const torch::Tensor& states) {
  torch::NoGradGuard no_grad;
  return torch::softmax(reward(states).to(torch::kFloat64), 0);
}

absl::StatusOr<torch::Tensor> LearnedProbabilities(
    const std::string& path, const Environment& environment,
    const torch::Tensor& states) {
  ASSIGN_OR_RETURN(v1::ModelWeights weights, ReadModelFile(path));
  ASSIGN_OR_RETURN(PolicyNet policy,
                   ImportModel(weights, environment, torch::kCPU));
  return ExactLearnedProbabilities(policy, environment, states);
}

// The distribution as a side x side heatmap; cell (x, y) is the object at
// those coordinates.
HeatmapFigure ToHeatmap(const torch::Tensor& states,
                        const torch::Tensor& probabilities, int side,
                        std::string title) {
  HeatmapFigure figure{std::move(title),
                       "x (grid coordinate)",
                       "y (grid coordinate)",
                       "probability",
                       side,
                       side,
                       std::vector<double>(side * side, 0.0)};
  auto s = states.accessor<int64_t, 2>();
  auto p = probabilities.to(torch::kFloat64).contiguous();
  const double* data = p.data_ptr<double>();
  for (int64_t i = 0; i < states.size(0); ++i) {
    figure.values[s[i][1] * side + s[i][0]] += data[i];
  }
  return figure;
}

struct PanelRow {
  std::string name;  // "product", "client_0", ...
  // target, learned (optional), empirical (optional; empty: no panel)
  std::vector<HeatmapFigure> panels;
};

// One page (one row per distribution, columns: target, learned, empirical;
// each row on one colour scale) and every panel on its own.
absl::Status WriteHeatmaps(std::vector<PanelRow> rows, const std::string& dir) {
  static const char* kColumns[] = {"target", "learned", "empirical"};
  std::vector<HeatmapFigure> panels;
  std::vector<std::string> stems;
  for (PanelRow& row : rows) {
    double max_value = 0;
    for (const HeatmapFigure& panel : row.panels) {
      for (double v : panel.values) max_value = std::max(max_value, v);
    }
    row.panels.resize(3);
    for (int c = 0; c < 3; ++c) {
      row.panels[c].max_value = max_value;
      panels.push_back(row.panels[c]);
      stems.push_back(absl::StrCat(row.name, "_", kColumns[c]));
    }
  }
  RETURN_IF_ERROR(WriteHeatmapPage(
      "Exact target, global/local model (exact) and samples, per "
      "distribution",
      panels, stems, 3, dir + "/overview"));
  std::string names;
  for (const PanelRow& row : rows) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", row.name);
  }
  std::printf(
      "figures: %s/overview.png (rows: %s; columns: target, learned, "
      "empirical), one PNG + TSV per panel next to it "
      "(overview_<row>_<column>.{png,tsv})\n",
      dir.c_str(), names.c_str());
  return absl::OkStatus();
}

// "kind" + "index=i,count=N" with the right separator.
std::string WithShare(const std::string& reward, int index, int count) {
  return absl::StrCat(reward, reward.find(':') == std::string::npos ? ":" : ",",
                      "index=", index, ",count=", count);
}

// Bars of several distributions over the same categories.
struct Bars {
  std::vector<std::string> series_names;
  std::vector<std::vector<double>> values;  // [series][category]
};

void AddSeries(Bars& bars, const std::string& name,
               const torch::Tensor& probabilities,
               const std::vector<int64_t>& order) {
  if (!probabilities.defined()) return;
  auto p = probabilities.to(torch::kFloat64).contiguous();
  const double* data = p.data_ptr<double>();
  std::vector<double> values;
  for (int64_t index : order) values.push_back(data[index]);
  bars.values.push_back(std::move(values));
  bars.series_names.push_back(name);
}

// Writes the chart (and its TSV) and prints one line per category.
absl::Status WriteBars(const Bars& bars, const std::string& stem,
                       const std::string& title, const std::string& x_label,
                       const std::vector<std::string>& labels) {
  BarFigure figure{title,  x_label,           "probability",
                   labels, bars.series_names, {}};
  for (size_t i = 0; i < labels.size(); ++i) {
    std::vector<double> row;
    for (const std::vector<double>& series : bars.values) {
      row.push_back(series[i]);
    }
    figure.values.push_back(std::move(row));
  }
  RETURN_IF_ERROR(WriteFigure(figure, stem));
  std::string legend;
  for (size_t s = 0; s < bars.series_names.size(); ++s) {
    absl::StrAppend(&legend, s == 0 ? "" : ", ", bars.series_names[s]);
  }
  std::printf("figure: %s.png, data %s.tsv (%s; bars: %s)\n", stem.c_str(),
              stem.c_str(), title.c_str(), legend.c_str());
  for (size_t i = 0; i < labels.size(); ++i) {
    std::string row;
    for (size_t s = 0; s < bars.values.size(); ++s) {
      absl::StrAppend(&row, s == 0 ? "" : " ",
                      absl::StrFormat("%.4f", bars.values[s][i]));
    }
    std::printf("  %2zu  %s  %s\n", i + 1, row.c_str(), labels[i].c_str());
  }
  return absl::OkStatus();
}

// Indices of the k largest entries of `p`, largest first.
std::vector<int64_t> TopK(const torch::Tensor& p, int64_t k) {
  k = std::min<int64_t>(k, p.size(0));
  torch::Tensor indices = std::get<1>(p.topk(k)).contiguous();
  return std::vector<int64_t>(indices.data_ptr<int64_t>(),
                              indices.data_ptr<int64_t>() + k);
}

// Clade (split) frequencies of rooted trees: a phylo state lists the leaf
// bitmasks of its internal nodes (phylo.h), so P(clade c) is the sum of p
// over the trees whose state contains c.
std::vector<double> CladeFrequencies(const torch::Tensor& states,
                                     const torch::Tensor& probabilities,
                                     const std::vector<int64_t>& clades) {
  std::vector<double> frequencies(clades.size(), 0.0);
  auto s = states.accessor<int64_t, 2>();
  auto p = probabilities.to(torch::kFloat64).contiguous();
  const double* data = p.data_ptr<double>();
  for (int64_t tree = 0; tree < states.size(0); ++tree) {
    for (int64_t j = 0; j < states.size(1); ++j) {
      const auto found =
          std::lower_bound(clades.begin(), clades.end(), s[tree][j]);
      if (found != clades.end() && *found == s[tree][j]) {
        frequencies[found - clades.begin()] += data[tree];
      }
    }
  }
  return frequencies;
}

// Bar chart of the most probable non-trivial clades (2..n-1 taxa) under the
// exact posterior, against the global model and the samples.
absl::Status WriteCladeChart(
    const PhyloEnvironment& phylo, const torch::Tensor& states,
    const std::vector<std::pair<std::string, torch::Tensor>>& distributions,
    const std::string& dir) {
  const int64_t n = phylo.num_taxa();
  const int64_t root = (int64_t{1} << n) - 1;
  std::vector<int64_t> clades;  // increasing, for the binary search
  for (int64_t mask = 1; mask < root; ++mask) {
    if (__builtin_popcountll(mask) >= 2) clades.push_back(mask);
  }
  std::vector<torch::Tensor> frequencies;
  for (const auto& [name, p] : distributions) {
    frequencies.push_back(
        p.defined() ? torch::tensor(CladeFrequencies(states, p, clades),
                                    torch::kFloat64)
                    : torch::Tensor());
  }
  const std::vector<int64_t> order =
      TopK(frequencies[0], absl::GetFlag(FLAGS_top_k));
  Bars bars;
  for (size_t d = 0; d < distributions.size(); ++d) {
    AddSeries(bars, distributions[d].first, frequencies[d], order);
  }
  std::vector<std::string> labels;
  for (int64_t index : order) {
    std::string names;
    for (int64_t k = 0; k < n; ++k) {
      if (clades[index] >> k & 1) {
        absl::StrAppend(&names, names.empty() ? "" : ",", phylo.taxa()[k]);
      }
    }
    labels.push_back("{" + names + "}");
  }
  return WriteBars(bars, dir + "/clade_frequencies",
                   "Clade (split) frequencies of the most probable clades "
                   "under the exact posterior",
                   "clade (taxa below one internal node)", labels);
}

absl::Status Run() {
  const int num_clients = absl::GetFlag(FLAGS_num_clients);
  if (absl::GetFlag(FLAGS_config).empty() ||
      absl::GetFlag(FLAGS_model).empty() || num_clients < 1) {
    return absl::InvalidArgumentError(
        "--config, --model and --num_clients >= 1 are required");
  }
  if (absl::GetFlag(FLAGS_threads) < 1) {
    return absl::InvalidArgumentError("--threads must be >= 1");
  }
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  ASSIGN_OR_RETURN(const v1::FederationSpec spec,
                   ReadSpec(absl::GetFlag(FLAGS_config)));
  ASSIGN_OR_RETURN(
      std::unique_ptr<Environment> environment,
      MakeEnvironment(EnvironmentConfigFromProto(spec.environment())));
  std::vector<std::unique_ptr<LogReward>> rewards;
  std::vector<const LogReward*> factors;
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
            ? MakeSplitLogReward(*environment, config)
            : MakeLogReward(*environment, config, RewardContext{num_clients}));
    factors.push_back(reward.get());
    rewards.push_back(std::move(reward));
  }
  ProductOfRewards product(factors);
  ASSIGN_OR_RETURN(TerminalDistribution target,
                   ExactTargetDistribution(*environment, product));
  const torch::Tensor& states = target.states;
  std::printf(
      "environment %s: %lld objects; exact target = normalized "
      "product of %d client rewards (client 0: %s)\n",
      environment->config().ToString().c_str(),
      static_cast<long long>(states.size(0)), num_clients,
      rewards[0]->Describe().c_str());
  {
    const torch::Tensor& p = target.probabilities;
    const int64_t mode = p.argmax().item<int64_t>();
    const double perplexity =
        std::exp(-(p * p.clamp_min(1e-300).log()).sum().item<double>());
    std::printf("target: mode %s with p = %.4f, perplexity %.1f objects\n",
                environment->Describe(states[mode]).c_str(),
                p[mode].item<double>(), perplexity);
  }
  std::optional<TerminalDistribution> full;
  if (!absl::GetFlag(FLAGS_full_data_reward).empty()) {
    ASSIGN_OR_RETURN(RewardConfig config,
                     RewardConfig::Parse(WithShare(
                         absl::GetFlag(FLAGS_full_data_reward), 0, 1)));
    ASSIGN_OR_RETURN(std::unique_ptr<LogReward> reward,
                     MakeSplitLogReward(*environment, config));
    ASSIGN_OR_RETURN(TerminalDistribution distribution,
                     ExactTargetDistribution(*environment, *reward));
    if (!distribution.states.equal(states)) {
      return absl::InternalError("the enumerations of the rewards differ");
    }
    full = std::move(distribution);
    std::printf("full-data posterior (%s): TV to the product target %.6f\n",
                reward->Describe().c_str(),
                TotalVariation(full->probabilities, target.probabilities));
  }

  ASSIGN_OR_RETURN(
      torch::Tensor learned,
      LearnedProbabilities(absl::GetFlag(FLAGS_model), *environment, states));
  const double tv_learned = TotalVariation(learned, target.probabilities);
  std::printf("TV(global model, exact product)      = %.6f\n", tv_learned);
  double tv_learned_full = -1;
  if (full.has_value()) {
    tv_learned_full = TotalVariation(learned, full->probabilities);
    std::printf("TV(global model, full-data posterior) = %.6f\n",
                tv_learned_full);
  }

  torch::Tensor empirical;
  double tv_empirical = -1;
  double tv_empirical_full = -1;
  int64_t num_samples = 0;
  if (!absl::GetFlag(FLAGS_samples).empty()) {
    ASSIGN_OR_RETURN(torch::Tensor samples,
                     ReadSampleStates(absl::GetFlag(FLAGS_samples),
                                      environment->raw_state_dim()));
    num_samples = samples.size(0);
    empirical = EmpiricalDistribution(samples, states);
    tv_empirical = TotalVariation(empirical, target.probabilities);
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
        static_cast<long long>(num_samples), tv_empirical, floor);
    if (full.has_value()) {
      tv_empirical_full = TotalVariation(empirical, full->probabilities);
      std::printf("TV(%lld samples, full-data posterior) = %.6f\n",
                  static_cast<long long>(num_samples), tv_empirical_full);
    }
  }
  if (full.has_value() && environment->config().kind == "dag") {
    std::printf(
        "note: BGe integrates out the network parameters, so the product of "
        "the clients' posteriors (what EP-GFlowNets targets) is not the "
        "full-data posterior: it counts the parameter prior once per client. "
        "Only the TV to the product measures the federation.\n");
  }

  std::vector<std::string> client_models;
  if (!absl::GetFlag(FLAGS_client_models).empty()) {
    client_models = absl::StrSplit(absl::GetFlag(FLAGS_client_models), ',');
    if (static_cast<int>(client_models.size()) != num_clients) {
      return absl::InvalidArgumentError(
          "--client_models needs one file per client");
    }
  }
  std::vector<PanelRow> rows;
  const bool grid_2d = environment->config().kind == "hypergrid" &&
                       environment->raw_state_dim() == 2;
  const int side =
      grid_2d ? static_cast<int>(states.max().item<int64_t>()) + 1 : 0;
  if (grid_2d) {
    rows.push_back(
        {"product",
         {ToHeatmap(states, target.probabilities, side,
                    "product of rewards: exact target"),
          ToHeatmap(states, learned, side, "global model (exact)"),
          empirical.defined() ? ToHeatmap(states, empirical, side,
                                          absl::StrCat(num_samples, " samples"))
                              : HeatmapFigure()}});
  }
  for (int i = 0; i < num_clients; ++i) {
    const torch::Tensor client_target = NormalizedReward(*rewards[i], states);
    torch::Tensor client_learned;
    if (!client_models.empty()) {
      ASSIGN_OR_RETURN(
          client_learned,
          LearnedProbabilities(client_models[i], *environment, states));
      std::printf("client-%d: TV(local model, own reward) = %.6f\n", i,
                  TotalVariation(client_learned, client_target));
    }
    if (grid_2d) {
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
  const std::string png_dir = absl::GetFlag(FLAGS_png_dir);
  if (!png_dir.empty()) {
    if (grid_2d) {
      RETURN_IF_ERROR(WriteHeatmaps(std::move(rows), png_dir));
    } else {
      RETURN_IF_ERROR(MakeDirectories(png_dir));
      const std::vector<int64_t> order =
          TopK(target.probabilities, absl::GetFlag(FLAGS_top_k));
      Bars bars;
      AddSeries(bars, "exact product target", target.probabilities, order);
      AddSeries(bars, "global model (exact)", learned, order);
      AddSeries(bars, "samples", empirical, order);
      if (full.has_value()) {
        AddSeries(bars, "full-data posterior", full->probabilities, order);
      }
      std::vector<std::string> labels;
      for (int64_t index : order) {
        labels.push_back(environment->Describe(states[index]));
      }
      const std::string kind = environment->config().kind;
      RETURN_IF_ERROR(WriteBars(
          bars, png_dir + "/top_objects",
          absl::StrCat("The ", labels.size(),
                       " most probable objects under the product target"),
          kind == "dag"     ? "DAG (its edges, parent->child)"
          : kind == "phylo" ? "tree topology (Newick)"
                            : absl::StrCat(kind, " object"),
          labels));
      if (const auto* phylo =
              dynamic_cast<const PhyloEnvironment*>(environment.get())) {
        RETURN_IF_ERROR(
            WriteCladeChart(*phylo, states,
                            {{"exact posterior", target.probabilities},
                             {"global model (exact)", learned},
                             {"samples", empirical}},
                            png_dir));
      }
    }
  }
  // One machine-readable line for scripts.
  std::printf(
      "RESULT tv_learned=%.6f tv_empirical=%.6f num_samples=%lld "
      "tv_learned_full=%.6f tv_empirical_full=%.6f\n",
      tv_learned, tv_empirical, static_cast<long long>(num_samples),
      tv_learned_full, tv_empirical_full);

  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Exact evaluation of a federated global model against the product of "
      "the clients' rewards, with figures drawn by gnuplot.");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = epgfn::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "evaluate: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
