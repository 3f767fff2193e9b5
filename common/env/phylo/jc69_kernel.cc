#include "common/env/phylo/jc69_kernel.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"

namespace epgfn {
namespace {

constexpr double kScaleThreshold = 0x1p-256;
constexpr double kScaleFactor = 0x1p256;
const double kLogScaleFactor = 256.0 * std::log(2.0);

// The largest pattern weight folded into RootNode's running product.
constexpr int kMaxPower = 16;

// About 256 KiB of internal partials per block (an L2's share), whatever
// the number of taxa.
constexpr int64_t kBlockDoubles = int64_t{1} << 15;

// A child's propagated partials at pattern i of the block. The node loops
// are instantiated per pair of child kinds, so that the tip-or-internal
// choice is made once per node rather than once per pattern.
struct TipChild {
  const uint8_t* masks;      // the tip's masks from the block's start
  const double (*table)[4];  // propagated partials by mask
  const double* at(int64_t i) const { return table[masks[i]]; }
};
struct InternalChild {
  const double* partials;  // [block, 4]
  const double* at(int64_t i) const { return partials + 4 * i; }
};

// The product of the children's partials at pattern i, in x, and its sum;
// rescaled (and counted in *scalings) when the sum falls below 2^-256, so
// the largest entry is always above 2^-258.
template <typename A, typename B>
inline double Combine(const A& a, const B& b, int64_t i, double x[4],
                      int32_t* scalings) {
  const double* u = a.at(i);
  const double* v = b.at(i);
  for (int s = 0; s < 4; ++s) x[s] = u[s] * v[s];
  double sum = (x[0] + x[1]) + (x[2] + x[3]);
  if (sum < kScaleThreshold && sum > 0) {
    for (int s = 0; s < 4; ++s) x[s] *= kScaleFactor;
    sum *= kScaleFactor;
    ++scalings[i];
  }
  return sum;
}

// A non-root internal node: out[i] = P(t) (a[i] * b[i]).
template <typename A, typename B>
void InternalNode(const A& a, const B& b, int64_t size, double same,
                  double diff, double* out, int32_t* scalings) {
  const double gain = same - diff;
  for (int64_t i = 0; i < size; ++i) {
    double x[4];
    const double base = diff * Combine(a, b, i, x, scalings);
    for (int s = 0; s < 4; ++s) out[4 * i + s] = base + gain * x[s];
  }
}

// The root: sum_i weights[i] * log(1/4 sum_s a[i][s] b[i][s]), less the
// pattern's rescalings. Patterns of a whole weight w <= kMaxPower
// (powers[i] = w, else 0) multiply site^w into one running product, kept
// in range by exact powers of two, so that the block costs one log rather
// than one per pattern; the others pay their own log.
template <typename A, typename B>
double RootNode(const A& a, const B& b, int64_t size, const double* weights,
                const uint8_t* powers, int32_t* scalings) {
  double total = 0.0;
  double product = 1.0;
  double rescalings = 0.0;  // weighted count of 2^256 factors to take out
  for (int64_t i = 0; i < size; ++i) {
    double x[4];
    const double site = 0.25 * Combine(a, b, i, x, scalings);
    rescalings += weights[i] * scalings[i];
    if (powers[i] == 0) {
      total += weights[i] * std::log(site);
      continue;
    }
    // product >= 2^-256 and site > 2^-261: no product reaches subnormals.
    for (int k = 0; k < powers[i]; ++k) {
      product *= site;
      if (product < kScaleThreshold) {
        product *= kScaleFactor;
        rescalings += 1.0;
      }
    }
  }
  return total + std::log(product) - rescalings * kLogScaleFactor;
}

}  // namespace

absl::Status Jc69KernelOptions::Validate() const {
  if (num_taxa < 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jc69Kernel needs at least 3 taxa, got ", num_taxa));
  }
  const int64_t patterns = static_cast<int64_t>(weights.size());
  if (patterns == 0) {
    return absl::InvalidArgumentError("Jc69Kernel needs at least one pattern");
  }
  if (static_cast<int64_t>(masks.size()) != num_taxa * patterns) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jc69Kernel: ", masks.size(), " masks for ", num_taxa,
                     " taxa x ", patterns, " patterns"));
  }
  for (size_t i = 0; i < masks.size(); ++i) {
    if (masks[i] < 1 || masks[i] > 15) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Jc69Kernel: mask ", int{masks[i]}, " of taxon ", i / patterns,
          " at pattern ", i % patterns, " is not in 1..15"));
    }
  }
  for (double w : weights) {
    if (!std::isfinite(w) || w < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Jc69Kernel: pattern weight ", w));
    }
  }
  if (!std::isfinite(branch_length) || branch_length < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jc69Kernel: branch length ", branch_length));
  }
  return absl::OkStatus();
}

