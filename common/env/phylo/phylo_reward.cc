// The phylo rewards (MakePhyloReward, ClientSites) and the environment's
// registration; the environment itself is in phylo.cc.
#include <glog/logging.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/env/client_share.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/client_alignment.h"
#include "common/env/phylo/jc69_kernel.h"
#include "common/env/phylo/jc69_kernel_patterns.h"
#include "common/env/phylo/likelihood.h"
#include "common/env/phylo/phylo.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<std::vector<int64_t>> ClientSites(int64_t num_sites,
                                                 int64_t index, int64_t count,
                                                 const std::string& split,
                                                 int64_t seed) {
  if (count > num_sites) {
    return absl::InvalidArgumentError(
        absl::StrCat("parameter 'count' = ", count, " exceeds the ", num_sites,
                     " alignment sites, so some client would hold none"));
  }
  std::vector<int64_t> order(num_sites);
  for (int64_t s = 0; s < num_sites; ++s) order[s] = s;
  if (split == "random") {
    // Fisher-Yates driven by std::mt19937_64 directly (fully specified by
    // the standard, unlike std::shuffle), so every client derives the same
    // permutation from the seed.
    std::mt19937_64 engine(static_cast<uint64_t>(seed));
    for (int64_t j = num_sites - 1; j > 0; --j) {
      const int64_t k =
          static_cast<int64_t>(engine() % static_cast<uint64_t>(j + 1));
      std::swap(order[j], order[k]);
    }
  } else if (split != "contiguous") {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter 'split' must be contiguous or random, got '", split, "'"));
  }
  const int64_t begin = index * num_sites / count;
  const int64_t end = (index + 1) * num_sites / count;
  std::vector<int64_t> sites(order.begin() + begin, order.begin() + end);
  std::sort(sites.begin(), sites.end());
  return sites;
}

namespace {

// Trees scored at once by a reward: bounds the per-chunk work buffers
// (Fitch's [chunk, 2n-1, P] int64 sets, about 128 MiB at most).
constexpr int64_t kMaxRewardChunk = 256;
constexpr int64_t kRewardChunkElements = int64_t{1} << 24;

// The data term of one client: its own alignment's JC69 log-likelihood, or
// -lambda x its Fitch parsimony score.
class PhyloLikelihood : public LogReward {
 public:
  enum class Kind { kJc69, kParsimony };
  PhyloLikelihood(const PhyloEnvironment* environment, Kind kind,
                  SitePatterns patterns, double scale, double branch_length,
                  std::optional<Jc69Kernel> loops, std::string description)
      : environment_(environment),
        kind_(kind),
        patterns_(std::move(patterns)),
        tips_(TipPartials(patterns_.masks)),
        scale_(scale),
        branch_length_(branch_length),
        loops_(std::move(loops)),
        description_(std::move(description)) {}

  // Log-likelihoods of real alignments (-8,000 to -37,000 for DS1-DS8) lose
  // their last digits in float32 (spacing 0.004 at 30,000), so exact
  // references use these double values directly.
  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    at::Tensor left;
    at::Tensor right;
    environment_->TreeChildren(terminal_states, &left, &right);
    if (loops_.has_value()) {
      return (LoopsLogLikelihoods(left, right) * scale_)
          .to(terminal_states.device());
    }
    const int64_t n = environment_->num_taxa();
    const int64_t patterns = patterns_.weights.size(0);
    const int64_t chunk = std::clamp<int64_t>(
        kRewardChunkElements / std::max<int64_t>(1, 2 * n * patterns), 1,
        kMaxRewardChunk);
    std::vector<at::Tensor> chunks;
    for (int64_t start = 0; start < left.size(0); start += chunk) {
      const int64_t size = std::min(chunk, left.size(0) - start);
      at::Tensor l = left.narrow(0, start, size);
      at::Tensor r = right.narrow(0, start, size);
      chunks.push_back(
          kind_ == Kind::kJc69
              ? Jc69LogLikelihoods(l, r, tips_, patterns_.weights,
                                   branch_length_)
              : FitchScores(l, r, patterns_.masks, patterns_.weights));
    }
    at::Tensor values = chunks.empty() ? torch::zeros({0}, torch::kFloat64)
                                       : torch::cat(chunks);
    return (values * scale_).to(terminal_states.device());
  }
  std::string Describe() const override { return description_; }

 private:
  // kernel=loops: the same values from Jc69Kernel. The environment's trees
  // are valid by construction; were one not, its value is NaN (logged).
  at::Tensor LoopsLogLikelihoods(const at::Tensor& left,
                                 const at::Tensor& right) const {
    const at::Tensor l = left.to(torch::kCPU, torch::kInt64).contiguous();
    const at::Tensor r = right.to(torch::kCPU, torch::kInt64).contiguous();
    at::Tensor values = torch::empty({l.size(0)}, torch::kFloat64);
    const absl::Status status = loops_->LogLikelihoods(
        absl::MakeConstSpan(l.data_ptr<int64_t>(), l.numel()),
        absl::MakeConstSpan(r.data_ptr<int64_t>(), r.numel()),
        absl::MakeSpan(values.data_ptr<double>(), values.numel()));
    if (!status.ok()) {
      LOG(ERROR) << description_ << ": " << status;
      values.fill_(std::numeric_limits<double>::quiet_NaN());
    }
    return values;
  }

  const PhyloEnvironment* environment_;
  Kind kind_;
  SitePatterns patterns_;
  at::Tensor tips_;
  double scale_;
  double branch_length_;
  std::optional<Jc69Kernel> loops_;  // set for kernel=loops
  std::string description_;
};

