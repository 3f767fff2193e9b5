#include "common/env/phylo/phylo.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/client_share.h"
#include "common/env/environment_registry.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/likelihood.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Trees scored at once by a reward: bounds the [chunk, 2n-1, P, 4] float64
// partials (about 100 MB at 16 taxa and 900 patterns).
constexpr int64_t kRewardChunk = 256;

int PopCount(int64_t x) {
  return __builtin_popcountll(static_cast<uint64_t>(x));
}
int64_t LowestLeaf(int64_t clade) {
  return __builtin_ctzll(static_cast<uint64_t>(clade));
}

// One state row viewed as its clades (non-zero entries).
class Forest {
 public:
  Forest(const int64_t* row, int64_t width) {
    for (int64_t k = 0; k < width; ++k) {
      if (row[k] != 0) clades_.push_back(row[k]);
    }
  }
  const std::vector<int64_t>& clades() const { return clades_; }
  // The root clade holding `leaf`: clades holding a leaf are nested, so it
  // is the largest one (the leaf alone when none holds it).
  int64_t RootOf(int64_t leaf) const {
    const int64_t bit = int64_t{1} << leaf;
    int64_t root = bit;
    for (int64_t c : clades_) {
      if ((c & bit) != 0 && PopCount(c) > PopCount(root)) root = c;
    }
    return root;
  }
  bool IsAnchor(int64_t leaf) const { return LowestLeaf(RootOf(leaf)) == leaf; }
  // The child of internal clade `parent` that holds its smallest leaf: the
  // largest node strictly inside it holding that leaf.
  int64_t FirstChild(int64_t parent) const {
    const int64_t bit = parent & -parent;
    int64_t child = bit;
    for (int64_t c : clades_) {
      if (c != parent && (c & ~parent) == 0 && (c & bit) != 0 &&
          PopCount(c) > PopCount(child)) {
        child = c;
      }
    }
    return child;
  }
  // Writes the clades sorted decreasingly and padded with 0: the canonical
  // row.
  void WriteRow(int64_t* row, int64_t width) const {
    std::vector<int64_t> sorted = clades_;
    std::sort(sorted.begin(), sorted.end(), std::greater<int64_t>());
    for (int64_t k = 0; k < width; ++k) {
      row[k] = k < static_cast<int64_t>(sorted.size()) ? sorted[k] : 0;
    }
  }
  void Add(int64_t clade) { clades_.push_back(clade); }
  void Remove(int64_t clade) {
    clades_.erase(std::find(clades_.begin(), clades_.end(), clade));
  }

 private:
  std::vector<int64_t> clades_;
};

at::Tensor CpuContiguous(const at::Tensor& t) {
  return t.to(torch::kCPU).contiguous();
}

absl::StatusOr<std::pair<int64_t, int64_t>> ParseSiteRange(
    const std::string& text, int64_t num_sites) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int64_t first = 0;
  int64_t last = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &first) ||
      !absl::SimpleAtoi(parts[1], &last)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter 'sites' must be a range first-last, got '", text, "'"));
  }
  if (first < 0 || last < first || last >= num_sites) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parameter 'sites' range ", text, " must satisfy 0 <= first <= last < ",
        num_sites, " (the alignment's sites)"));
  }
  return std::make_pair(first, last);
}

}  // namespace

double LogNumRootedTopologies(int64_t n) {
  double log_count = 0.0;
  for (int64_t j = 1; j <= n - 1; ++j) log_count += std::log(2.0 * j - 1.0);
  return log_count;
}

PhyloEnvironment::PhyloEnvironment(EnvironmentConfig config,
                                   std::vector<std::string> taxa,
                                   at::Tensor site_masks)
    : config_(std::move(config)),
      n_(static_cast<int64_t>(taxa.size())),
      taxa_(std::move(taxa)),
      site_masks_(std::move(site_masks)) {
  for (int64_t a = 0; a < n_; ++a) {
    for (int64_t b = a + 1; b < n_; ++b) {
      pair_first_.push_back(a);
      pair_second_.push_back(b);
    }
  }
}

