// The JC69 pruning kernel against the field's likelihood libraries, on the
// same site patterns and the same random rooted trees (every edge of one
// length): the project's tensor kernel (Jc69LogLikelihoods, the reward's
// default),
// its plain-loop kernel (Jc69Kernel), BEAGLE 3.1 (CPU, double, with and
// without per-node rescaling) and libpll 0.3. All run on one thread. For
// each alignment and batch of trees it prints trees per CPU second, CPU
// microseconds per tree (each kernel's best of --rounds interleaved
// rounds), site-pattern evaluations per CPU second and each kernel's
// largest difference from the tensor kernel's log-likelihoods;
// the run fails when one differs by more than --tolerance (relative).
//
//   bazel run -c opt //tests/bench:kernel_comparison
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/jc69_kernel_patterns.h"
#include "common/env/phylo/random_merge_trees.h"
#include "common/util/status_macros.h"
#include "tests/bench/bench_main.h"
#include "tests/bench/machine_report.h"
#include "tests/bench/stopwatch.h"
#include "tests/bench/tree_kernels.h"

ABSL_FLAG(std::string, alignments,
          "/usr/share/doc/beast2-mcmc/examples/benchmark/1/testHKY336.xml.gz,"
          "common/env/phylo/testdata/primates.nex",
          "Comma-separated alignment files (DS1 as Debian's "
          "beast2-mcmc-examples ships it, and the tests' primates).");
ABSL_FLAG(std::string, batches, "1,64,512", "Comma-separated tree batches.");
ABSL_FLAG(double, seconds_per_row, 1.0,
          "Timed wall seconds per row, split over --rounds.");
ABSL_FLAG(int32_t, rounds, 4,
          "Interleaved timing rounds; each row shows its kernel's best.");
ABSL_FLAG(double, branch_length, 0.1, "Every edge's length.");
ABSL_FLAG(std::string, synthetic, "",
          "Comma-separated TAXAxPATTERNS shapes (e.g. 7x200,64x2000) of random "
          "alignments, run after --alignments: one uniform random nucleotide "
          "per taxon and pattern, each pattern of weight 1, so that a row has "
          "exactly that many patterns (real alignments of few taxa have few "
          "distinct patterns; the kernels' cost depends on the shape).");
ABSL_FLAG(double, tolerance, 1e-6,
          "Largest relative difference from the tensor kernel allowed.");

namespace epgfn {
namespace {

absl::StatusOr<std::vector<int64_t>> ParseBatches(const std::string& text) {
  std::vector<int64_t> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--batches: not a positive integer: '", part, "'"));
    }
    values.push_back(value);
  }
  return values;
}

struct BenchAlignment {
  std::string name;
  int64_t sites = 0;
  SitePatterns patterns;
  Jc69KernelOptions data;
};

// This thread's CPU seconds per tree over as many calls as fit in
// `seconds` of wall time (after the caller's untimed first call).
absl::StatusOr<double> CpuSecondsPerTree(TreeKernel& kernel,
                                         const std::vector<int64_t>& left,
                                         const std::vector<int64_t>& right,
                                         std::vector<double>& out,
                                         double seconds) {
  int64_t calls = 0;
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  do {
    RETURN_IF_ERROR(kernel.LogLikelihoods(left, right, absl::MakeSpan(out)));
    ++calls;
  } while (SecondsSince(start) < seconds);
  return (ThreadCpuSeconds() - cpu_start) / (calls * out.size());
}

// Each kernel's best CPU seconds per tree over --rounds rounds, the kernels
// taking turns within each round, so that a change in the shared machine's
// load lands on all of them rather than on whichever ran then.
absl::StatusOr<std::vector<double>> BestSecondsPerTree(
    std::vector<std::unique_ptr<TreeKernel>>& kernels,
    const std::vector<int64_t>& left, const std::vector<int64_t>& right,
    int64_t batch) {
  const int rounds = std::max(1, absl::GetFlag(FLAGS_rounds));
  const double seconds = absl::GetFlag(FLAGS_seconds_per_row) / rounds;
  std::vector<double> best(kernels.size(), HUGE_VAL);
  std::vector<double> out(batch);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < kernels.size(); ++i) {
      ASSIGN_OR_RETURN(double per_tree, CpuSecondsPerTree(*kernels[i], left,
                                                          right, out, seconds));
      best[i] = std::min(best[i], per_tree);
    }
  }
  return best;
}