absl::StatusOr<Jc69Kernel> Jc69Kernel::Create(Jc69KernelOptions options) {
  if (absl::Status status = options.Validate(); !status.ok()) return status;
  return Jc69Kernel(std::move(options));
}

Jc69Kernel::Jc69Kernel(Jc69KernelOptions options)
    : options_(std::move(options)) {
  const double decay = std::exp(-4.0 * options_.branch_length / 3.0);
  same_ = 0.25 + 0.75 * decay;
  diff_ = 0.25 - 0.25 * decay;
  for (int mask = 0; mask < 16; ++mask) {
    const double allowed = __builtin_popcount(mask);
    for (int s = 0; s < 4; ++s) {
      // P(t) x = diff * sum(x) + (same - diff) * x, as in likelihood.cc.
      tip_table_[mask][s] =
          diff_ * allowed + (same_ - diff_) * ((mask >> s) & 1);
    }
  }
  const int64_t n = options_.num_taxa;
  block_ =
      std::clamp<int64_t>(kBlockDoubles / (4 * (n - 1)), 16, num_patterns());
  for (double w : options_.weights) {
    const bool whole = w >= 1 && w <= kMaxPower && w == std::floor(w);
    powers_.push_back(whole ? static_cast<uint8_t>(w) : 0);
  }
}

absl::Status Jc69Kernel::CheckTree(const int64_t* left, const int64_t* right,
                                   std::vector<char>& used) const {
  const int64_t n = options_.num_taxa;
  std::fill(used.begin(), used.end(), 0);
  for (int64_t j = 0; j < n - 1; ++j) {
    for (int64_t child : {left[j], right[j]}) {
      if (child < 0 || child >= n + j || used[child]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Jc69Kernel: internal node ", n + j, " has child ", child,
            " (children must be earlier nodes, each used once)"));
      }
      used[child] = 1;
    }
  }
  return absl::OkStatus();
}

absl::Status Jc69Kernel::LogLikelihoods(absl::Span<const int64_t> left,
                                        absl::Span<const int64_t> right,
                                        absl::Span<double> out) const {
  const int64_t n = options_.num_taxa;
  const int64_t batch = static_cast<int64_t>(out.size());
  if (static_cast<int64_t>(left.size()) != batch * (n - 1) ||
      right.size() != left.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Jc69Kernel: ", left.size(), " left and ", right.size(),
                     " right children for ", batch, " trees of ", n, " taxa"));
  }
  Workspace workspace;
  workspace.nodes.reset(new double[(n - 2) * block_ * 4]);
  workspace.scalings.resize(block_);
  workspace.used.resize(2 * n - 1);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t* l = left.data() + b * (n - 1);
    const int64_t* r = right.data() + b * (n - 1);
    if (absl::Status status = CheckTree(l, r, workspace.used); !status.ok()) {
      return status;
    }
    double total = 0.0;
    for (int64_t start = 0; start < num_patterns(); start += block_) {
      TreeBlock(l, r, start, std::min(block_, num_patterns() - start),
                workspace, &total);
    }
    out[b] = total;
  }
  return absl::OkStatus();
}

void Jc69Kernel::TreeBlock(const int64_t* left, const int64_t* right,
                           int64_t start, int64_t size, Workspace& workspace,
                           double* total) const {
  const int64_t n = options_.num_taxa;
  const int64_t patterns = num_patterns();
  int32_t* scalings = workspace.scalings.data();
  double* nodes = workspace.nodes.get();
  std::fill(scalings, scalings + size, 0);
  const uint8_t* masks = options_.masks.data() + start;
  for (int64_t j = 0; j < n - 1; ++j) {
    auto node = [&](const auto& a, const auto& b) {
      if (j < n - 2) {
        InternalNode(a, b, size, same_, diff_, &nodes[j * block_ * 4],
                     scalings);
      } else {
        *total += RootNode(a, b, size, options_.weights.data() + start,
                           powers_.data() + start, scalings);
      }
    };
    auto with_right = [&](const auto& a) {
      if (right[j] < n) {
        node(a, TipChild{masks + right[j] * patterns, tip_table_});
      } else {
        node(a, InternalChild{&nodes[(right[j] - n) * block_ * 4]});
      }
    };
    if (left[j] < n) {
      with_right(TipChild{masks + left[j] * patterns, tip_table_});
    } else {
      with_right(InternalChild{&nodes[(left[j] - n) * block_ * 4]});
    }
  }
}

}  // namespace epgfn
