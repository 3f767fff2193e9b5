#include "common/eval/phylo/tree_mcmc.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/eval/phylo/tree_state.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::Status TreeMcmcOptions::Validate() const {
  if (num_chains < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_chains must be >= 1, got ", num_chains));
  }
  if (!(nni_probability >= 0.0 && nni_probability <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "nni_probability must lie in [0, 1], got ", nni_probability));
  }
  if (sample_every < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample_every must be >= 1, got ", sample_every));
  }
  if (max_batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch must be >= 1, got ", max_batch));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TreeMcmc>> TreeMcmc::Create(
    int num_taxa, const LogReward* reward, const TreeMcmcOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  if (num_taxa < 2 || num_taxa > RootedTree::kMaxTaxa) {
    return absl::InvalidArgumentError(absl::StrCat("tree MCMC needs 2 to ",
                                                   RootedTree::kMaxTaxa,
                                                   " taxa, got ", num_taxa));
  }
  if (reward == nullptr) return absl::InvalidArgumentError("null reward");
  std::unique_ptr<TreeMcmc> mcmc(new TreeMcmc(num_taxa, reward, options));
  std::vector<std::vector<Clade>> starts;
  for (int c = 0; c < options.num_chains; ++c) {
    // One engine per chain from (seed, chain), so adding chains leaves the
    // others' streams unchanged.
    std::seed_seq seq{static_cast<uint64_t>(options.seed),
                      static_cast<uint64_t>(c), uint64_t{0x7ee3c3c}};
    std::mt19937_64 rng(seq);
    RootedTree tree = RootedTree::Random(num_taxa, rng);
    std::vector<Clade> clades = tree.Clades();
    starts.push_back(clades);
    mcmc->chains_.push_back(
        Chain{std::move(rng), std::move(tree), std::move(clades), {}, {}});
  }
  ASSIGN_OR_RETURN(std::vector<double> log_r, mcmc->LogRewards(starts));
  for (int c = 0; c < options.num_chains; ++c) {
    Chain& chain = mcmc->chains_[c];
    if (!std::isfinite(log_r[c])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the log-reward of chain ", c, "'s random starting tree is ",
          log_r[c], "; the MCMC needs a positive reward everywhere"));
    }
    chain.stats.log_reward = log_r[c];
    chain.stats.best_log_reward = log_r[c];
    chain.stats.best_tree = chain.clades;
  }
  return mcmc;
}

TreeMcmc::Proposal TreeMcmc::Propose(Chain& chain) const {
  const RootedTree& tree = chain.tree;
  Proposal proposal{tree};
  if (n_ == 2) {
    proposal.same = true;  // one topology only
    return proposal;
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto pick = [&chain](const std::vector<int>& choices) {
    return choices[std::uniform_int_distribution<size_t>(
        0, choices.size() - 1)(chain.rng)];
  };
  if (unit(chain.rng) < options_.nni_probability) {
    const int u = pick(tree.NniNodes());
    const int which = std::uniform_int_distribution<int>(0, 1)(chain.rng);
    proposal.tree.Nni(u, which);
    return proposal;
  }
  const int x = pick(tree.NonRootNodes());
  const std::vector<int> targets = tree.SprTargets(x);
  if (targets.empty()) {
    proposal.same = true;
    return proposal;
  }
  const int y = pick(targets);
  proposal.tree.Spr(x, y);
  return proposal;
}

int64_t TreeMcmc::BatchSize(const Chain& chain) const {
  // About one accepted move per batch: 1 / (smoothed acceptance rate).
  const double rate = (chain.stats.accepted + 1.0) / (chain.stats.steps + 2.0);
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(1.0 / rate)), 1,
                             options_.max_batch);
}

absl::StatusOr<std::vector<double>> TreeMcmc::LogRewards(
    const std::vector<std::vector<Clade>>& trees) {
  if (trees.empty()) return std::vector<double>();
  torch::NoGradGuard no_grad;
  at::Tensor values = reward_->LogRewardFloat64(StatesOfTrees(trees))
                          .to(torch::kCPU)
                          .to(torch::kFloat64);
  ++reward_calls_;
  if (values.dim() != 1 ||
      values.size(0) != static_cast<int64_t>(trees.size())) {
    return absl::InternalError(absl::StrCat("the reward returned ",
                                            values.numel(), " values for ",
                                            trees.size(), " trees"));
  }
  values = values.contiguous();
  const double* data = values.data_ptr<double>();
  std::vector<double> result(data, data + trees.size());
  for (double v : result) {
    if (std::isnan(v)) return absl::InternalError("the reward returned NaN");
  }
  return result;
}

