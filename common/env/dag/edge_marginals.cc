#include "common/env/dag/edge_marginals.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// log(exp(a) + exp(b)), exact for -inf operands.
double LogAddExp(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == kNegInf) return a;
  return a + std::log1p(std::exp(b - a));
}

// log(exp(a) - exp(b)) for an inclusion-exclusion sum whose exact value is
// non-negative; -inf where rounding left b >= a.
double LogSubExp(double a, double b) {
  if (!(a > b)) return kNegInf;
  if (b == kNegInf) return a;
  return a + std::log1p(-std::exp(b - a));
}

// A signed sum kept as the log of its positive and negative parts.
struct SignedLogSum {
  double positive = kNegInf;
  double negative = kNegInf;

  void Add(double log_term, bool is_positive) {
    double& part = is_positive ? positive : negative;
    part = LogAddExp(part, log_term);
  }
  double Log() const { return LogSubExp(positive, negative); }
};

int PopCount(uint32_t mask) { return __builtin_popcount(mask); }
int LowestBit(uint32_t mask) { return __builtin_ctz(mask); }

// log f_j(S) for every node and parent mask: [nodes * 2^nodes], -inf for
// masks containing j or exceeding max_parents.
absl::StatusOr<std::vector<double>> LogFactors(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options) {
  if (nodes < 1 || nodes > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("edge marginals need 1 to 16 nodes, got ", nodes));
  }
  const int64_t subsets = int64_t{1} << nodes;
  if (static_cast<int64_t>(local_scores.size()) != nodes * subsets) {
    return absl::InvalidArgumentError(absl::StrCat(
        "local score table has ", local_scores.size(), " entries, expected ",
        nodes, " x 2^", nodes, " = ", nodes * subsets));
  }
  if (!std::isfinite(options.edge_penalty)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "edge_penalty must be finite, got ", options.edge_penalty));
  }
  if (options.max_parents < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_parents must be -1 (no limit) or >= 0, got ",
                     options.max_parents));
  }
  const int64_t max_parents =
      options.max_parents < 0 ? nodes : options.max_parents;
  std::vector<double> log_factors(nodes * subsets, kNegInf);
  for (int64_t j = 0; j < nodes; ++j) {
    for (int64_t mask = 0; mask < subsets; ++mask) {
      const int parents = PopCount(static_cast<uint32_t>(mask));
      if ((mask >> j) & 1 || parents > max_parents) continue;
      const double score = local_scores[j * subsets + mask];
      if (!std::isfinite(score)) {
        return absl::InvalidArgumentError(
            absl::StrCat("local score of node ", j, " with parent mask ", mask,
                         " is not finite: ", score));
      }
      log_factors[j * subsets + mask] = score - options.edge_penalty * parents;
    }
  }
  return log_factors;
}

// log prod_{k in T} A_k(W) for every T subset of `complement` (indexed by T;
// other entries untouched), by adding one node at a time.
void LogProductsOverSubsets(const std::vector<double>& log_a, int64_t subsets,
                            uint32_t w, uint32_t complement,
                            std::vector<double>& log_products) {
  log_products[0] = 0.0;
  // Subsets of `complement` in increasing order: T without its lowest bit
  // is a smaller subset, already filled in.
  for (uint32_t t = (0 - complement) & complement; t != 0;
       t = (t - complement) & complement) {
    const int k = LowestBit(t);
    log_products[t] = log_products[t & (t - 1)] + log_a[k * subsets + w];
  }
}

// The sizes every step shares.
struct SubsetSpace {
  int64_t d;
  int64_t subsets;  // 2^d
  uint32_t full;    // the mask of all d nodes
};

// 1. log A_j(W) = log sum_{S subset of W} f_j(S), for W without j.
std::vector<double> LogParentSetSums(const SubsetSpace& space,
                                     const std::vector<double>& log_f) {
  std::vector<double> log_a = log_f;
  for (int64_t j = 0; j < space.d; ++j) {
    double* row = &log_a[j * space.subsets];
    for (int64_t b = 0; b < space.d; ++b) {
      if (b == j) continue;
      for (uint32_t w = 0; w < space.subsets; ++w) {
        if ((w >> b) & 1 && !((w >> j) & 1)) {
          row[w] = LogAddExp(row[w], row[w ^ (1u << b)]);
        }
      }
    }
  }
  return log_a;
}

// 2. Forward: log Z(U), pushed from each finished W = U \ T to U.
std::vector<double> ForwardLogZ(const SubsetSpace& space,
                                const std::vector<double>& log_a) {
  std::vector<double> log_products(space.subsets, kNegInf);
  std::vector<SignedLogSum> z_sums(space.subsets);
  std::vector<double> log_z(space.subsets, kNegInf);
  log_z[0] = 0.0;
  for (uint32_t w = 0; w < space.subsets; ++w) {
    if (w != 0) log_z[w] = z_sums[w].Log();
    if (log_z[w] == kNegInf) continue;
    const uint32_t complement = space.full & ~w;
    LogProductsOverSubsets(log_a, space.subsets, w, complement, log_products);
    for (uint32_t t = (0 - complement) & complement; t != 0;
         t = (t - complement) & complement) {
      z_sums[w | t].Add(log_z[w] + log_products[t], PopCount(t) % 2 == 1);
    }
  }
  return log_z;
}

