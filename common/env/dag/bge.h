#ifndef EPGFN_COMMON_ENV_DAG_BGE_H_
#define EPGFN_COMMON_ENV_DAG_BGE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
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
// on the parameters once per client.
class BGeScore {
 public:
  // Precomputes every local score of `data` (columns = nodes, 1 <= d <= 16).
  // alpha_w <= 0 selects the default d + 2. InvalidArgument for
  // alpha_mu <= 0, alpha_w <= d + 1, or an empty dataset.
  static absl::StatusOr<BGeScore> Create(const Dataset& data, double alpha_mu,
                                         double alpha_w);

  int64_t nodes() const { return nodes_; }
  double alpha_mu() const { return alpha_mu_; }
  double alpha_w() const { return alpha_w_; }

  // log p(D^Y) for the variables in the bit mask `subset` (bit i = node i).
  double LogMarginal(uint32_t subset) const { return log_marginals_[subset]; }
  // log p(D^{parents + node}) - log p(D^{parents}); `parents` is a bit mask
  // without `node`.
  double LocalScore(int64_t node, uint32_t parents) const {
    return local_scores_[node * (int64_t{1} << nodes_) + parents];
  }
  // [nodes * 2^nodes], row `node` indexed by parent mask; entries whose mask
  // contains the node itself are 0 and never used.
  const std::vector<double>& local_scores() const { return local_scores_; }
  // log p(D | G) for a row-major 0/1 adjacency matrix (i -> j at i * d + j).
  double LogScore(const std::vector<int64_t>& adjacency) const;

 private:
  BGeScore() = default;

  int64_t nodes_ = 0;
  double alpha_mu_ = 0.0;
  double alpha_w_ = 0.0;
  std::vector<double> log_marginals_;  // [2^nodes]
  std::vector<double> local_scores_;   // [nodes * 2^nodes]
};

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_BGE_H_
