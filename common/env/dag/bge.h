#ifndef EPGFN_COMMON_ENV_DAG_BGE_H_
#define EPGFN_COMMON_ENV_DAG_BGE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env/dag/bge_statistics.h"
#include "common/env/dag/data.h"

namespace epgfn {

// The BGe score (Geiger & Heckerman 1994, 2002) of a DAG for continuous data:
// the marginal likelihood p(D | G) of a linear-Gaussian network whose mean
// and precision carry a Normal-Wishart prior, in the corrected form of
// Kuipers, Moffa & Heckerman (2014), "Addendum on the scoring of Gaussian
// directed acyclic graphical models", Ann. Statist. 42(4).
//
// Hyper-parameters (the standard choice of that paper and of BiDAG):
//   mu0 = 0                 prior mean of the observations;
//   alpha_mu (default 1)    equivalent sample size of the mean;
//   alpha_w (default d + 2) Wishart degrees of freedom, must exceed d + 1;
//   T = t I, t = alpha_mu (alpha_w - d - 1) / (alpha_mu + 1)
//                           prior scale, chosen so that the prior predictive
//                           covariance of one observation is the identity
//                           (suits standardised data; the data are used as
//                           given, not rescaled).
// With N rows, sample mean xbar and scatter S = sum_r (x_r - xbar)(x_r -
// xbar)^T, the posterior scale is R = T + S + N alpha_mu / (N + alpha_mu)
// (xbar - mu0)(xbar - mu0)^T and, for a set Y of l variables,
//   p(D^Y) = (alpha_mu / (N + alpha_mu))^(l/2)
//            Gamma_l((N + alpha_w - d + l) / 2)
//          / (pi^(N l / 2) Gamma_l((alpha_w - d + l) / 2))
//            |T_YY|^((alpha_w - d + l) / 2)
//          / |R_YY|^((N + alpha_w - d + l) / 2)
// (Gamma_l the multivariate gamma function). The score factorises over
// nodes: p(D | G) = prod_j p(D^{Pa_j + j}) / p(D^{Pa_j}), and it is score
// equivalent (Markov-equivalent DAGs score the same).
//
// Federated use: BGe integrates the parameters out, so for disjoint data
// p(D_1, D_2 | G) = p(D_1 | G) p(D_2 | D_1, G) != p(D_1 | G) p(D_2 | G). The
// product of client rewards (each with its own rows) is therefore a valid
// distribution over DAGs but NOT the full-data posterior; it counts the prior
// on the parameters once per client. A stream of blocks at one client can be
// exact instead (CreateConditional): block t scores
//   log p(D_t | D_<t, G) = log p(D_<=t | G) - log p(D_<t | G),
// which needs of the earlier blocks only their sufficient statistics
// (bge_statistics.h), and the blocks' scores then sum to log p(D_<=t | G).
//
// Local scores in double precision: LocalScore(node, parents) is the exact
// log p(D^{Pa + j}) - log p(D^{Pa}) that the reward sums (the reward tensor
// holds these same doubles), for exact references such as dynamic
// programming over parent sets. With a maximum in-degree k (max_parents),
// only parent sets of at most k nodes are tabulated (sum_{s<=k} C(d, s) per
// node instead of 2^(d-1)); a larger parent set has local score -infinity,
// i.e. such graphs are outside the hypothesis space, exactly as the dag
// environment with the same max_parents never builds them.
class BGeScore {
 public:
  // Largest table (nodes x parent sets) Create accepts: 2^23 doubles, 64 MiB.
  // d = 20 without a maximum in-degree would need 20 x 2^20; with
  // max_parents = 4 it needs 20 x 6,196.
  static constexpr int64_t kMaxTableEntries = int64_t{1} << 23;
  static constexpr int64_t kMaxNodes = 32;

