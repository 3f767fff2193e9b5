// The dag rewards (MakeDagReward, DagStreamStatistics) and the environment's
// registration; the environment itself is in dag.cc.
#include <glog/logging.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/client_share.h"
#include "common/env/dag/dag.h"
#include "common/env/environment_registry.h"
#include "common/util/event_log.h"
#include "common/util/status_macros.h"

namespace epgfn {

namespace {

// log BGe(D_i | G) = sum_j local[j, rank(Pa_j)], every local score of the
// parent sets within max_parents precomputed in double (bge.h).
class BGeLikelihood : public LogReward {
 public:
  BGeLikelihood(const BGeScore& score, std::string description)
      : nodes_(score.nodes()),
        max_parents_(score.max_parents()),
        parent_sets_(score.num_parent_sets()),
        table_(torch::tensor(score.local_score_table(), torch::kFloat64)),
        binomials_(torch::tensor(score.binomials(), torch::kInt64)),
        size_offsets_(torch::tensor(score.size_offsets(), torch::kInt64)),
        description_(std::move(description)) {}

  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    const int64_t batch = states.size(0);
    const int64_t d = nodes_;
    const int64_t stride = max_parents_ + 2;
    const auto device = states.device();
    at::Tensor adjacency = states.narrow(1, 0, d * d).reshape({batch, d, d});
    // The parent set of node j is column j. Its rank (bge.h) is
    // offset[|Pa_j|] + sum over members i of C(i, t_i), where t_i counts the
    // members up to and including i.
    at::Tensor members_so_far = adjacency.cumsum(1).clamp_max(stride - 1);
    at::Tensor row =
        torch::arange(d, torch::dtype(torch::kInt64).device(device))
            .view({1, d, 1});
    at::Tensor binomial =
        binomials_.to(device).take(row * stride + members_so_far);
    at::Tensor size = adjacency.sum(1);  // [B, d]
    at::Tensor rank =
        size_offsets_.to(device).take(size.clamp_max(max_parents_)) +
        (adjacency * binomial).sum(1);
    at::Tensor node =
        torch::arange(d, torch::dtype(torch::kInt64).device(device))
            .view({1, d});
    // (Clamped so that an over-full parent set, masked below, stays in range.)
    at::Tensor local = table_.to(device).take(node * parent_sets_ +
                                              rank.clamp_max(parent_sets_ - 1));
    // Beyond max_parents a graph lies outside the model (the environment
    // never builds one); -inf rather than a wrong table entry.
    local = local.masked_fill(size > max_parents_,
                              -std::numeric_limits<double>::infinity());
    return local.sum(1);
  }
  std::string Describe() const override { return description_; }

 private:
  int64_t nodes_;
  int64_t max_parents_;
  int64_t parent_sets_;
  at::Tensor table_;         // [d * parent_sets] float64, CPU
  at::Tensor binomials_;     // [d * (max_parents + 2)] int64
  at::Tensor size_offsets_;  // [max_parents + 3] int64
  std::string description_;
};

// log prior(G) = -penalty |E|, in double.
class EdgePrior : public LogReward {
 public:
  EdgePrior(int64_t nodes, double penalty, std::string description)
      : nodes_(nodes),
        penalty_(penalty),
        description_(std::move(description)) {}

  at::Tensor LogRewardFloat64(const at::Tensor& states) const override {
    return -penalty_ *
           states.narrow(1, 0, nodes_ * nodes_).sum(1).to(torch::kFloat64);
  }
  std::string Describe() const override { return description_; }

