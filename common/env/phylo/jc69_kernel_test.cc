#include "common/env/phylo/jc69_kernel.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "common/env/phylo/alignment.h"
#include "common/env/phylo/jc69_kernel_patterns.h"
#include "common/env/phylo/likelihood.h"
#include "common/env/phylo/random_merge_trees.h"
#include "gtest/gtest.h"

namespace epgfn {
namespace {

constexpr char kPrimates[] = "common/env/phylo/testdata/primates.nex";
constexpr char kDs1[] =
    "/usr/share/doc/beast2-mcmc/examples/benchmark/1/testHKY336.xml.gz";

// Both kernels on the same patterns and trees; relative agreement to 1e-9.
void ExpectKernelsAgree(const SitePatterns& patterns, int64_t batch,
                        uint64_t seed) {
  const int64_t n = patterns.masks.size(0);
  std::mt19937_64 random(seed);
  const MergeTrees trees = RandomMergeTrees(n, batch, random);
  const std::vector<int64_t>& left = trees.left;
  const std::vector<int64_t>& right = trees.right;
  const at::Tensor expected =
      Jc69LogLikelihoods(torch::tensor(left).view({batch, n - 1}),
                         torch::tensor(right).view({batch, n - 1}),
                         TipPartials(patterns.masks), patterns.weights, 0.1);
  auto kernel = Jc69Kernel::Create(KernelOptionsFromPatterns(patterns, 0.1));
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  std::vector<double> got(batch);
  ASSERT_TRUE(kernel->LogLikelihoods(left, right, absl::MakeSpan(got)).ok());
  for (int64_t b = 0; b < batch; ++b) {
    const double want = expected[b].item<double>();
    ASSERT_TRUE(std::isfinite(want));
    EXPECT_NEAR(got[b], want, 1e-9 * std::abs(want)) << "tree " << b;
  }
}

TEST(Jc69KernelTest, ThreeTaxaMatchTheHandComputedValue) {
  // ((0,1),2), every edge t = 0.1: P(same) = 1/4 + 3/4 e^(-4t/3) =
  // 0.906379989..., P(diff) = 1/4 - 1/4 e^(-4t/3) = 0.031206670..., and
  // L = 1/4 sum_{r,u} P(r,u) P(u,x0) P(u,x1) P(r,x2) (an ambiguous tip sums
  // over its states). Per site, worked out with those two numbers:
  //   AAA 0.16936847825575, AAC 0.01224769506254, ACG 0.00104256263413,
  //   AAN 0.20611156344337, TGT 0.00627217679198;
  // with weights 3, 1, 2, 1, 1 the total is -30.112569842720458.
  Jc69KernelOptions options;
  options.num_taxa = 3;
  options.masks = {1, 1, 1, 1,  8,  //
                   1, 1, 2, 1,  4,  //
                   1, 2, 4, 15, 8};
  options.weights = {3, 1, 2, 1, 1};
  options.branch_length = 0.1;
  auto kernel = Jc69Kernel::Create(options);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  double total = 0.0;
  // The same tree with its children listed both ways round.
  ASSERT_TRUE(kernel
                  ->LogLikelihoods(std::vector<int64_t>{0, 3},
                                   std::vector<int64_t>{1, 2},
                                   absl::MakeSpan(&total, 1))
                  .ok());
  EXPECT_NEAR(total, -30.112569842720458, 1e-12);
  ASSERT_TRUE(kernel
                  ->LogLikelihoods(std::vector<int64_t>{1, 3},
                                   std::vector<int64_t>{0, 2},
                                   absl::MakeSpan(&total, 1))
                  .ok());
  EXPECT_NEAR(total, -30.112569842720458, 1e-12);
  // Another topology, ((0,2),1), differs (the test can fail).
  ASSERT_TRUE(kernel
                  ->LogLikelihoods(std::vector<int64_t>{0, 3},
                                   std::vector<int64_t>{2, 1},
                                   absl::MakeSpan(&total, 1))
                  .ok());
  EXPECT_GT(std::abs(total + 30.112569842720458), 0.01);
}

TEST(Jc69KernelTest, EqualsTheTensorKernelOnPrimates) {
  auto alignment = ReadAlignment(kPrimates);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  ExpectKernelsAgree(CompressSites(alignment->states), 64, 1);
}

TEST(Jc69KernelTest, EqualsTheTensorKernelOnDs1) {
  if (std::FILE* probe = std::fopen(kDs1, "rb")) {
    std::fclose(probe);
  } else {
    GTEST_SKIP() << kDs1 << " is absent: install beast2-mcmc-examples "
                 << "(deploy/setup.sh does)";
  }
  auto alignment = ReadAlignment(kDs1);
  ASSERT_TRUE(alignment.ok()) << alignment.status();
  // 27 taxa, more patterns than one block holds.
  ExpectKernelsAgree(CompressSites(alignment->states), 16, 2);
}

TEST(Jc69KernelTest, DeepTreesAreRescaledNotUnderflowed) {
  // 400 taxa of random nucleotides: a site's likelihood is far below the
  // smallest double, so without rescaling the result would be -inf.
  const int64_t n = 400;
  const int64_t patterns = 50;
  torch::manual_seed(3);
  const at::Tensor masks = torch::ones({n, patterns}, torch::kInt64)
                               .bitwise_left_shift(torch::randint(
                                   0, 4, {n, patterns}, torch::kInt64));
  ExpectKernelsAgree({masks, torch::ones({patterns}, torch::kFloat64)}, 2, 4);
}

TEST(Jc69KernelTest, RefusesBadOptionsAndTrees) {
  Jc69KernelOptions options;
  options.num_taxa = 3;
  options.masks = {1, 2, 4};
  options.weights = {1};
  EXPECT_TRUE(Jc69Kernel::Create(options).ok());
  Jc69KernelOptions bad = options;
  bad.masks[1] = 0;
  EXPECT_FALSE(Jc69Kernel::Create(bad).ok());
  bad = options;
  bad.masks.pop_back();
  EXPECT_FALSE(Jc69Kernel::Create(bad).ok());
  bad = options;
  bad.branch_length = -1;
  EXPECT_FALSE(Jc69Kernel::Create(bad).ok());
  bad = options;
  bad.num_taxa = 2;
  bad.masks.pop_back();
  EXPECT_FALSE(Jc69Kernel::Create(bad).ok());

  auto kernel = Jc69Kernel::Create(options);
  ASSERT_TRUE(kernel.ok());
  double out = 0.0;
  auto run = [&](std::vector<int64_t> left, std::vector<int64_t> right) {
    return kernel->LogLikelihoods(left, right, absl::MakeSpan(&out, 1));
  };
  EXPECT_TRUE(run({0, 3}, {1, 2}).ok());
  EXPECT_FALSE(run({0, 0}, {1, 2}).ok());  // leaf 0 twice
  EXPECT_FALSE(run({3, 0}, {1, 2}).ok());  // node 3 before it exists
  EXPECT_FALSE(run({0, 3}, {1, 5}).ok());  // no node 5
  EXPECT_FALSE(run({0, 3}, {-1, 2}).ok());
  EXPECT_FALSE(run({0}, {1}).ok());  // sizes
}

}  // namespace
}  // namespace epgfn