  // Precomputes of `data` (columns = nodes, 1 <= d <= 32)
  // for parent sets of at most `max_parents` nodes (< 0 or >= d - 1: no
  // limit). alpha_w <= 0 selects the default d + 2. InvalidArgument for
  // alpha_mu <= 0, alpha_w <= d + 1, an empty dataset, or a table larger
  // than kMaxTableEntries (the message suggests a max_parents that fits).
  static absl::StatusOr<BGeScore> Create(const Dataset& data, double alpha_mu,
                                         double alpha_w,
                                         int64_t max_parents = -1);
  // The same from the data's statistics (Create(data) is
  // Create(BgeSufficientStatistics::Of(data)), bit for bit). InvalidArgument
  // also for a scatter that is not positive semi-definite.
  static absl::StatusOr<BGeScore> Create(const BgeSufficientStatistics& data,
                                         double alpha_mu, double alpha_w,
                                         int64_t max_parents = -1);
  // The conditional score of new data given earlier data of the same
  // variables: every log marginal (and so every local score) is
  //   log p(D_given + D^Y) - log p(D_given^Y),
  // the marginal likelihood of `data` under the posterior that `given` left.
  // Empty `given` (rows 0): Create(data). InvalidArgument as Create, and
  // when the two name different columns.
  static absl::StatusOr<BGeScore> CreateConditional(
      const BgeSufficientStatistics& given, const BgeSufficientStatistics& data,
      double alpha_mu, double alpha_w, int64_t max_parents = -1);

  int64_t nodes() const { return nodes_; }
  double alpha_mu() const { return alpha_mu_; }
  double alpha_w() const { return alpha_w_; }
  // The maximum in-degree (d - 1 when unlimited).
  int64_t max_parents() const { return max_parents_; }

  // log p(D^Y) for the variables in the bit mask `subset` (bit i = node i),
  // which holds at most max_parents + 1 variables.
  double LogMarginal(uint64_t subset) const;
  // log p(D^{parents + node}) - log p(D^{parents}) in double precision;
  // `parents` is a bit mask without `node`. -infinity when it holds more
  // than max_parents nodes.
  double LocalScore(int64_t node, uint64_t parents) const;
  // log p(D | G) for a row-major 0/1 adjacency matrix (i -> j at i * d + j);
  // -infinity when a node has more than max_parents parents.
  double LogScore(const std::vector<int64_t>& adjacency) const;

  // The table behind LocalScore, for vectorised lookups: parent sets of at
  // most max_parents nodes are ranked by size, then colexicographically
  // (for one size, by increasing bit mask):
  //   ParentSetIndex(P) = sum_{s < |P|} C(d, s) + sum_t C(c_t, t)
  // with c_1 < c_2 < ... the members of P (the combinatorial number system).
  // num_parent_sets() = sum_{s <= max_parents} C(d, s).
  int64_t num_parent_sets() const { return num_parent_sets_; }
  int64_t ParentSetIndex(uint64_t parents) const;
  // [nodes * num_parent_sets()], row `node` indexed by ParentSetIndex;
  // entries whose set contains the node itself are 0 and never used.
  const std::vector<double>& local_score_table() const { return local_scores_; }
  // The same local scores indexed by parent mask, the layout of dynamic
  // programmes over subsets: [nodes * 2^nodes], row `node` at
  // node * 2^nodes + parents. Entries whose mask contains the node are 0 and
  // never used; parent sets beyond max_parents are -infinity. Built on each
  // call (2^nodes doubles per node); empty for more than 24 nodes.
  std::vector<double> local_scores() const;
  // C(n, t) for n < nodes, t <= max_parents + 1, as
  // [n * (max_parents + 2) + t], and offset[s] = sum_{s' < s} C(d, s') for
  // s <= max_parents + 1: what a vectorised ParentSetIndex needs.
  const std::vector<int64_t>& binomials() const { return binomials_; }
  const std::vector<int64_t>& size_offsets() const { return size_offsets_; }

 private:
  BGeScore() = default;
  // local_scores_ from log_marginals_.
  void FillLocalScores();

  int64_t nodes_ = 0;
  double alpha_mu_ = 0.0;
  double alpha_w_ = 0.0;
  int64_t max_parents_ = 0;
  int64_t num_parent_sets_ = 0;
  std::vector<int64_t> binomials_;
  std::vector<int64_t> size_offsets_;
  // Ranked like parent sets, but over sets of up to max_parents + 1 nodes.
  std::vector<double> log_marginals_;
  std::vector<int64_t> marginal_offsets_;
  std::vector<double> local_scores_;  // [nodes * num_parent_sets_]
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_BGE_H_