// One table row per kernel for one alignment and batch of random trees;
// a line in *disagreements for each kernel whose log-likelihoods differ
// from the first (tensor) kernel's by more than --tolerance, relative.
absl::Status CompareBatch(const BenchAlignment& alignment,
                          std::vector<std::unique_ptr<TreeKernel>>& kernels,
                          int64_t batch, std::mt19937_64& random,
                          std::vector<std::string>* disagreements) {
  const int64_t n = alignment.data.num_taxa;
  const int64_t patterns = alignment.patterns.weights.size(0);
  const MergeTrees trees = RandomMergeTrees(n, batch, random);
  const std::vector<int64_t>& left = trees.left;
  const std::vector<int64_t>& right = trees.right;
  std::vector<std::vector<double>> values(kernels.size(),
                                          std::vector<double>(batch));
  for (size_t i = 0; i < kernels.size(); ++i) {
    RETURN_IF_ERROR(
        kernels[i]->LogLikelihoods(left, right, absl::MakeSpan(values[i])));
  }
  ASSIGN_OR_RETURN(const std::vector<double> seconds,
                   BestSecondsPerTree(kernels, left, right, batch));
  for (size_t i = 0; i < kernels.size(); ++i) {
    double max_abs = 0;
    double scale = 0;
    for (int64_t b = 0; b < batch; ++b) {
      max_abs = std::max(max_abs, std::abs(values[i][b] - values[0][b]));
      scale = std::max(scale, std::abs(values[0][b]));
    }
    const double relative = max_abs / scale;
    const bool ok = relative <= absl::GetFlag(FLAGS_tolerance);
    if (!ok) {
      disagreements->push_back(absl::StrCat(kernels[i]->name(), " on ",
                                            alignment.name, " batch ", batch,
                                            ": relative ", relative));
    }
    const double trees_per_second = 1.0 / seconds[i];
    std::printf(
        "| %s | %s | %lld | %lld (%lld) | %lld | %.0f | %.1f | %.3g | "
        "%.1e | %.1e | %s |\n",
        kernels[i]->name().c_str(), alignment.name.c_str(),
        static_cast<long long>(n), static_cast<long long>(alignment.sites),
        static_cast<long long>(patterns), static_cast<long long>(batch),
        trees_per_second, 1e6 * seconds[i], trees_per_second * patterns,
        max_abs, relative, ok ? "yes" : "NO");
  }
  std::fflush(stdout);
  return absl::OkStatus();
}

absl::StatusOr<BenchAlignment> LoadAlignment(const std::string& path) {
  ASSIGN_OR_RETURN(Alignment alignment, ReadAlignment(path));
  BenchAlignment loaded;
  loaded.name = path.substr(path.find_last_of('/') + 1);
  loaded.sites = alignment.num_sites();
  loaded.patterns = CompressSites(alignment.states);
  loaded.data = KernelOptionsFromPatterns(loaded.patterns,
                                          absl::GetFlag(FLAGS_branch_length));
  return loaded;
}

// `shape` is TAXAxPATTERNS; the draws are fixed by the shape alone.
absl::StatusOr<BenchAlignment> SyntheticAlignment(absl::string_view shape) {
  const std::vector<absl::string_view> parts = absl::StrSplit(shape, 'x');
  int64_t taxa = 0;
  int64_t patterns = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &taxa) ||
      !absl::SimpleAtoi(parts[1], &patterns) || taxa < 3 || patterns < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--synthetic: '", shape, "' is not TAXAxPATTERNS with TAXA >= 3"));
  }
  std::mt19937_64 random(static_cast<uint64_t>(taxa * 1000003 + patterns));
  at::Tensor masks = at::empty({taxa, patterns}, at::kLong);
  auto cells = masks.accessor<int64_t, 2>();
  for (int64_t i = 0; i < taxa; ++i) {
    for (int64_t p = 0; p < patterns; ++p) cells[i][p] = 1 << (random() % 4);
  }
  BenchAlignment made;
  made.name = absl::StrCat("random ", taxa, "x", patterns);
  made.sites = patterns;
  made.patterns.masks = masks;
  made.patterns.weights = at::ones({patterns}, at::kDouble);
  made.data = KernelOptionsFromPatterns(made.patterns,
                                        absl::GetFlag(FLAGS_branch_length));
  return made;
}

