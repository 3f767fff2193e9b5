// libpll 0.3 as a TreeKernel (tree_kernels.h).
#include <libpll/pll.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/bench/tree_kernels.h"

namespace epgfn {
namespace {

class PllKernel : public TreeKernel {
 public:
  PllKernel(pll_partition_t* partition, int64_t num_taxa, std::string arch)
      : partition_(partition),
        num_taxa_(num_taxa),
        name_(absl::StrCat("libpll ", arch, " (rescaled)")) {}
  ~PllKernel() override { pll_partition_destroy(partition_); }

  std::string name() const override { return name_; }

  absl::Status LogLikelihoods(absl::Span<const int64_t> left,
                              absl::Span<const int64_t> right,
                              absl::Span<double> out) override {
    const unsigned n = static_cast<unsigned>(num_taxa_);
    // CLVs: tips 0..n-1, internal node n + j; scaler j for internal node
    // n + j (a parent's scaler adds up its children's); matrix 0 for all.
    auto scaler = [n](int64_t node) {
      return node < n ? PLL_SCALE_BUFFER_NONE : static_cast<int>(node - n);
    };
    std::vector<pll_operation_t> operations(n - 1);
    const unsigned frequencies = 0;
    for (size_t b = 0; b < out.size(); ++b) {
      for (unsigned j = 0; j < n - 1; ++j) {
        const int64_t a = left[b * (n - 1) + j];
        const int64_t c = right[b * (n - 1) + j];
        operations[j] = {n + j,
                         static_cast<int>(j),
                         static_cast<unsigned>(a),
                         0,
                         scaler(a),
                         static_cast<unsigned>(c),
                         0,
                         scaler(c)};
      }
      pll_update_partials(partition_, operations.data(), n - 1);
      out[b] = pll_compute_root_loglikelihood(partition_, 2 * n - 2,
                                              static_cast<int>(n - 2),
                                              &frequencies, nullptr);
    }
    return absl::OkStatus();
  }

 private:
  pll_partition_t* partition_;
  int64_t num_taxa_;
  std::string name_;
};

// The character libpll's nucleotide map sends to each 4-bit mask (its bits
// are the same A, C, G, T as alignment.h's).
std::vector<char> CharacterOfMask() {
  std::vector<char> character(16, 0);
  for (int c = 255; c > 0; --c) {
    const unsigned mask = pll_map_nt[c];
    if (mask > 0 && mask < 16) character[mask] = static_cast<char>(c);
  }
  return character;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TreeKernel>> MakePllKernel(
    const Jc69KernelOptions& data) {
  if (absl::Status status = data.Validate(); !status.ok()) return status;
  const unsigned n = static_cast<unsigned>(data.num_taxa);
  const unsigned patterns = static_cast<unsigned>(data.weights.size());
  unsigned arch = PLL_ATTRIB_ARCH_SSE;
  std::string arch_name = "SSE3";
  if (PLL_STAT(avx2_present)) {
    arch = PLL_ATTRIB_ARCH_AVX2;
    arch_name = "AVX2";
  } else if (PLL_STAT(avx_present)) {
    arch = PLL_ATTRIB_ARCH_AVX;
    arch_name = "AVX";
  }
  pll_partition_t* partition = pll_partition_create(
      n, n - 1, 4, patterns, 1, 1, 1, n - 1, arch | PLL_ATTRIB_PATTERN_TIP);
  if (partition == nullptr) {
    return absl::InternalError(
        absl::StrCat("pll_partition_create: ", pll_errmsg));
  }
  auto kernel = std::make_unique<PllKernel>(partition, n, arch_name);
  const std::vector<char> character = CharacterOfMask();
  std::string sequence(patterns, '\0');
  for (unsigned k = 0; k < n; ++k) {
    for (unsigned p = 0; p < patterns; ++p) {
      sequence[p] = character[data.masks[k * patterns + p]];
    }
    if (!pll_set_tip_states(partition, k, pll_map_nt, sequence.c_str())) {
      return absl::InternalError(
          absl::StrCat("pll_set_tip_states: ", pll_errmsg));
    }
  }
  std::vector<unsigned> weights(data.weights.begin(), data.weights.end());
  for (unsigned p = 0; p < patterns; ++p) {
    if (weights[p] != data.weights[p]) {
      return absl::InvalidArgumentError("libpll takes whole pattern weights");
    }
  }
  pll_set_pattern_weights(partition, weights.data());
  const double frequencies[4] = {0.25, 0.25, 0.25, 0.25};
  const double rates[6] = {1, 1, 1, 1, 1, 1};
  const double category_rate = 1.0;
  pll_set_frequencies(partition, 0, frequencies);
  pll_set_subst_params(partition, 0, rates);
  pll_set_category_rates(partition, &category_rate);
  const unsigned params = 0;
  const unsigned matrix = 0;
  if (!pll_update_prob_matrices(partition, &params, &matrix,
                                &data.branch_length, 1)) {
    return absl::InternalError(
        absl::StrCat("pll_update_prob_matrices: ", pll_errmsg));
  }
  return kernel;
}

}  // namespace epgfn
