#include "common/env/dag/bge.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

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

// Calls visit(mask) for every subset of `size` of d elements, in increasing
// mask order (which is colexicographic order of the sets), with Gosper's
// hack for the next mask of the same popcount.
template <typename Visit>
void ForEachSubsetOfSize(int64_t d, int64_t size, Visit visit) {
  if (size == 0) {
    visit(uint64_t{0});
    return;
  }
  const uint64_t end = uint64_t{1} << d;
  for (uint64_t mask = (uint64_t{1} << size) - 1; mask < end;) {
    visit(mask);
    const uint64_t lowest = mask & (~mask + 1);
    const uint64_t ripple = mask + lowest;
    mask = (((ripple ^ mask) >> 2) / lowest) | ripple;
  }
}

}  // namespace

int64_t BGeScore::ParentSetIndex(uint64_t parents) const {
  const int64_t stride = max_parents_ + 2;
  int64_t rank = 0;
  int64_t t = 0;
  for (int64_t i = 0; i < nodes_ && parents >> i != 0; ++i) {
    if (parents >> i & 1) {
      ++t;
      if (t > max_parents_ + 1) return -1;
      rank += binomials_[i * stride + t];
    }
  }
  return size_offsets_[t] + rank;
}

double BGeScore::LogMarginal(uint64_t subset) const {
  const int64_t index = ParentSetIndex(subset);
  return index < 0 ? std::numeric_limits<double>::quiet_NaN()
                   : log_marginals_[index];
}

double BGeScore::LocalScore(int64_t node, uint64_t parents) const {
  if (__builtin_popcountll(parents) > max_parents_) {
    return -std::numeric_limits<double>::infinity();
  }
  return local_scores_[node * num_parent_sets_ + ParentSetIndex(parents)];
}

namespace {

// The rank tables of the parent sets: binomials[i * stride + t] = C(i, t)
// for i < d, and size_offsets[s] = the number of sets of fewer than s
// elements (stride = max_parents + 2, the sets' sizes 0..max_parents + 1).
struct RankTables {
  std::vector<int64_t> binomials;
  std::vector<int64_t> size_offsets;
};

// Pascal's triangle up to C(d, max_parents + 1).
RankTables MakeRankTables(int64_t d, int64_t max_parents) {
  const int64_t stride = max_parents + 2;
  std::vector<int64_t> pascal((d + 1) * stride, 0);
  for (int64_t n = 0; n <= d; ++n) {
    pascal[n * stride] = 1;
    for (int64_t t = 1; t < stride && t <= n; ++t) {
      pascal[n * stride + t] = pascal[(n - 1) * stride + t - 1] +
                               (t <= n - 1 ? pascal[(n - 1) * stride + t] : 0);
    }
  }
  RankTables tables;
  tables.binomials.assign(pascal.begin(), pascal.begin() + d * stride);
  tables.size_offsets.assign(stride + 1, 0);
  for (int64_t s = 0; s < stride; ++s) {
    tables.size_offsets[s + 1] =
        tables.size_offsets[s] + pascal[d * stride + s];
  }
  return tables;
}

// The refusal of a table over kMaxTableEntries entries, naming the largest
// max_parents that fits.
absl::Status TableTooLarge(int64_t d, int64_t max_parents,
                           const std::vector<int64_t>& size_offsets,
                           int64_t num_parent_sets) {
  int64_t fits = 0;
  while (fits + 1 < max_parents &&
         size_offsets[fits + 2] <= BGeScore::kMaxTableEntries / d) {
    ++fits;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "BGe local-score table for ", d, " variables with up to ", max_parents,
      " parents each would hold ", d, " x ", num_parent_sets,
      " entries (limit ", BGeScore::kMaxTableEntries,
      "); set a maximum in-degree on the environment, e.g. max_parents=",
      fits));
}