absl::StatusOr<std::vector<std::unique_ptr<TreeKernel>>> MakeKernels(
    const BenchAlignment& alignment) {
  std::vector<std::unique_ptr<TreeKernel>> kernels;
  kernels.push_back(
      MakeTensorKernel(alignment.patterns, alignment.data.branch_length));
  auto add = [&](absl::StatusOr<std::unique_ptr<TreeKernel>> made) {
    if (made.ok()) kernels.push_back(std::move(made).value());
    return made.status();
  };
  RETURN_IF_ERROR(add(MakePlainKernel(alignment.data)));
  RETURN_IF_ERROR(add(MakeBeagleKernel(alignment.data, /*rescale=*/true)));
  RETURN_IF_ERROR(add(MakeBeagleKernel(alignment.data, /*rescale=*/false)));
  RETURN_IF_ERROR(add(MakePllKernel(alignment.data)));
  return kernels;
}

absl::Status Run() {
  // The allocator settings the Trainer uses (common/train/trainer.cc), as
  // in tests/bench:pruning_kernel.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  at::set_num_threads(1);
  ASSIGN_OR_RETURN(std::vector<int64_t> batches,
                   ParseBatches(absl::GetFlag(FLAGS_batches)));
  // Every input is read and checked before anything is printed, so that a
  // bad path or shape gives its error alone, not after a table header.
  std::vector<BenchAlignment> alignments;
  for (absl::string_view path : absl::StrSplit(absl::GetFlag(FLAGS_alignments),
                                               ',', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(alignments.emplace_back(),
                     LoadAlignment(std::string(path)));
  }
  for (absl::string_view shape :
       absl::StrSplit(absl::GetFlag(FLAGS_synthetic), ',', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(alignments.emplace_back(), SyntheticAlignment(shape));
  }
  std::printf(
      "# bazel run -c opt //tests/bench:kernel_comparison -- "
      "--alignments=%s --synthetic=%s --batches=%s --seconds_per_row=%g "
      "--rounds=%d --branch_length=%g\n# %s\n",
      absl::GetFlag(FLAGS_alignments).c_str(),
      absl::GetFlag(FLAGS_synthetic).c_str(),
      absl::GetFlag(FLAGS_batches).c_str(),
      absl::GetFlag(FLAGS_seconds_per_row), absl::GetFlag(FLAGS_rounds),
      absl::GetFlag(FLAGS_branch_length), MachineReportLine().c_str());
  std::printf(
      "| kernel | alignment | taxa | sites (patterns) | trees per call | "
      "trees per CPU s | CPU us per tree (best round) | site-pattern "
      "evaluations per CPU "
      "s | max abs difference from tensor | relative | agrees |\n"
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
      "| --- |\n");
  std::mt19937_64 random(1);
  std::vector<std::string> disagreements;
  for (const BenchAlignment& alignment : alignments) {
    ASSIGN_OR_RETURN(auto kernels, MakeKernels(alignment));
    for (int64_t batch : batches) {
      RETURN_IF_ERROR(
          CompareBatch(alignment, kernels, batch, random, &disagreements));
    }
  }
  if (!disagreements.empty()) {
    return absl::InternalError(
        absl::StrCat("kernels disagree with the tensor kernel: ",
                     absl::StrJoin(disagreements, "; ")));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "JC69 likelihood kernels side by side (tensor, plain loops, BEAGLE, "
      "libpll): per-tree time and agreement; prints a markdown table.");
  absl::ParseCommandLine(argc, argv);
  return epgfn::ExitCode(argv[0], epgfn::Run());
}