// The uniform prior over the (2n-3)!! rooted topologies.
class UniformTopologyPrior : public LogReward {
 public:
  explicit UniformTopologyPrior(int64_t num_taxa)
      : num_taxa_(num_taxa), log_prior_(-LogNumRootedTopologies(num_taxa)) {}
  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    return torch::full(
        {terminal_states.size(0)}, log_prior_,
        torch::dtype(torch::kFloat64).device(terminal_states.device()));
  }
  std::string Describe() const override {
    return absl::StrCat("uniform prior over the rooted topologies of ",
                        num_taxa_, " taxa");
  }

 private:
  int64_t num_taxa_;
  double log_prior_;
};

// kernel=tensor (the default: Jc69LogLikelihoods, whose values seeded runs
// were recorded with) or kernel=loops (Jc69Kernel: the same values to
// ~1e-15 relative, 13-24x faster on one thread; BENCHMARKS.md).
absl::StatusOr<std::optional<Jc69Kernel>> ReadKernel(
    const ParamMap& params, const SitePatterns& patterns,
    double branch_length) {
  const std::string kernel = params.GetString("kernel", "tensor");
  if (kernel == "tensor") return std::optional<Jc69Kernel>();
  if (kernel != "loops") {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter 'kernel' must be tensor or loops, got '", kernel, "'"));
  }
  ASSIGN_OR_RETURN(
      Jc69Kernel made,
      Jc69Kernel::Create(KernelOptionsFromPatterns(patterns, branch_length)));
  return std::optional<Jc69Kernel>(std::move(made));
}

}  // namespace

absl::StatusOr<RewardParts> MakePhyloReward(const PhyloEnvironment& environment,
                                            const RewardConfig& config) {
  const ParamMap& params = config.params;
  const bool jc69 = config.kind == "jc69";
  if (!jc69 && config.kind != "parsimony") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown phylo reward kind '", config.kind,
                     "'; expected 'jc69' or 'parsimony'"));
  }
  RETURN_IF_ERROR(
      jc69 ? params.CheckKeys({"branch_length", "kernel", "alignment", "index",
                               "count", "split", "seed", "compress"})
           : params.CheckKeys({"lambda", "alignment", "index", "count", "split",
                               "seed", "compress"}));
  const std::string path = params.GetString("alignment", "");
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "phylo reward '", config.ToString(),
        "' needs alignment=PATH: the client's own alignment file (NEXUS, "
        "FASTA, relaxed PHYLIP or BEAST XML, optionally gzipped)"));
  }
  ASSIGN_OR_RETURN(const ClientAlignment own,
                   ReadClientAlignment(path, environment.taxa()));
  ASSIGN_OR_RETURN(const ClientShare share, ReadClientShare(params));
  ASSIGN_OR_RETURN(const int64_t seed, ReadRewardSeed(params));
  const std::string split = params.GetString("split", "contiguous");
  ASSIGN_OR_RETURN(
      std::vector<int64_t> sites,
      ClientSites(own.masks.size(1), share.index, share.count, split, seed));
  ASSIGN_OR_RETURN(const int64_t compress, params.GetInt("compress", 1, 0, 1));
  at::Tensor client_masks =
      own.masks.index_select(1, torch::tensor(sites, torch::kInt64));
  // compress=0 evaluates every site separately, as an implementation
  // without pattern compression would (the sites-scaling experiment uses it
  // so that the cost grows with the number of sites, as in the paper).
  SitePatterns patterns =
      compress == 1
          ? CompressSites(client_masks)
          : SitePatterns{client_masks.contiguous(),
                         torch::ones({client_masks.size(1)}, torch::kFloat64)};
  std::string client = absl::StrCat(path, ", ", sites.size(), " sites, ",
                                    patterns.weights.size(0), " patterns");
  if (share.count > 1) {
    absl::StrAppend(&client, ", part ", share.index, " of ", share.count, " (",
                    split, " split)");
  }
  if (!own.missing.empty()) {
    absl::StrAppend(&client, ", missing taxa ",
                    absl::StrJoin(own.missing, ";"));
  }
  RewardParts parts;
  parts.log_prior =
      std::make_unique<UniformTopologyPrior>(environment.num_taxa());
  if (jc69) {
    ASSIGN_OR_RETURN(const double branch_length,
                     params.GetDouble("branch_length", 0.1, 1e-6, 100.0));
    ASSIGN_OR_RETURN(std::optional<Jc69Kernel> loops,
                     ReadKernel(params, patterns, branch_length));
    const bool plain_loops = loops.has_value();
    parts.log_likelihood = std::make_unique<PhyloLikelihood>(
        &environment, PhyloLikelihood::Kind::kJc69, std::move(patterns), 1.0,
        branch_length, std::move(loops),
        absl::StrCat("phylo JC69 likelihood of ", client, ", branch length ",
                     branch_length, plain_loops ? ", plain-loop kernel" : ""));
  } else {
    ASSIGN_OR_RETURN(const double lambda,
                     params.GetDouble("lambda", 1.0, 0.0, 1e6));
    parts.log_likelihood = std::make_unique<PhyloLikelihood>(
        &environment, PhyloLikelihood::Kind::kParsimony, std::move(patterns),
        -lambda, 0.0, std::nullopt,
        absl::StrCat("phylo parsimony of ", client, ", lambda ", lambda));
  }
  return parts;
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "phylo",
    TypedEnvironmentFactory<PhyloEnvironment>(
        "phylo:taxa=a;b;c|num_taxa=k (names only: no data). Rewards, each "
        "naming the client's own file: jc69:alignment=PATH[,branch_length,"
        "compress=1|0,kernel=tensor|loops,index,count,split=contiguous|"
        "random,seed], "
        "parsimony:alignment=PATH[,lambda,compress,index,count,split,seed]",
        &MakePhyloReward));

}  // namespace
}  // namespace epgfn
