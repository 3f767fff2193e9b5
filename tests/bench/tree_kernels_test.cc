#include "tests/bench/tree_kernels.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "common/env/phylo/alignment.h"
#include "common/env/phylo/jc69_kernel_patterns.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr char kPrimates[] = "common/env/phylo/testdata/primates.nex";

// The 3-taxon case of jc69_kernel_test (hand-computed there): ((0,1),2),
// t = 0.1, sites AAA x3, AAC, ACG x2, AAN, TGT.
TEST(TreeKernelsTest, LibrariesMatchTheHandComputedThreeTaxonValue) {
  Jc69KernelOptions data;
  data.num_taxa = 3;
  data.masks = {1, 1, 1, 1, 8, 1, 1, 2, 1, 4, 1, 2, 4, 15, 8};
  data.weights = {3, 1, 2, 1, 1};
  data.branch_length = 0.1;
  auto beagle = MakeBeagleKernel(data, /*rescale=*/true);
  auto beagle_plain = MakeBeagleKernel(data, /*rescale=*/false);
  auto pll = MakePllKernel(data);
  ASSERT_TRUE(beagle.ok()) << beagle.status();
  ASSERT_TRUE(beagle_plain.ok()) << beagle_plain.status();
  ASSERT_TRUE(pll.ok()) << pll.status();
  for (TreeKernel* kernel : {beagle->get(), beagle_plain->get(), pll->get()}) {
    double total = 0.0;
    ASSERT_TRUE(kernel
                    ->LogLikelihoods(std::vector<int64_t>{0, 3},
                                     std::vector<int64_t>{1, 2},
                                     absl::MakeSpan(&total, 1))
                    .ok());
    EXPECT_NEAR(total, -30.112569842720458, 1e-12) << kernel->name();
  }
}

TEST(TreeKernelsTest, AllKernelsAgreeOnPrimates) {
  auto alignment = ReadAlignment(kPrimates);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  const SitePatterns patterns = CompressSites(alignment->states);
  const Jc69KernelOptions data = KernelOptionsFromPatterns(patterns, 0.1);
  std::vector<std::unique_ptr<TreeKernel>> kernels;
  kernels.push_back(MakeTensorKernel(patterns, 0.1));
  for (auto* make :
       {+[](const Jc69KernelOptions& d) { return MakePlainKernel(d); },
        +[](const Jc69KernelOptions& d) { return MakeBeagleKernel(d, true); },
        +[](const Jc69KernelOptions& d) { return MakeBeagleKernel(d, false); },
        +[](const Jc69KernelOptions& d) { return MakePllKernel(d); }}) {
    auto kernel = make(data);
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    kernels.push_back(std::move(kernel).value());
  }
  // Random rooted trees: join two random current roots, 16 times over.
  const int64_t n = data.num_taxa;
  const int64_t batch = 16;
  std::mt19937_64 random(5);
  std::vector<int64_t> left;
  std::vector<int64_t> right;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> roots(n);
    for (int64_t k = 0; k < n; ++k) roots[k] = k;
    for (int64_t j = 0; j < n - 1; ++j) {
      std::shuffle(roots.begin(), roots.end(), random);
      left.push_back(roots[roots.size() - 1]);
      right.push_back(roots[roots.size() - 2]);
      roots.resize(roots.size() - 2);
      roots.push_back(n + j);
    }
  }
  std::vector<double> reference(batch);
  ASSERT_TRUE(
      kernels[0]->LogLikelihoods(left, right, absl::MakeSpan(reference)).ok());
  for (const auto& kernel : kernels) {
    std::vector<double> out(batch);
    ASSERT_TRUE(kernel->LogLikelihoods(left, right, absl::MakeSpan(out)).ok());
    for (int64_t b = 0; b < batch; ++b) {
      EXPECT_NEAR(out[b], reference[b], 1e-9 * std::abs(reference[b]))
          << kernel->name() << " tree " << b;
    }
  }
  // The trees differ, so agreement is not that of a constant.
  EXPECT_NE(reference[0], reference[1]);
}

}  // namespace
}  // namespace epgfn