absl::StatusOr<std::unique_ptr<PhyloEnvironment>> PhyloEnvironment::Create(
    const EnvironmentConfig& config) {
  const ParamMap& params = config.params;
  RETURN_IF_ERROR(params.CheckKeys({"alignment", "taxa", "num_taxa", "sites"}));
  if (params.Has("taxa") && params.Has("num_taxa")) {
    return absl::InvalidArgumentError(
        "give parameter 'taxa' or 'num_taxa', not both");
  }
  const std::string path = params.GetString("alignment", "");
  std::vector<std::string> taxa;
  at::Tensor masks;
  if (!path.empty()) {
    ASSIGN_OR_RETURN(Alignment alignment, ReadAlignment(path));
    std::vector<int64_t> rows;
    if (params.Has("taxa")) {
      const std::vector<std::string> names =
          absl::StrSplit(params.GetString("taxa", ""), ';');
      for (const std::string& name : names) {
        auto it = std::find(alignment.taxa.begin(), alignment.taxa.end(), name);
        if (it == alignment.taxa.end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "parameter 'taxa': '", name, "' is not a taxon of ", path, " (",
              absl::StrJoin(alignment.taxa, ";"), ")"));
        }
        const int64_t row = it - alignment.taxa.begin();
        if (std::find(rows.begin(), rows.end(), row) != rows.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("parameter 'taxa' names '", name, "' twice"));
        }
        rows.push_back(row);
      }
    } else {
      ASSIGN_OR_RETURN(const int64_t count,
                       params.GetInt("num_taxa", alignment.num_taxa(), 2,
                                     std::min(alignment.num_taxa(), kMaxTaxa)));
      for (int64_t k = 0; k < count; ++k) rows.push_back(k);
    }
    for (int64_t row : rows) taxa.push_back(alignment.taxa[row]);
    masks =
        alignment.states.index_select(0, torch::tensor(rows, torch::kInt64));
    if (params.Has("sites")) {
      ASSIGN_OR_RETURN(auto range, ParseSiteRange(params.GetString("sites", ""),
                                                  alignment.num_sites()));
      masks = masks.narrow(1, range.first, range.second - range.first + 1);
    }
    masks = masks.contiguous();
  } else {
    if (params.Has("sites")) {
      return absl::InvalidArgumentError(
          "parameter 'sites' needs an 'alignment'");
    }
    if (params.Has("taxa")) {
      taxa = absl::StrSplit(params.GetString("taxa", ""), ';');
    } else {
      ASSIGN_OR_RETURN(const int64_t count,
                       params.GetInt("num_taxa", 4, 2, kMaxTaxa));
      for (int64_t k = 1; k <= count; ++k) taxa.push_back(absl::StrCat("t", k));
    }
  }
  const int64_t n = static_cast<int64_t>(taxa.size());
  if (n < 2 || n > kMaxTaxa) {
    return absl::InvalidArgumentError(
        absl::StrCat("phylo needs between 2 and ", kMaxTaxa, " taxa, got ", n,
                     "; choose them with parameter 'taxa' or 'num_taxa'"));
  }
  std::set<std::string> distinct;
  for (const std::string& name : taxa) {
    // The canonical config lists the names, so they must survive its syntax.
    if (name.empty() || name.find_first_of(",;=: ") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "taxon name '", name,
          "' is empty or holds one of , ; = : or space, which the config "
          "syntax cannot carry"));
    }
    if (!distinct.insert(name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter 'taxa' names '", name, "' twice"));
    }
  }
  EnvironmentConfig canonical{"phylo", {}};
  if (!path.empty()) canonical.params.Set("alignment", path);
  if (params.Has("sites")) {
    canonical.params.Set("sites", params.GetString("sites", ""));
  }
  canonical.params.Set("taxa", absl::StrJoin(taxa, ";"));
  return std::unique_ptr<PhyloEnvironment>(
      new PhyloEnvironment(std::move(canonical), std::move(taxa), masks));
}

