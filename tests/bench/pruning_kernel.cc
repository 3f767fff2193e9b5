// Throughput of the batched JC69 Felsenstein pruning kernel
// (Jc69LogLikelihoods, the phylo reward's hot loop): for each number of taxa,
// site patterns and batch of trees, tree-likelihood evaluations per second
// and site-pattern evaluations per second (trees x patterns / s). Trees are
// random rooted topologies; tip states are random single nucleotides, so
// every pattern is a distinct column.
//
//   bazel run -c opt //tests/bench:pruning_kernel -- --threads=1
#include <ATen/Parallel.h>
#include <malloc.h>
#include <time.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/likelihood.h"
#include "common/env/phylo/random_merge_trees.h"
#include "tests/bench/stopwatch.h"

ABSL_FLAG(std::string, taxa, "7,12", "Comma-separated numbers of taxa.");
ABSL_FLAG(std::string, patterns, "200,2000,10000",
          "Comma-separated numbers of site patterns.");
ABSL_FLAG(std::string, batches, "1,64,512", "Comma-separated tree batches.");
ABSL_FLAG(double, seconds_per_row, 1.0, "Timed seconds per table row.");
ABSL_FLAG(int32_t, threads, 1, "LibTorch intra-op threads.");

namespace epgfn {
namespace {

std::vector<int64_t> ParseList(const std::string& text) {
  std::vector<int64_t> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 1) {
      std::fprintf(stderr, "not a positive integer: '%s'\n",
                   std::string(part).c_str());
      std::exit(2);
    }
    values.push_back(value);
  }
  return values;
}

// RandomMergeTrees as [batch, n - 1] tensors.
void RandomTrees(int64_t n, int64_t batch, std::mt19937_64& random,
                 at::Tensor* left, at::Tensor* right) {
  const MergeTrees trees = RandomMergeTrees(n, batch, random);
  *left = torch::tensor(trees.left).view({batch, n - 1});
  *right = torch::tensor(trees.right).view({batch, n - 1});
}

void Run() {
  // The allocator settings the Trainer uses (common/train/trainer.cc), so
  // that the kernel is timed as it runs inside training, not bound by the
  // page faults of fresh mmaps for every large temporary.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  const double seconds = absl::GetFlag(FLAGS_seconds_per_row);
  std::printf(
      "# bazel run -c opt //tests/bench:pruning_kernel -- --taxa=%s "
      "--patterns=%s --batches=%s --seconds_per_row=%g --threads=%d\n",
      absl::GetFlag(FLAGS_taxa).c_str(), absl::GetFlag(FLAGS_patterns).c_str(),
      absl::GetFlag(FLAGS_batches).c_str(), seconds,
      absl::GetFlag(FLAGS_threads));
  std::printf(
      "| taxa | site patterns | trees per call | calls | CPU ms per call | "
      "tree likelihoods per CPU s | site-pattern evaluations per CPU s | "
      "cpu/wall |\n"
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  std::mt19937_64 random(1);
  for (int64_t n : ParseList(absl::GetFlag(FLAGS_taxa))) {
    for (int64_t patterns : ParseList(absl::GetFlag(FLAGS_patterns))) {
      torch::manual_seed(n * 100003 + patterns);
      at::Tensor masks = torch::ones({n, patterns}, torch::kInt64)
                             .bitwise_left_shift(torch::randint(
                                 0, 4, {n, patterns}, torch::kInt64));
      at::Tensor tips = TipPartials(masks);
      at::Tensor weights = torch::ones({patterns}, torch::kFloat64);
      for (int64_t batch : ParseList(absl::GetFlag(FLAGS_batches))) {
        at::Tensor left;
        at::Tensor right;
        RandomTrees(n, batch, random, &left, &right);
        // One untimed call (allocator warm-up), then as many as fit.
        at::Tensor sink = Jc69LogLikelihoods(left, right, tips, weights, 0.1);
        int64_t calls = 0;
        const auto start = Clock::now();
        const double cpu_start = ThreadCpuSeconds();
        double elapsed = 0;
        do {
          sink = Jc69LogLikelihoods(left, right, tips, weights, 0.1);
          ++calls;
          elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        } while (elapsed < seconds);
        if (!std::isfinite(sink.sum().item<double>())) {
          std::fprintf(stderr, "non-finite log-likelihood\n");
          std::exit(1);
        }
        const double cpu = ThreadCpuSeconds() - cpu_start;
        const double trees_per_second = calls * batch / cpu;
        std::printf(
            "| %lld | %lld | %lld | %lld | %.3f | %.0f | %.3g | %.2f |\n",
            static_cast<long long>(n), static_cast<long long>(patterns),
            static_cast<long long>(batch), static_cast<long long>(calls),
            1000.0 * cpu / calls, trees_per_second, trees_per_second * patterns,
            cpu / elapsed);
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "JC69 pruning kernel throughput: tree and site-pattern likelihood "
      "evaluations per second; prints a markdown table.");
  absl::ParseCommandLine(argc, argv);
  epgfn::Run();
  return 0;
}
