#include "common/env/dag/bge.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

constexpr double kLogPi = 1.14472988584940017414;  // log(pi)

// log Gamma_p(x) = p(p-1)/4 log(pi) + sum_{k=1..p} log Gamma(x + (1 - k)/2).
double LogMultivariateGamma(int64_t p, double x) {
  double result = 0.25 * static_cast<double>(p * (p - 1)) * kLogPi;
  for (int64_t k = 1; k <= p; ++k) {
    result += std::lgamma(x + 0.5 * static_cast<double>(1 - k));
  }
  return result;
}

// log det of the symmetric positive definite submatrix of the row-major
// n x n `matrix` on `indices`, by Cholesky. R = tI + (PSD) is positive
// definite for t > 0, so the pivots stay positive.
double LogDetSubmatrix(const std::vector<double>& matrix, int64_t n,
                       const std::vector<int64_t>& indices) {
  const int64_t m = static_cast<int64_t>(indices.size());
  std::vector<double> a(m * m);
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t c = 0; c < m; ++c) {
      a[r * m + c] = matrix[indices[r] * n + indices[c]];
    }
  }
  double log_det = 0.0;
  for (int64_t k = 0; k < m; ++k) {
    double pivot = a[k * m + k];
    for (int64_t s = 0; s < k; ++s) pivot -= a[k * m + s] * a[k * m + s];
    const double root = std::sqrt(pivot);
    a[k * m + k] = root;
    log_det += 2.0 * std::log(root);
    for (int64_t r = k + 1; r < m; ++r) {
      double value = a[r * m + k];
      for (int64_t s = 0; s < k; ++s) value -= a[r * m + s] * a[k * m + s];
      a[r * m + k] = value / root;
    }
  }
  return log_det;
}

}  // namespace

absl::StatusOr<BGeScore> BGeScore::Create(const Dataset& data, double alpha_mu,
                                          double alpha_w) {
  const int64_t d = data.columns();
  if (d < 1 || d > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("BGe needs 1 to 16 variables, got ", d));
  }
  if (data.rows < 1) {
    return absl::InvalidArgumentError("BGe needs at least one data row");
  }
  if (alpha_w <= 0.0) alpha_w = static_cast<double>(d) + 2.0;
  if (!(alpha_mu > 0.0) || !std::isfinite(alpha_mu)) {
    return absl::InvalidArgumentError(
        absl::StrCat("alpha_mu must be positive, got ", alpha_mu));
  }
  if (!(alpha_w > static_cast<double>(d) + 1.0) || !std::isfinite(alpha_w)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "alpha_w must exceed nodes + 1 = ", d + 1, ", got ", alpha_w));
  }
  const double n = static_cast<double>(data.rows);
  const double t =
      alpha_mu * (alpha_w - static_cast<double>(d) - 1.0) / (alpha_mu + 1.0);

  // R = t I + S + N alpha_mu / (N + alpha_mu) xbar xbar^T (mu0 = 0).
  std::vector<double> mean(d, 0.0);
  for (int64_t r = 0; r < data.rows; ++r) {
    for (int64_t c = 0; c < d; ++c) mean[c] += data.at(r, c);
  }
  for (double& m : mean) m /= n;
  std::vector<double> posterior_scale(d * d, 0.0);
  for (int64_t r = 0; r < data.rows; ++r) {
    for (int64_t a = 0; a < d; ++a) {
      const double da = data.at(r, a) - mean[a];
      for (int64_t b = 0; b < d; ++b) {
        posterior_scale[a * d + b] += da * (data.at(r, b) - mean[b]);
      }
    }
  }
  const double shrink = n * alpha_mu / (n + alpha_mu);
  for (int64_t a = 0; a < d; ++a) {
    for (int64_t b = 0; b < d; ++b) {
      posterior_scale[a * d + b] += shrink * mean[a] * mean[b];
    }
    posterior_scale[a * d + a] += t;
  }

  BGeScore score;
  score.nodes_ = d;
  score.alpha_mu_ = alpha_mu;
  score.alpha_w_ = alpha_w;
  const int64_t subsets = int64_t{1} << d;
  score.log_marginals_.assign(subsets, 0.0);
  const double log_t = std::log(t);
  for (int64_t subset = 1; subset < subsets; ++subset) {
    std::vector<int64_t> members;
    for (int64_t i = 0; i < d; ++i) {
      if (subset >> i & 1) members.push_back(i);
    }
    const double l = static_cast<double>(members.size());
    const double prior_dof = alpha_w - static_cast<double>(d) + l;
    const double posterior_dof = n + prior_dof;
    score.log_marginals_[subset] =
        0.5 * l * std::log(alpha_mu / (n + alpha_mu)) +
        LogMultivariateGamma(members.size(), 0.5 * posterior_dof) -
        LogMultivariateGamma(members.size(), 0.5 * prior_dof) -
        0.5 * n * l * kLogPi + 0.5 * prior_dof * l * log_t -
        0.5 * posterior_dof * LogDetSubmatrix(posterior_scale, d, members);
  }
  score.local_scores_.assign(d * subsets, 0.0);
  for (int64_t node = 0; node < d; ++node) {
    for (int64_t parents = 0; parents < subsets; ++parents) {
      if (parents >> node & 1) continue;
      score.local_scores_[node * subsets + parents] =
          score.log_marginals_[parents | (int64_t{1} << node)] -
          score.log_marginals_[parents];
    }
  }
  return score;
}

double BGeScore::LogScore(const std::vector<int64_t>& adjacency) const {
  double total = 0.0;
  for (int64_t j = 0; j < nodes_; ++j) {
    uint32_t parents = 0;
    for (int64_t i = 0; i < nodes_; ++i) {
      if (adjacency[i * nodes_ + j] != 0) parents |= uint32_t{1} << i;
    }
    total += LocalScore(j, parents);
  }
  return total;
}

}  // namespace epgfn