at::Tensor PhyloEnvironment::InitialStates(int64_t batch,
                                           c10::Device device) const {
  return torch::zeros({batch, n_ - 1},
                      torch::dtype(torch::kInt64).device(device));
}

at::Tensor PhyloEnvironment::Encode(const at::Tensor& states) const {
  at::Tensor cpu = CpuContiguous(states);
  const int64_t batch = cpu.size(0);
  const int64_t pairs = n_ * (n_ - 1) / 2;
  at::Tensor encoded = torch::zeros({batch, encoding_dim()}, torch::kFloat32);
  float* out = encoded.data_ptr<float>();
  const int64_t* in = cpu.data_ptr<int64_t>();
  const float scale = 1.0f / static_cast<float>(n_);
  for (int64_t r = 0; r < batch; ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    float* row = out + r * encoding_dim();
    for (int64_t p = 0; p < pairs; ++p) {
      const int64_t both =
          (int64_t{1} << pair_first_[p]) | (int64_t{1} << pair_second_[p]);
      int smallest = 0;
      for (int64_t c : forest.clades()) {
        if ((c & both) == both && (smallest == 0 || PopCount(c) < smallest)) {
          smallest = PopCount(c);
        }
      }
      row[p] = smallest * scale;
    }
    for (int64_t leaf = 0; leaf < n_; ++leaf) {
      row[pairs + leaf] = PopCount(forest.RootOf(leaf)) * scale;
    }
  }
  return encoded.to(states.device());
}

at::Tensor PhyloEnvironment::ForwardMask(const at::Tensor& states) const {
  at::Tensor cpu = CpuContiguous(states);
  const int64_t batch = cpu.size(0);
  const int64_t actions = num_forward_actions();
  at::Tensor mask = torch::zeros({batch, actions}, torch::kBool);
  bool* out = mask.data_ptr<bool>();
  const int64_t* in = cpu.data_ptr<int64_t>();
  for (int64_t r = 0; r < batch; ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    if (static_cast<int64_t>(forest.clades().size()) == n_ - 1) {
      out[r * actions + actions - 1] = true;
      continue;
    }
    std::vector<bool> anchor(n_);
    for (int64_t leaf = 0; leaf < n_; ++leaf)
      anchor[leaf] = forest.IsAnchor(leaf);
    for (int64_t p = 0; p + 1 < actions; ++p) {
      out[r * actions + p] = anchor[pair_first_[p]] && anchor[pair_second_[p]];
    }
  }
  return mask.to(states.device());
}

at::Tensor PhyloEnvironment::BackwardMask(const at::Tensor& states) const {
  at::Tensor cpu = CpuContiguous(states);
  const int64_t batch = cpu.size(0);
  at::Tensor mask = torch::zeros({batch, n_}, torch::kBool);
  bool* out = mask.data_ptr<bool>();
  const int64_t* in = cpu.data_ptr<int64_t>();
  for (int64_t r = 0; r < batch; ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    for (int64_t leaf = 0; leaf < n_; ++leaf) {
      const int64_t root = forest.RootOf(leaf);
      out[r * n_ + leaf] = LowestLeaf(root) == leaf && PopCount(root) >= 2;
    }
  }
  return mask.to(states.device());
}