 private:
  int64_t nodes_;
  double penalty_;
  std::string description_;
};

// The client's rows as a dataset whose columns are the environment's nodes
// in order, and words for the reward's description.
absl::StatusOr<Dataset> LoadData(const DagEnvironment& environment,
                                 const ParamMap& params, std::string* source) {
  const int64_t d = environment.nodes();
  constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();
  ASSIGN_OR_RETURN(const int64_t synthetic,
                   params.GetInt("synthetic", 0, 0, 1));
  const std::string path = params.GetString("data", "");
  if (synthetic == 1) {
    if (!path.empty()) {
      return absl::InvalidArgumentError(
          "dag reward: give either data=PATH or synthetic=1, not both");
    }
    ASSIGN_OR_RETURN(const int64_t samples,
                     params.GetInt("samples", 100, 2, 10'000'000));
    ASSIGN_OR_RETURN(const double edge_prob,
                     params.GetDouble("edge_prob", 0.5, 0.0, 1.0));
    ASSIGN_OR_RETURN(const int64_t data_seed,
                     params.GetInt("data_seed", 0, 0, kMaxSeed));
    ASSIGN_OR_RETURN(
        LinearGaussianNetwork network,
        SampleLinearGaussianNetwork(d, edge_prob, samples, data_seed));
    *source = absl::StrCat("synthetic data (", samples, " rows, edge_prob ",
                           edge_prob, ", data_seed ", data_seed, ")");
    if (!environment.variables().empty()) {
      network.data.names = environment.variables();
    }
    return std::move(network.data);
  }
  for (const char* key : {"samples", "edge_prob", "data_seed"}) {
    if (params.Has(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("dag reward: ", key, " applies only with synthetic=1"));
    }
  }
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "dag reward needs a data source: data=PATH (CSV or TSV) or "
        "synthetic=1");
  }
  if (environment.variables().empty()) {
    ASSIGN_OR_RETURN(Dataset data, ReadTable(path));
    if (data.columns() != d) {
      return absl::InvalidArgumentError(absl::StrCat(
          "data ", path, " has ", data.columns(),
          " columns but the environment has ", d,
          " unnamed nodes (name them with variables=a;b;... to match columns "
          "by name)"));
    }
    *source = absl::StrCat("data ", path, " (columns by position)");
    return data;
  }
  std::vector<std::string> ignored;
  ASSIGN_OR_RETURN(Dataset data,
                   ReadTable(path, environment.variables(), &ignored));
  *source = absl::StrCat("data ", path, " (columns by name)");
  if (!ignored.empty()) {
    LOG(INFO) << Event("dag_data_columns_ignored")
                     .With("file", path)
                     .With("columns", absl::StrJoin(ignored, ";"));
    absl::StrAppend(source, ", ignored columns ", absl::StrJoin(ignored, ";"));
  }
  return data;
}

// The rows a dag reward scores (after the index/count split and any
// standardisation) and words for its description.
struct Share {
  Dataset rows;
  std::string words;
  bool standardized = false;
};

absl::StatusOr<Share> LoadShare(const DagEnvironment& environment,
                                const ParamMap& params) {
  std::string source;
  ASSIGN_OR_RETURN(const Dataset data, LoadData(environment, params, &source));
  ASSIGN_OR_RETURN(const ClientShare client_share, ReadClientShare(params));
  const std::string split = params.GetString("split", "contiguous");
  ASSIGN_OR_RETURN(const int64_t seed, ReadRewardSeed(params));
  ASSIGN_OR_RETURN(std::vector<int64_t> rows,
                   ClientRows(data.rows, client_share.index, client_share.count,
                              split, seed));
  Share share;
  share.rows = data.Subset(rows);
  ASSIGN_OR_RETURN(const int64_t standardize,
                   params.GetInt("standardize", 0, 0, 1));
  share.standardized = standardize == 1;
  if (share.standardized) RETURN_IF_ERROR(Standardize(&share.rows, source));
  share.words =
      client_share.count == 1
          ? absl::StrCat(share.rows.rows, " rows of ", source)
          : absl::StrCat("share ", client_share.index, " of ",
                         client_share.count, ": ", share.rows.rows, " of ",
                         data.rows, " rows of ", source, ", ", split, " split");
  return share;
}

// The statistics of the earlier blocks a stream's block is conditioned on
// (`given`); empty statistics without it.
absl::StatusOr<BgeSufficientStatistics> LoadGiven(const ParamMap& params,
                                                  const Share& share) {
  if (!params.Has("given")) return BgeSufficientStatistics();
  const std::string path = params.GetString("given", "");
  if (share.standardized) {
    // Each block would be scaled by its own rows: not one dataset any more.
    return absl::InvalidArgumentError(
        "dag reward: given= (a stream's earlier blocks) cannot be combined "
        "with standardize=1; standardise every block with the same constants "
        "beforehand");
  }
  ASSIGN_OR_RETURN(BgeSufficientStatistics given, ReadBgeStatistics(path));
  if (given.names != share.rows.names) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dag reward: the statistics in ", path, " are of columns '",
        absl::StrJoin(given.names, ";"), "' but the new data's are '",
        absl::StrJoin(share.rows.names, ";"), "'"));
  }
  return given;
}