// R = t I + S + N alpha_mu / (N + alpha_mu) xbar xbar^T (mu0 = 0), row-major
// d x d.
std::vector<double> PosteriorScale(const BgeSufficientStatistics& statistics,
                                   double alpha_mu, double t) {
  const int64_t d = statistics.columns();
  const double n = static_cast<double>(statistics.rows);
  const std::vector<double>& mean = statistics.mean;
  std::vector<double> posterior_scale = statistics.scatter;
  const double shrink = n * alpha_mu / (n + alpha_mu);
  for (int64_t a = 0; a < d; ++a) {
    for (int64_t b = 0; b < d; ++b) {
      posterior_scale[a * d + b] += shrink * mean[a] * mean[b];
    }
    posterior_scale[a * d + a] += t;
  }
  return posterior_scale;
}

// log p(D^Y) for every Y of at most max_parents + 1 of the d variables, in
// rank order (by size, then increasing mask); n data rows.
std::vector<double> SubsetLogMarginals(
    const std::vector<double>& posterior_scale, int64_t d, double n,
    double alpha_mu, double alpha_w, double t, int64_t max_parents,
    int64_t num_subsets) {
  const double log_t = std::log(t);
  std::vector<double> log_marginals;
  log_marginals.reserve(num_subsets);
  std::vector<int64_t> members;
  for (int64_t size = 0; size <= max_parents + 1; ++size) {
    ForEachSubsetOfSize(d, size, [&](uint64_t subset) {
      if (size == 0) {
        log_marginals.push_back(0.0);
        return;
      }
      members.clear();
      for (int64_t i = 0; i < d; ++i) {
        if (subset >> i & 1) members.push_back(i);
      }
      const double l = static_cast<double>(size);
      const double prior_dof = alpha_w - static_cast<double>(d) + l;
      const double posterior_dof = n + prior_dof;
      log_marginals.push_back(
          0.5 * l * std::log(alpha_mu / (n + alpha_mu)) +
          LogMultivariateGamma(size, 0.5 * posterior_dof) -
          LogMultivariateGamma(size, 0.5 * prior_dof) - 0.5 * n * l * kLogPi +
          0.5 * prior_dof * l * log_t -
          0.5 * posterior_dof * LogDetSubmatrix(posterior_scale, d, members));
    });
  }
  return log_marginals;
}

}  // namespace

absl::StatusOr<BGeScore> BGeScore::Create(const Dataset& data, double alpha_mu,
                                          double alpha_w, int64_t max_parents) {
  return Create(BgeSufficientStatistics::Of(data), alpha_mu, alpha_w,
                max_parents);
}

absl::StatusOr<BGeScore> BGeScore::Create(const BgeSufficientStatistics& data,
                                          double alpha_mu, double alpha_w,
                                          int64_t max_parents) {
  const int64_t d = data.columns();
  if (d < 1 || d > kMaxNodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("BGe needs 1 to ", kMaxNodes, " variables, got ", d));
  }
  if (data.rows < 1) {
    return absl::InvalidArgumentError("BGe needs at least one data row");
  }
  if (max_parents < 0 || max_parents > d - 1) max_parents = d - 1;
  if (alpha_w <= 0.0) alpha_w = static_cast<double>(d) + 2.0;
  if (!(alpha_mu > 0.0) || !std::isfinite(alpha_mu)) {
    return absl::InvalidArgumentError(
        absl::StrCat("alpha_mu must be positive, got ", alpha_mu));
  }
  if (!(alpha_w > static_cast<double>(d) + 1.0) || !std::isfinite(alpha_w)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "alpha_w must exceed nodes + 1 = ", d + 1, ", got ", alpha_w));
  }

  BGeScore score;
  score.nodes_ = d;
  score.alpha_mu_ = alpha_mu;
  score.alpha_w_ = alpha_w;
  score.max_parents_ = max_parents;
  RankTables tables = MakeRankTables(d, max_parents);
  score.binomials_ = std::move(tables.binomials);
  score.size_offsets_ = std::move(tables.size_offsets);
  score.num_parent_sets_ = score.size_offsets_[max_parents + 1];
  if (score.num_parent_sets_ > kMaxTableEntries / d) {
    return TableTooLarge(d, max_parents, score.size_offsets_,
                         score.num_parent_sets_);
  }

  const double t =
      alpha_mu * (alpha_w - static_cast<double>(d) - 1.0) / (alpha_mu + 1.0);
  score.log_marginals_ = SubsetLogMarginals(
      PosteriorScale(data, alpha_mu, t), d, static_cast<double>(data.rows),
      alpha_mu, alpha_w, t, max_parents, score.size_offsets_[max_parents + 2]);
  for (const double log_marginal : score.log_marginals_) {
    // Only statistics read from a file can get here: rows give a positive
    // semi-definite scatter, and R = tI + S is then positive definite.
    if (!std::isfinite(log_marginal)) {
      return absl::InvalidArgumentError(
          "BGe statistics whose scatter matrix is not positive semi-definite");
    }
  }
  score.FillLocalScores();
  return score;
}

