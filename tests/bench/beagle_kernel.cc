// BEAGLE 3.1 as a TreeKernel (tree_kernels.h).
#include <libhmsbeagle/beagle.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/bench/tree_kernels.h"

namespace epgfn {
namespace {

absl::Status BeagleError(const char* call, int code) {
  return absl::InternalError(absl::StrCat(call, " returned ", code));
}

// JC69 with rate 1 (Q off the diagonal 1/3): eigenvalues 0 and -4/3 (x3),
// the decomposition BEAGLE's own JC69 example uses.
constexpr double kEigenVectors[16] = {1.0, 2.0,  0.0,  0.5, 1.0, -2.0,
                                      0.5, 0.0,  1.0,  2.0, 0.0, -0.5,
                                      1.0, -2.0, -0.5, 0.0};
constexpr double kInverseEigenVectors[16] = {
    0.25, 0.25, 0.25, 0.25, 0.125, -0.125, 0.125, -0.125,
    0.0,  1.0,  0.0,  -1.0, 1.0,   0.0,    -1.0,  0.0};
constexpr double kEigenValues[4] = {0.0, -4.0 / 3.0, -4.0 / 3.0, -4.0 / 3.0};

class BeagleKernel : public TreeKernel {
 public:
  BeagleKernel(int instance, int64_t num_taxa, bool rescale,
               std::string implementation)
      : instance_(instance),
        num_taxa_(num_taxa),
        rescale_(rescale),
        name_(absl::StrCat("BEAGLE ", implementation,
                           rescale ? " (rescaled)" : " (no rescaling)")) {
    for (int j = 0; j + 1 < num_taxa; ++j) scale_indices_.push_back(j);
  }
  ~BeagleKernel() override { beagleFinalizeInstance(instance_); }

  std::string name() const override { return name_; }

  absl::Status LogLikelihoods(absl::Span<const int64_t> left,
                              absl::Span<const int64_t> right,
                              absl::Span<double> out) override {
    const int n = static_cast<int>(num_taxa_);
    const int none = BEAGLE_OP_NONE;
    // Matrix 0 is every edge's: the one branch length.
    std::vector<BeagleOperation> operations(n - 1);
    const int root = 2 * n - 2;
    const int cumulative = n - 1;
    const int weights_index = 0;
    for (size_t b = 0; b < out.size(); ++b) {
      for (int j = 0; j < n - 1; ++j) {
        operations[j] = {n + j, rescale_ ? j : none,
                         none,  static_cast<int>(left[b * (n - 1) + j]),
                         0,     static_cast<int>(right[b * (n - 1) + j]),
                         0};
      }
      int code =
          beagleUpdatePartials(instance_, operations.data(), n - 1, none);
      if (code != BEAGLE_SUCCESS) {
        return BeagleError("beagleUpdatePartials", code);
      }
      if (rescale_) {
        beagleResetScaleFactors(instance_, cumulative);
        code = beagleAccumulateScaleFactors(instance_, scale_indices_.data(),
                                            n - 1, cumulative);
        if (code != BEAGLE_SUCCESS) {
          return BeagleError("beagleAccumulateScaleFactors", code);
        }
      }
      const int scale = rescale_ ? cumulative : none;
      code = beagleCalculateRootLogLikelihoods(
          instance_, &root, &weights_index, &weights_index, &scale, 1, &out[b]);
      if (code != BEAGLE_SUCCESS) {
        return BeagleError("beagleCalculateRootLogLikelihoods", code);
      }
    }
    return absl::OkStatus();
  }

 private:
  int instance_;
  int64_t num_taxa_;
  bool rescale_;
  std::string name_;
  std::vector<int> scale_indices_;
};

// Tips whose masks are all single states or all-unknown go in as compact
// states (BEAGLE's fast tip path); any other ambiguity as partials.
absl::Status SetTips(int instance, const Jc69KernelOptions& data) {
  const int64_t patterns = static_cast<int64_t>(data.weights.size());
  for (int64_t k = 0; k < data.num_taxa; ++k) {
    const uint8_t* masks = data.masks.data() + k * patterns;
    std::vector<int> states(patterns);
    std::vector<double> partials(4 * patterns);
    bool compact = true;
    for (int64_t p = 0; p < patterns; ++p) {
      const int mask = masks[p];
      for (int s = 0; s < 4; ++s) partials[4 * p + s] = (mask >> s) & 1;
      if (mask == 15) {
        states[p] = 4;  // BEAGLE's "missing" state
      } else if (__builtin_popcount(mask) == 1) {
        states[p] = __builtin_ctz(mask);
      } else {
        compact = false;
      }
    }
    const int code = compact
                         ? beagleSetTipStates(instance, k, states.data())
                         : beagleSetTipPartials(instance, k, partials.data());
    if (code != BEAGLE_SUCCESS) return BeagleError("beagleSetTip*", code);
  }
  return absl::OkStatus();
}

absl::Status SetModel(int instance, const Jc69KernelOptions& data) {
  const double frequencies[4] = {0.25, 0.25, 0.25, 0.25};
  const double one = 1.0;
  const int matrix = 0;
  int code = 0;
  if ((code = beagleSetEigenDecomposition(
           instance, 0, kEigenVectors, kInverseEigenVectors, kEigenValues)) !=
          BEAGLE_SUCCESS ||
      (code = beagleSetStateFrequencies(instance, 0, frequencies)) !=
          BEAGLE_SUCCESS ||
      (code = beagleSetCategoryWeights(instance, 0, &one)) != BEAGLE_SUCCESS ||
      (code = beagleSetCategoryRates(instance, &one)) != BEAGLE_SUCCESS ||
      (code = beagleSetPatternWeights(instance, data.weights.data())) !=
          BEAGLE_SUCCESS ||
      (code = beagleUpdateTransitionMatrices(
           instance, 0, &matrix, nullptr, nullptr, &data.branch_length, 1)) !=
          BEAGLE_SUCCESS) {
    return BeagleError("BEAGLE model setup", code);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TreeKernel>> MakeBeagleKernel(
    const Jc69KernelOptions& data, bool rescale) {
  if (absl::Status status = data.Validate(); !status.ok()) return status;
  const int n = static_cast<int>(data.num_taxa);
  const long flags = BEAGLE_FLAG_PRECISION_DOUBLE | BEAGLE_FLAG_PROCESSOR_CPU |
                     BEAGLE_FLAG_SCALING_MANUAL | BEAGLE_FLAG_THREADING_NONE;
  BeagleInstanceDetails details{};
  // Partials for all 2n - 1 nodes (tips with ambiguity use theirs), compact
  // states for the tips, one matrix, a scale buffer per internal node plus
  // the cumulative one.
  const int instance = beagleCreateInstance(
      n, 2 * n - 1, n, 4, static_cast<int>(data.weights.size()), 1, 1, 1, n,
      nullptr, 0, flags | BEAGLE_FLAG_VECTOR_SSE, flags, &details);
  if (instance < 0) return BeagleError("beagleCreateInstance", instance);
  auto kernel = std::make_unique<BeagleKernel>(
      instance, n, rescale, details.implName ? details.implName : "?");
  if (absl::Status status = SetTips(instance, data); !status.ok()) {
    return status;
  }
  if (absl::Status status = SetModel(instance, data); !status.ok()) {
    return status;
  }
  return kernel;
}

}  // namespace epgfn
