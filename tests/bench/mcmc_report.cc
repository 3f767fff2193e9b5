#include "tests/bench/mcmc_report.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/util/status_macros.h"
#include "tests/bench/stopwatch.h"

namespace epgfn {

std::string Time(double seconds) {
  return seconds < 0 ? std::string("not reached")
                     : absl::StrFormat("%.1f s", seconds);
}

absl::StatusOr<McmcCurve> RunMcmc(TreeMcmc& mcmc, const CladeFrequencies* exact,
                                  const McmcRunOptions& options) {
  McmcCurve curve;
  double sampler_seconds = 0;
  const double budget = options.budget_seconds;
  const double agreement = options.agreement;
  std::printf("\n| steps/chain | sampler s | ASDSF | clades | max sd |%s\n",
              exact != nullptr
                  ? absl::StrCat(" ", options.difference_column, " |").c_str()
                  : "");
  std::printf("|---|---|---|---|---|%s\n", exact != nullptr ? "---|" : "");
  int64_t steps = 0;
  int64_t next_print = options.check_every;
  while (sampler_seconds < budget) {
    const auto start = Clock::now();
    RETURN_IF_ERROR(mcmc.Run(options.check_every));
    sampler_seconds += SecondsSince(start);
    steps += options.check_every;
    ASSIGN_OR_RETURN(Asdsf asdsf, mcmc.AsdsfAfterBurnIn(0.25, 0.1));
    curve.last = {steps, sampler_seconds, asdsf};
    const bool asdsf_met = asdsf.value <= 0.01;
    if (asdsf_met && curve.seconds_to_asdsf < 0) {
      curve.seconds_to_asdsf = sampler_seconds;
      curve.steps_to_asdsf = steps;
    }
    bool agreed = exact == nullptr;
    if (exact != nullptr) {
      curve.last_error =
          MaxAbsCladeDifference(mcmc.Frequencies(-1, 0.25), *exact);
      agreed = curve.last_error <= agreement;
      if (agreed && curve.seconds_to_agreement < 0) {
        curve.seconds_to_agreement = sampler_seconds;
      }
    }
    const bool done = curve.seconds_to_asdsf >= 0 &&
                      (exact == nullptr || options.stop_at_asdsf ||
                       curve.seconds_to_agreement >= 0);
    if (options.row_every_check || steps >= next_print || done ||
        sampler_seconds >= budget) {
      std::printf("| %lld | %.1f | %.4f | %lld | %.4f |", (long long)steps,
                  sampler_seconds, asdsf.value, (long long)asdsf.num_clades,
                  asdsf.max_sd);
      if (exact != nullptr) std::printf(" %.4f |", curve.last_error);
      std::printf("\n");
      std::fflush(stdout);
      next_print = std::max(next_print * 2, steps + 1);
    }
    if (done) break;
  }
  curve.pooled = mcmc.Frequencies(-1, 0.25);
  int64_t accepted = 0, total = 0, evaluated = 0;
  for (int c = 0; c < mcmc.num_chains(); ++c) {
    accepted += mcmc.stats(c).accepted;
    total += mcmc.stats(c).steps;
    evaluated += mcmc.stats(c).evaluated;
  }
  std::printf(
      "\n%d chains x %lld steps, acceptance %.3f, %lld trees scored in %lld "
      "reward calls (%.0f trees/s)\n",
      mcmc.num_chains(), (long long)steps, double(accepted) / total,
      (long long)evaluated, (long long)mcmc.reward_calls(),
      evaluated / std::max(1e-9, sampler_seconds));
  return curve;
}

namespace {

// The clade's taxa by name, space-separated.
std::string CladeMembers(Clade clade, const std::vector<std::string>& names) {
  std::string members;
  for (int k = 0; k < static_cast<int>(names.size()); ++k) {
    if (clade >> k & 1) {
      absl::StrAppend(&members, members.empty() ? "" : " ", names[k]);
    }
  }
  return members;
}

}  // namespace

void PrintTopClades(const CladeFrequencies& f, const CladeFrequencies* exact,
                    const std::vector<std::string>& names, int count,
                    const char* label, const char* other) {
  std::vector<std::pair<double, Clade>> order;
  for (const auto& [clade, freq] : f.frequency) order.push_back({freq, clade});
  std::sort(order.rbegin(), order.rend());
  std::printf("\n| clade | %s |%s\n|---|---|%s\n", label,
              exact != nullptr ? absl::StrCat(" ", other, " |").c_str() : "",
              exact != nullptr ? "---|" : "");
  for (int i = 0; i < count && i < static_cast<int>(order.size()); ++i) {
    std::printf("| %s | %.4f |", CladeMembers(order[i].second, names).c_str(),
                order[i].first);
    if (exact != nullptr) std::printf(" %.4f |", exact->Of(order[i].second));
    std::printf("\n");
  }
}

void PrintCladeComparison(const CladeFrequencies& reference,
                          const CladeFrequencies& other,
                          const std::vector<std::string>& names, int count,
                          const char* reference_label,
                          const char* other_label) {
  std::vector<std::pair<double, Clade>> order;
  for (const auto& [clade, f] : reference.frequency) {
    order.push_back({f, clade});
  }
  for (const auto& [clade, f] : other.frequency) {
    if (reference.Of(clade) == 0) order.push_back({f, clade});
  }
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return std::max(reference.Of(a.second), other.Of(a.second)) >
           std::max(reference.Of(b.second), other.Of(b.second));
  });
  std::printf("\n| clade | %s | %s | difference |\n|---|---|---|---|\n",
              reference_label, other_label);
  for (int i = 0; i < count && i < static_cast<int>(order.size()); ++i) {
    const Clade clade = order[i].second;
    std::printf("| %s | %.4f | %.4f | %+.4f |\n",
                CladeMembers(clade, names).c_str(), reference.Of(clade),
                other.Of(clade), other.Of(clade) - reference.Of(clade));
  }
}

}  // namespace epgfn