void BGeScore::FillLocalScores() {
  local_scores_.assign(nodes_ * num_parent_sets_, 0.0);
  for (int64_t node = 0; node < nodes_; ++node) {
    const uint64_t bit = uint64_t{1} << node;
    double* row = &local_scores_[node * num_parent_sets_];
    int64_t index = 0;  // the rank of `parents`: they come in rank order
    for (int64_t size = 0; size <= max_parents_; ++size) {
      ForEachSubsetOfSize(nodes_, size, [&](uint64_t parents) {
        if ((parents & bit) == 0) {
          row[index] = log_marginals_[ParentSetIndex(parents | bit)] -
                       log_marginals_[index];
        }
        ++index;
      });
    }
  }
}

absl::StatusOr<BGeScore> BGeScore::CreateConditional(
    const BgeSufficientStatistics& given, const BgeSufficientStatistics& data,
    double alpha_mu, double alpha_w, int64_t max_parents) {
  if (given.rows == 0) return Create(data, alpha_mu, alpha_w, max_parents);
  if (data.rows < 1) {
    return absl::InvalidArgumentError("BGe needs at least one data row");
  }
  BgeSufficientStatistics all = given;
  RETURN_IF_ERROR(all.Merge(data));
  ASSIGN_OR_RETURN(BGeScore score, Create(all, alpha_mu, alpha_w, max_parents));
  ASSIGN_OR_RETURN(const BGeScore earlier,
                   Create(given, alpha_mu, alpha_w, max_parents));
  // The same hyper-parameters and in-degree, so the tables align entry for
  // entry. log p(D_t | D_<t) per subset is the difference of the two log
  // marginals, and so is every local score.
  for (size_t k = 0; k < score.log_marginals_.size(); ++k) {
    score.log_marginals_[k] -= earlier.log_marginals_[k];
  }
  score.FillLocalScores();
  return score;
}

std::vector<double> BGeScore::local_scores() const {
  constexpr int64_t kMaxMaskTableNodes = 24;
  if (nodes_ > kMaxMaskTableNodes) return {};
  const uint64_t subsets = uint64_t{1} << nodes_;
  std::vector<double> by_mask(nodes_ * subsets, 0.0);
  for (int64_t node = 0; node < nodes_; ++node) {
    for (uint64_t parents = 0; parents < subsets; ++parents) {
      if (parents >> node & 1) continue;
      by_mask[node * subsets + parents] = LocalScore(node, parents);
    }
  }
  return by_mask;
}

double BGeScore::LogScore(const std::vector<int64_t>& adjacency) const {
  double total = 0.0;
  for (int64_t j = 0; j < nodes_; ++j) {
    uint64_t parents = 0;
    for (int64_t i = 0; i < nodes_; ++i) {
      if (adjacency[i * nodes_ + j] != 0) parents |= uint64_t{1} << i;
    }
    total += LocalScore(j, parents);
  }
  return total;
}

}  // namespace epgfn