at::Tensor PhyloEnvironment::Step(const at::Tensor& states,
                                  const at::Tensor& actions) const {
  at::Tensor cpu = CpuContiguous(states);
  at::Tensor acts = CpuContiguous(actions.to(torch::kInt64));
  at::Tensor next = cpu.clone();
  const int64_t* in = cpu.data_ptr<int64_t>();
  const int64_t* a = acts.data_ptr<int64_t>();
  int64_t* out = next.data_ptr<int64_t>();
  for (int64_t r = 0; r < cpu.size(0); ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    TORCH_CHECK(a[r] >= 0 && a[r] < num_forward_actions() - 1,
                "phylo: forward action ", a[r], " is not a merge");
    forest.Add(forest.RootOf(pair_first_[a[r]]) |
               forest.RootOf(pair_second_[a[r]]));
    forest.WriteRow(out + r * (n_ - 1), n_ - 1);
  }
  return next.to(states.device());
}

at::Tensor PhyloEnvironment::BackwardStep(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  at::Tensor cpu = CpuContiguous(states);
  at::Tensor acts = CpuContiguous(backward_actions.to(torch::kInt64));
  at::Tensor previous = cpu.clone();
  const int64_t* in = cpu.data_ptr<int64_t>();
  const int64_t* a = acts.data_ptr<int64_t>();
  int64_t* out = previous.data_ptr<int64_t>();
  for (int64_t r = 0; r < cpu.size(0); ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    const int64_t root = forest.RootOf(a[r]);
    TORCH_CHECK(PopCount(root) >= 2, "phylo: backward action ", a[r],
                " splits a leaf");
    forest.Remove(root);
    forest.WriteRow(out + r * (n_ - 1), n_ - 1);
  }
  return previous.to(states.device());
}

at::Tensor PhyloEnvironment::BackwardActionOf(
    const at::Tensor& next_states, const at::Tensor& forward_actions) const {
  // The merged root's anchor is the smaller anchor of the pair.
  at::Tensor first =
      torch::tensor(pair_first_, torch::kInt64).to(forward_actions.device());
  return first.index_select(0, forward_actions.to(torch::kInt64).flatten())
      .reshape(forward_actions.sizes());
}

at::Tensor PhyloEnvironment::ForwardActionOf(
    const at::Tensor& states, const at::Tensor& backward_actions) const {
  at::Tensor cpu = CpuContiguous(states);
  at::Tensor acts = CpuContiguous(backward_actions.to(torch::kInt64));
  at::Tensor result = torch::empty({cpu.size(0)}, torch::kInt64);
  const int64_t* in = cpu.data_ptr<int64_t>();
  const int64_t* a = acts.data_ptr<int64_t>();
  int64_t* out = result.data_ptr<int64_t>();
  for (int64_t r = 0; r < cpu.size(0); ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    const int64_t root = forest.RootOf(a[r]);
    const int64_t second = root ^ forest.FirstChild(root);
    out[r] = PairAction(a[r], LowestLeaf(second));
  }
  return result.to(states.device());
}

absl::StatusOr<at::Tensor> PhyloEnvironment::EnumerateTerminalStates() const {
  if (n_ > kMaxEnumeratedTaxa) {
    return absl::FailedPreconditionError(absl::StrCat(
        "phylo with ", n_, " taxa has (2n-3)!! = exp(",
        LogNumRootedTopologies(n_), ") trees, too many to enumerate (limit ",
        kMaxEnumeratedTaxa, " taxa)"));
  }
  // Trees on leaves 0..k grow from trees on 0..k-1 by attaching leaf k on
  // the edge above any of their 2k - 1 nodes (the root included): node C
  // gains the new parent clade C | {k}, and every clade above C gains k.
  // Each tree arises exactly once, giving (2n - 3)!! in all.
  std::vector<std::vector<int64_t>> trees = {{}};
  for (int64_t k = 1; k < n_; ++k) {
    const int64_t bit = int64_t{1} << k;
    std::vector<std::vector<int64_t>> grown;
    for (const std::vector<int64_t>& tree : trees) {
      std::vector<int64_t> nodes = tree;
      for (int64_t leaf = 0; leaf < k; ++leaf)
        nodes.push_back(int64_t{1} << leaf);
      for (int64_t node : nodes) {
        std::vector<int64_t> next;
        for (int64_t c : tree) {
          next.push_back(c != node && (c & node) == node ? (c | bit) : c);
        }
        next.push_back(node | bit);
        grown.push_back(std::move(next));
      }
    }
    trees = std::move(grown);
  }
  const int64_t rows = static_cast<int64_t>(trees.size());
  at::Tensor states = torch::empty({rows, n_ - 1}, torch::kInt64);
  int64_t* out = states.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    std::sort(trees[r].begin(), trees[r].end(), std::greater<int64_t>());
    std::copy(trees[r].begin(), trees[r].end(), out + r * (n_ - 1));
  }
  return states;
}