void TreeMcmc::Record(Chain& chain) const {
  ++chain.stats.steps;
  if (chain.stats.steps % options_.sample_every == 0) {
    chain.samples.push_back(chain.clades);
  }
}

absl::Status TreeMcmc::Run(int64_t steps) {
  if (steps < 0) {
    return absl::InvalidArgumentError(absl::StrCat("steps = ", steps));
  }
  std::vector<int64_t> remaining(chains_.size(), steps);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (std::any_of(remaining.begin(), remaining.end(),
                     [](int64_t r) { return r > 0; })) {
    std::vector<std::vector<Proposal>> proposals(chains_.size());
    std::vector<std::vector<Clade>> scored;
    for (size_t c = 0; c < chains_.size(); ++c) {
      const int64_t k = std::min(BatchSize(chains_[c]), remaining[c]);
      for (int64_t j = 0; j < k; ++j) {
        proposals[c].push_back(Propose(chains_[c]));
        if (!proposals[c].back().same) {
          scored.push_back(proposals[c].back().tree.Clades());
        }
      }
    }
    ASSIGN_OR_RETURN(std::vector<double> log_r, LogRewards(scored));
    size_t next = 0;
    for (size_t c = 0; c < chains_.size(); ++c) {
      Chain& chain = chains_[c];
      size_t first = next;
      for (const Proposal& proposal : proposals[c]) {
        if (!proposal.same) ++next;
      }
      chain.stats.evaluated += static_cast<int64_t>(next - first);
      size_t index = first;
      for (Proposal& proposal : proposals[c]) {
        --remaining[c];
        if (proposal.same) {
          Record(chain);
          continue;
        }
        const double value = log_r[index++];
        const double delta = value - chain.stats.log_reward;
        if (delta >= 0.0 || std::log(unit(chain.rng)) < delta) {
          chain.tree = std::move(proposal.tree);
          chain.clades = scored[index - 1];
          chain.stats.log_reward = value;
          ++chain.stats.accepted;
          if (value > chain.stats.best_log_reward) {
            chain.stats.best_log_reward = value;
            chain.stats.best_tree = chain.clades;
          }
          Record(chain);
          break;  // the remaining proposals were drawn from the old tree
        }
        Record(chain);
      }
    }
  }
  return absl::OkStatus();
}

CladeFrequencies TreeMcmc::Frequencies(int chain,
                                       double burn_in_fraction) const {
  std::vector<std::vector<Clade>> kept;
  for (int c = 0; c < num_chains(); ++c) {
    if (chain != -1 && c != chain) continue;
    const std::vector<std::vector<Clade>>& all = chains_[c].samples;
    const size_t skip = static_cast<size_t>(burn_in_fraction * all.size());
    kept.insert(kept.end(), all.begin() + skip, all.end());
  }
  return CountClades(n_, kept);
}

absl::StatusOr<Asdsf> TreeMcmc::AsdsfAfterBurnIn(double burn_in_fraction,
                                                 double min_frequency) const {
  std::vector<CladeFrequencies> per_chain;
  for (int c = 0; c < num_chains(); ++c) {
    per_chain.push_back(Frequencies(c, burn_in_fraction));
  }
  return AverageSdOfSplitFrequencies(per_chain, min_frequency);
}

absl::StatusOr<ConvergenceReport> RunUntilConverged(
    TreeMcmc& mcmc, const ConvergenceOptions& options) {
  if (options.check_every < 1 ||
      !(options.burn_in_fraction >= 0.0 && options.burn_in_fraction < 1.0)) {
    return absl::InvalidArgumentError(
        "check_every must be >= 1 and burn_in_fraction in [0, 1)");
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  ConvergenceReport report;
  int64_t steps = 0;
  while (true) {
    const int64_t chunk =
        std::min(options.check_every, options.max_steps - steps);
    if (chunk <= 0) break;
    RETURN_IF_ERROR(mcmc.Run(chunk));
    steps += chunk;
    ConvergencePoint point;
    point.steps = steps;
    ASSIGN_OR_RETURN(
        point.asdsf,
        mcmc.AsdsfAfterBurnIn(options.burn_in_fraction, options.min_frequency));
    point.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report.trace.push_back(point);
    const int64_t kept =
        static_cast<int64_t>(mcmc.samples(0).size()) -
        static_cast<int64_t>(options.burn_in_fraction * mcmc.samples(0).size());
    if (kept >= options.min_samples &&
        point.asdsf.value <= options.target_asdsf) {
      report.converged = true;
      break;
    }
    if (point.seconds >= options.max_seconds) break;
  }
  return report;
}

}  // namespace epgfn