// 3. Backward: log H(W) and log K_j(W), pulled from the larger sets W + T;
// returns log K ([d * 2^d]).
std::vector<double> BackwardLogK(const SubsetSpace& space,
                                 const std::vector<double>& log_a,
                                 const std::vector<double>& log_z) {
  std::vector<double> log_products(space.subsets, kNegInf);
  std::vector<double> log_h(space.subsets, kNegInf);
  std::vector<double> log_k(space.d * space.subsets, kNegInf);
  log_h[space.full] = 0.0;
  std::vector<SignedLogSum> k_sums(space.d);
  for (int64_t w_index = space.subsets - 2; w_index >= 0; --w_index) {
    const uint32_t w = static_cast<uint32_t>(w_index);
    const uint32_t complement = space.full & ~w;
    LogProductsOverSubsets(log_a, space.subsets, w, complement, log_products);
    SignedLogSum h_sum;
    std::fill(k_sums.begin(), k_sums.end(), SignedLogSum());
    for (uint32_t t = (0 - complement) & complement; t != 0;
         t = (t - complement) & complement) {
      if (log_h[w | t] == kNegInf) continue;
      const double log_term = log_products[t] + log_h[w | t];
      const bool positive = PopCount(t) % 2 == 1;
      h_sum.Add(log_term, positive);
      for (uint32_t rest = t; rest != 0; rest &= rest - 1) {
        const int j = LowestBit(rest);
        k_sums[j].Add(log_term - log_a[j * space.subsets + w], positive);
      }
    }
    log_h[w] = h_sum.Log();
    if (log_z[w] == kNegInf) continue;
    for (uint32_t rest = complement; rest != 0; rest &= rest - 1) {
      const int j = LowestBit(rest);
      log_k[j * space.subsets + w] = log_z[w] + k_sums[j].Log();
    }
  }
  return log_k;
}

// 4. Gamma_j = superset sums of K_j over sets without j, then the edge sums
// into node j (log_k's row j is transformed in place). Returns the log of
// the total over parent sets of j, which must equal log Z (the check).
double AccumulateEdgesInto(const SubsetSpace& space, int64_t j,
                           const std::vector<double>& log_f,
                           std::vector<double>& log_k, double log_normalizer,
                           std::vector<double>& probabilities) {
  double* gamma = &log_k[j * space.subsets];
  for (int64_t b = 0; b < space.d; ++b) {
    if (b == j) continue;
    for (uint32_t s = 0; s < space.subsets; ++s) {
      if (!((s >> b) & 1) && !((s >> j) & 1)) {
        gamma[s] = LogAddExp(gamma[s], gamma[s | (1u << b)]);
      }
    }
  }
  double log_total = kNegInf;
  std::vector<double> log_edge(space.d, kNegInf);
  for (uint32_t s = 0; s < space.subsets; ++s) {
    if ((s >> j) & 1) continue;
    const double log_term = log_f[j * space.subsets + s] + gamma[s];
    if (log_term == kNegInf) continue;
    log_total = LogAddExp(log_total, log_term);
    for (uint32_t rest = s; rest != 0; rest &= rest - 1) {
      const int i = LowestBit(rest);
      log_edge[i] = LogAddExp(log_edge[i], log_term);
    }
  }
  for (int64_t i = 0; i < space.d; ++i) {
    if (i == j) continue;
    probabilities[i * space.d + j] =
        std::min(1.0, std::exp(log_edge[i] - log_normalizer));
  }
  return log_total;
}

}  // namespace

absl::StatusOr<EdgeMarginals> ComputeEdgeMarginals(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options) {
  absl::StatusOr<std::vector<double>> factors =
      LogFactors(nodes, local_scores, options);
  if (!factors.ok()) return factors.status();
  const std::vector<double>& log_f = *factors;
  const int64_t subsets = int64_t{1} << nodes;
  const SubsetSpace space{nodes, subsets, static_cast<uint32_t>(subsets - 1)};

  const std::vector<double> log_a = LogParentSetSums(space, log_f);
  const std::vector<double> log_z = ForwardLogZ(space, log_a);
  std::vector<double> log_k = BackwardLogK(space, log_a, log_z);

  EdgeMarginals result;
  result.nodes = nodes;
  result.log_normalizer = log_z[space.full];
  result.probabilities.assign(nodes * nodes, 0.0);
  for (int64_t j = 0; j < nodes; ++j) {
    const double log_total = AccumulateEdgesInto(
        space, j, log_f, log_k, result.log_normalizer, result.probabilities);
    result.normalizer_check = std::max(
        result.normalizer_check, std::abs(log_total - result.log_normalizer));
  }
  return result;
}