std::string PhyloEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = CpuContiguous(state.to(torch::kInt64)).flatten();
  Forest forest(cpu.data_ptr<int64_t>(), cpu.numel());
  std::function<std::string(int64_t)> newick = [&](int64_t clade) {
    if (PopCount(clade) == 1) return taxa_[LowestLeaf(clade)];
    const int64_t first = forest.FirstChild(clade);
    return absl::StrCat("(", newick(first), ",", newick(clade ^ first), ")");
  };
  std::vector<std::string> trees;
  for (int64_t leaf = 0; leaf < n_; ++leaf) {
    if (forest.IsAnchor(leaf)) {
      trees.push_back(absl::StrCat(newick(forest.RootOf(leaf)), ";"));
    }
  }
  return absl::StrJoin(trees, " ");
}

void PhyloEnvironment::TreeChildren(const at::Tensor& states, at::Tensor* left,
                                    at::Tensor* right) const {
  at::Tensor cpu = CpuContiguous(states);
  const int64_t batch = cpu.size(0);
  *left = torch::empty({batch, n_ - 1}, torch::kInt64);
  *right = torch::empty({batch, n_ - 1}, torch::kInt64);
  const int64_t* in = cpu.data_ptr<int64_t>();
  int64_t* l = left->data_ptr<int64_t>();
  int64_t* rr = right->data_ptr<int64_t>();
  for (int64_t r = 0; r < batch; ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    TORCH_CHECK(static_cast<int64_t>(forest.clades().size()) == n_ - 1,
                "phylo reward of a state that is not a complete tree: ",
                Describe(cpu[r]));
    std::vector<int64_t> order = forest.clades();
    std::stable_sort(order.begin(), order.end(), [](int64_t x, int64_t y) {
      return PopCount(x) < PopCount(y);
    });
    std::unordered_map<int64_t, int64_t> node;
    for (int64_t leaf = 0; leaf < n_; ++leaf) node[int64_t{1} << leaf] = leaf;
    for (int64_t j = 0; j < n_ - 1; ++j) {
      const int64_t first = forest.FirstChild(order[j]);
      l[r * (n_ - 1) + j] = node.at(first);
      rr[r * (n_ - 1) + j] = node.at(order[j] ^ first);
      node[order[j]] = n_ + j;
    }
  }
}

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

// The uniform prior over rooted topologies, -log (2n - 3)!!.
class UniformTopologyPrior : public LogReward {
 public:
  explicit UniformTopologyPrior(int64_t num_taxa)
      : log_prior_(-LogNumRootedTopologies(num_taxa)) {}
  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    return torch::full(
        {terminal_states.size(0)}, log_prior_,
        torch::dtype(torch::kFloat64).device(terminal_states.device()));
  }
  std::string Describe() const override {
    return "uniform over rooted topologies";
  }

 private:
  double log_prior_;
};

class PhyloReward : public LogReward {
 public:
  enum class Kind { kJc69, kParsimony };
  PhyloReward(const PhyloEnvironment* environment, Kind kind,
              SitePatterns patterns, double scale, double branch_length,
              std::string description)
      : environment_(environment),
        kind_(kind),
        patterns_(std::move(patterns)),
        tips_(TipPartials(patterns_.masks)),
        scale_(scale),
        branch_length_(branch_length),
        description_(std::move(description)) {}