const std::vector<std::string>& DagRewardKeys() {
  static const auto* const keys = new std::vector<std::string>{
      "data",        "synthetic", "samples", "edge_prob", "data_seed",
      "standardize", "alpha_mu",  "alpha_w", "prior",     "edge_penalty",
      "index",       "count",     "split",   "seed",      "given"};
  return *keys;
}

absl::Status CheckBge(const RewardConfig& config) {
  if (config.kind != "bge") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown dag reward kind '", config.kind, "'; expected 'bge'"));
  }
  return config.params.CheckKeys(DagRewardKeys());
}

}  // namespace

absl::StatusOr<BgeSufficientStatistics> DagStreamStatistics(
    const DagEnvironment& environment, const RewardConfig& config) {
  RETURN_IF_ERROR(CheckBge(config));
  ASSIGN_OR_RETURN(const Share share, LoadShare(environment, config.params));
  if (share.standardized) {
    return absl::InvalidArgumentError(
        "dag reward: a standardised block (standardize=1) has no statistics "
        "that a later block could build on; standardise every block with the "
        "same constants beforehand");
  }
  ASSIGN_OR_RETURN(BgeSufficientStatistics all,
                   LoadGiven(config.params, share));
  RETURN_IF_ERROR(all.Merge(BgeSufficientStatistics::Of(share.rows)));
  return all;
}

absl::StatusOr<RewardParts> MakeDagReward(const DagEnvironment& environment,
                                          const RewardConfig& config) {
  RETURN_IF_ERROR(CheckBge(config));
  const ParamMap& params = config.params;
  const int64_t d = environment.nodes();
  ASSIGN_OR_RETURN(const Share share, LoadShare(environment, params));
  ASSIGN_OR_RETURN(const BgeSufficientStatistics given,
                   LoadGiven(params, share));

  ASSIGN_OR_RETURN(const double alpha_mu,
                   params.GetDouble("alpha_mu", 1.0, 1e-12, 1e12));
  ASSIGN_OR_RETURN(const double alpha_w,
                   params.GetDouble("alpha_w", static_cast<double>(d) + 2.0,
                                    static_cast<double>(d) + 1.0, 1e12));
  ASSIGN_OR_RETURN(BGeScore score,
                   BGeScore::CreateConditional(
                       given, BgeSufficientStatistics::Of(share.rows), alpha_mu,
                       alpha_w, environment.max_parents()));

  const std::string prior = params.GetString("prior", "uniform");
  double penalty = 0.0;
  if (prior == "edges") {
    ASSIGN_OR_RETURN(penalty, params.GetDouble("edge_penalty", 1.0, 0.0, 1e6));
  } else if (prior != "uniform") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown prior '", prior, "'; expected 'uniform' or 'edges'"));
  } else if (params.Has("edge_penalty")) {
    return absl::InvalidArgumentError(
        "edge_penalty applies only with prior=edges");
  }
  RewardParts parts;
  // The uniform prior is a constant: no part (the registry's convention).
  if (prior == "edges") {
    parts.log_prior = std::make_unique<EdgePrior>(
        d, penalty, absl::StrCat("edge prior, -", penalty, " per edge"));
  }
  parts.log_likelihood = std::make_unique<BGeLikelihood>(
      score,
      absl::StrCat("dag BGe likelihood (", share.words,
                   share.standardized ? ", standardised" : "",
                   given.rows == 0
                       ? ""
                       : absl::StrCat(", given ", given.rows, " earlier rows (",
                                      params.GetString("given", ""), ")"),
                   "; max_parents ", environment.max_parents(), ")"));
  return parts;
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "dag",
    TypedEnvironmentFactory<DagEnvironment>(
        "dag:variables=a;b;...|nodes=d (2..32)[,max_parents=k]. Rewards: "
        "bge:data=PATH (CSV/TSV, columns by name)|synthetic=1[,samples,"
        "edge_prob,data_seed,standardize=0|1,alpha_mu,alpha_w,"
        "prior=uniform|edges,edge_penalty,temperature,given=STATS (a "
        "stream's earlier blocks); experiments: index,count,split="
        "contiguous|random,seed]",
        &MakeDagReward));

}  // namespace
}  // namespace epgfn