absl::StatusOr<std::vector<double>> SumLocalScores(
    const std::vector<BGeScore>& clients) {
  if (clients.empty()) {
    return absl::InvalidArgumentError("SumLocalScores needs a client");
  }
  std::vector<double> sum = clients[0].local_scores();
  for (size_t c = 1; c < clients.size(); ++c) {
    if (clients[c].nodes() != clients[0].nodes()) {
      return absl::InvalidArgumentError(
          absl::StrCat("client ", c, " has ", clients[c].nodes(),
                       " nodes, client 0 has ", clients[0].nodes()));
    }
    const std::vector<double>& scores = clients[c].local_scores();
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += scores[k];
  }
  return sum;
}

absl::StatusOr<std::vector<uint32_t>> EnumerateDagParentMasks(int64_t nodes) {
  if (nodes < 1 || nodes > 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DAG enumeration is limited to 1 to 5 nodes, got ", nodes));
  }
  const uint32_t full = (1u << nodes) - 1;
  const int64_t choices = int64_t{1} << (nodes - 1);  // parent sets per node
  int64_t combinations = 1;
  for (int64_t j = 0; j < nodes; ++j) combinations *= choices;
  std::vector<uint32_t> dags;
  std::vector<uint32_t> parents(nodes);
  for (int64_t code = 0; code < combinations; ++code) {
    // Digit j of `code` in base 2^(d-1) picks node j's parents among the
    // other d - 1 nodes: spread the digit's bits around bit j.
    int64_t rest = code;
    for (int64_t j = 0; j < nodes; ++j) {
      const uint32_t digit = static_cast<uint32_t>(rest % choices);
      rest /= choices;
      const uint32_t low = digit & ((1u << j) - 1);
      parents[j] = low | ((digit ^ low) << 1);
    }
    // Acyclic iff nodes can be removed one at a time, each without parents
    // among those left.
    uint32_t left = full;
    bool progress = true;
    while (left != 0 && progress) {
      progress = false;
      for (int64_t j = 0; j < nodes; ++j) {
        if ((left >> j) & 1 && (parents[j] & left) == 0) {
          left &= ~(1u << j);
          progress = true;
        }
      }
    }
    if (left == 0) dags.insert(dags.end(), parents.begin(), parents.end());
  }
  return dags;
}

namespace {

// Every DAG (EnumerateDagParentMasks) and its log prod_j f_j(Pa_j).
struct EnumeratedTarget {
  std::vector<uint32_t> dags;
  std::vector<double> log_target;
};

absl::StatusOr<EnumeratedTarget> EnumerateTarget(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options) {
  absl::StatusOr<std::vector<uint32_t>> dags = EnumerateDagParentMasks(nodes);
  if (!dags.ok()) return dags.status();
  absl::StatusOr<std::vector<double>> log_f =
      LogFactors(nodes, local_scores, options);
  if (!log_f.ok()) return log_f.status();
  const int64_t subsets = int64_t{1} << nodes;
  EnumeratedTarget target;
  target.dags = *std::move(dags);
  const int64_t count = static_cast<int64_t>(target.dags.size()) / nodes;
  target.log_target.assign(count, 0.0);
  for (int64_t g = 0; g < count; ++g) {
    for (int64_t j = 0; j < nodes; ++j) {
      target.log_target[g] +=
          (*log_f)[j * subsets + target.dags[g * nodes + j]];
    }
  }
  return target;
}

}  // namespace

absl::StatusOr<std::vector<double>> LogTargetOfEveryDag(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options) {
  absl::StatusOr<EnumeratedTarget> target =
      EnumerateTarget(nodes, local_scores, options);
  if (!target.ok()) return target.status();
  return std::move(target->log_target);
}

absl::StatusOr<EdgeMarginals> EdgeMarginalsByEnumeration(
    int64_t nodes, const std::vector<double>& local_scores,
    const ModularDagPosteriorOptions& options) {
  absl::StatusOr<EnumeratedTarget> target =
      EnumerateTarget(nodes, local_scores, options);
  if (!target.ok()) return target.status();
  const std::vector<double>& log_target = target->log_target;
  const std::vector<uint32_t>& dags = target->dags;
  const double log_max =
      *std::max_element(log_target.begin(), log_target.end());
  double total = 0.0;
  std::vector<double> edge_sums(nodes * nodes, 0.0);
  for (size_t g = 0; g < log_target.size(); ++g) {
    const double weight = std::exp(log_target[g] - log_max);
    total += weight;
    for (int64_t j = 0; j < nodes; ++j) {
      for (uint32_t rest = dags[g * nodes + j]; rest != 0; rest &= rest - 1) {
        edge_sums[LowestBit(rest) * nodes + j] += weight;
      }
    }
  }
  EdgeMarginals result;
  result.nodes = nodes;
  result.log_normalizer = log_max + std::log(total);
  result.probabilities.resize(nodes * nodes);
  for (int64_t k = 0; k < nodes * nodes; ++k) {
    result.probabilities[k] = edge_sums[k] / total;
  }
  return result;
}

}  // namespace epgfn