  // scale * (log-likelihood or parsimony score), in float64.
  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    at::Tensor left;
    at::Tensor right;
    environment_->TreeChildren(terminal_states, &left, &right);
    std::vector<at::Tensor> chunks;
    for (int64_t start = 0; start < left.size(0); start += kRewardChunk) {
      const int64_t size = std::min(kRewardChunk, left.size(0) - start);
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
  const PhyloEnvironment* environment_;
  Kind kind_;
  SitePatterns patterns_;
  at::Tensor tips_;
  double scale_;
  double branch_length_;
  std::string description_;
};

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
  if (jc69) {
    RETURN_IF_ERROR(params.CheckKeys(
        {"branch_length", "index", "count", "split", "seed", "compress"}));
  } else {
    RETURN_IF_ERROR(params.CheckKeys(
        {"lambda", "index", "count", "split", "seed", "compress"}));
  }
  if (!environment.has_alignment()) {
    return absl::FailedPreconditionError(
        absl::StrCat("phylo reward '", config.ToString(),
                     "' needs an environment with an 'alignment' parameter"));
  }
  ASSIGN_OR_RETURN(const ClientShare share, ReadClientShare(params));
  const int64_t index = share.index;
  const int64_t count = share.count;
  ASSIGN_OR_RETURN(const int64_t seed, ReadRewardSeed(params));
  const std::string split = params.GetString("split", "contiguous");
  const at::Tensor& masks = environment.site_masks();
  ASSIGN_OR_RETURN(std::vector<int64_t> sites,
                   ClientSites(masks.size(1), index, count, split, seed));
  ASSIGN_OR_RETURN(const int64_t compress, params.GetInt("compress", 1, 0, 1));
  at::Tensor client_masks =
      masks.index_select(1, torch::tensor(sites, torch::kInt64));
  // compress=0 evaluates every site separately, as an implementation
  // without pattern compression would (the sites-scaling experiment uses it
  // so that the cost grows with the number of sites, as in the paper).
  SitePatterns patterns =
      compress == 1
          ? CompressSites(client_masks)
          : SitePatterns{client_masks.contiguous(),
                         torch::ones({client_masks.size(1)}, torch::kFloat64)};
  RewardParts parts;
  parts.log_prior =
      std::make_unique<UniformTopologyPrior>(environment.num_taxa());
  const std::string client = absl::StrCat(
      "client ", index, " of ", count, " (", split, " split, ", sites.size(),
      " sites, ", patterns.weights.size(0), " patterns)");
  if (jc69) {
    ASSIGN_OR_RETURN(const double branch_length,
                     params.GetDouble("branch_length", 0.1, 1e-6, 100.0));
    parts.log_likelihood = std::make_unique<PhyloReward>(
        &environment, PhyloReward::Kind::kJc69, std::move(patterns), 1.0,
        branch_length,
        absl::StrCat("phylo JC69 likelihood, ", client, ", branch length ",
                     branch_length));
    return parts;
  }
  ASSIGN_OR_RETURN(const double lambda,
                   params.GetDouble("lambda", 1.0, 0.0, 1e6));
  parts.log_likelihood = std::make_unique<PhyloReward>(
      &environment, PhyloReward::Kind::kParsimony, std::move(patterns), -lambda,
      0.0,
      absl::StrCat("phylo parsimony reward, ", client, ", lambda ", lambda));
  return parts;
}

namespace {

EPGFN_REGISTER_ENVIRONMENT(
    "phylo",
    TypedEnvironmentFactory<PhyloEnvironment>(
        "phylo:alignment=path,taxa=a;b;c|num_taxa=k[,sites=first-last]. "
        "Rewards: jc69[:branch_length,index,count,split=contiguous|random,seed,"
        "temperature,compress=1|0], parsimony[:lambda,index,count,split,seed,"
        "compress]",
        &MakePhyloReward));

}  // namespace
}  // namespace epgfn
