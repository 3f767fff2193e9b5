#include "tests/demo/evaluation_figures.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

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

}  // namespace

// The distribution as a side x side heatmap; cell (x, y) is the object at
// those coordinates.
int HeatmapSide(const Environment& environment, const torch::Tensor& states) {
  const bool grid_2d = environment.config().kind == "hypergrid" &&
                       environment.raw_state_dim() == 2;
  return grid_2d ? static_cast<int>(states.max().item<int64_t>()) + 1 : 0;
}

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

// Bar chart of the most probable non-trivial clades (2..n-1 taxa) under the
// exact posterior, against the global model and the samples.
absl::Status WriteCladeChart(
    const PhyloEnvironment& phylo, const torch::Tensor& states,
    const std::vector<std::pair<std::string, torch::Tensor>>& distributions,
    int64_t top_k, const std::string& dir) {
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
  const std::vector<int64_t> order = TopK(frequencies[0], top_k);
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

// The figures of an environment that is not a 2-D hypergrid: the most
// probable objects, and for trees their clades.
absl::Status WriteObjectCharts(const Evaluation& evaluation, int64_t top_k,
                               const std::string& png_dir) {
  const Environment& environment = *evaluation.environment;
  const TerminalDistribution& target = evaluation.target;
  RETURN_IF_ERROR(MakeDirectories(png_dir));
  const std::vector<int64_t> order = TopK(target.probabilities, top_k);
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
                        top_k, png_dir));
  }
  return absl::OkStatus();
}

}  // namespace epgfn
