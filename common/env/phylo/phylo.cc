#include "common/env/phylo/phylo.h"

#include <torch/types.h>

#include <algorithm>
#include <cctype>
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
#include "common/env/phylo/client_alignment.h"
#include "common/env/phylo/likelihood.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Trees scored at once by a reward: bounds the per-chunk work buffers
// (Fitch's [chunk, 2n-1, P] int64 sets, about 128 MiB at most).
constexpr int64_t kMaxRewardChunk = 256;
constexpr int64_t kRewardChunkElements = int64_t{1} << 24;

// Clades are leaf bitmasks, bit k = taxon k, handled as uint64_t so that all
// 64 bits are leaves; a state tensor stores the same bits as int64 (bit 63
// reads as the sign there, which is why rows are ordered as unsigned).
using Clade = uint64_t;

int PopCount(Clade x) { return __builtin_popcountll(x); }
int64_t LowestLeaf(Clade clade) { return __builtin_ctzll(clade); }
Clade Bit(int64_t leaf) { return Clade{1} << leaf; }
Clade AllLeaves(int64_t n) { return n == 64 ? ~Clade{0} : Bit(n) - 1; }

// One state row viewed as its clades (non-zero entries).
class Forest {
 public:
  Forest(const int64_t* row, int64_t width) {
    for (int64_t k = 0; k < width; ++k) {
      if (row[k] != 0) clades_.push_back(static_cast<Clade>(row[k]));
    }
  }
  const std::vector<Clade>& clades() const { return clades_; }
  // The root clade holding `leaf`: clades holding a leaf are nested, so it
  // is the largest one (the leaf alone when none holds it).
  Clade RootOf(int64_t leaf) const {
    const Clade bit = Bit(leaf);
    Clade root = bit;
    for (Clade c : clades_) {
      if ((c & bit) != 0 && PopCount(c) > PopCount(root)) root = c;
    }
    return root;
  }
  bool IsAnchor(int64_t leaf) const { return LowestLeaf(RootOf(leaf)) == leaf; }
  // The child of internal clade `parent` that holds its smallest leaf: the
  // largest node strictly inside it holding that leaf.
  Clade FirstChild(Clade parent) const {
    const Clade bit = parent & (~parent + 1);
    Clade child = bit;
    for (Clade c : clades_) {
      if (c != parent && (c & ~parent) == 0 && (c & bit) != 0 &&
          PopCount(c) > PopCount(child)) {
        child = c;
      }
    }
    return child;
  }
  // Writes the canonical row: the clades sorted decreasingly (as unsigned)
  // and padded with 0.
  void WriteRow(int64_t* row, int64_t width) const {
    WriteCladeRow(clades_, row, width);
  }
  static void WriteCladeRow(std::vector<Clade> clades, int64_t* row,
                            int64_t width) {
    std::sort(clades.begin(), clades.end(), std::greater<Clade>());
    for (int64_t k = 0; k < width; ++k) {
      row[k] = k < static_cast<int64_t>(clades.size())
                   ? static_cast<int64_t>(clades[k])
                   : 0;
    }
  }
  void Add(Clade clade) { clades_.push_back(clade); }
  void Remove(Clade clade) {
    clades_.erase(std::find(clades_.begin(), clades_.end(), clade));
  }

 private:
  std::vector<Clade> clades_;
};

at::Tensor CpuContiguous(const at::Tensor& t) {
  return t.to(torch::kCPU).contiguous();
}

// Minimal Newick reader for TerminalStateFromNewick: rooted binary trees,
// names bare or 'quoted', optional internal labels and :branch lengths
// (both ignored).
class NewickReader {
 public:
  NewickReader(absl::string_view text,
               const std::map<std::string, int64_t>& leaf_of)
      : text_(text), leaf_of_(leaf_of) {}

  absl::StatusOr<std::vector<Clade>> Read() {
    std::vector<Clade> clades;
    ASSIGN_OR_RETURN(const Clade root, Node(&clades));
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ';') ++pos_;
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the tree");
    (void)root;
    return clades;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "Newick '", text_, "' at character ", pos_ + 1, ": ", what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  std::string Label() {
    SkipSpace();
    std::string label;
    if (pos_ < text_.size() && text_[pos_] == '\'') {
      for (++pos_; pos_ < text_.size(); ++pos_) {
        if (text_[pos_] == '\'') {
          if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\'') {
            label.push_back('\'');
            ++pos_;
            continue;
          }
          ++pos_;
          break;
        }
        label.push_back(text_[pos_]);
      }
      return label;
    }
    while (pos_ < text_.size() &&
           std::string_view("(),:;").find(text_[pos_]) ==
               std::string_view::npos &&
           !std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      label.push_back(text_[pos_++]);
    }
    return label;
  }
  void SkipBranchLength() {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
      Label();
    }
  }
  absl::StatusOr<Clade> Node(std::vector<Clade>* clades) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      std::vector<Clade> children;
      for (;;) {
        ASSIGN_OR_RETURN(const Clade child, Node(clades));
        children.push_back(child);
        SkipSpace();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ')') {
          ++pos_;
          break;
        }
        return Error("expected ',' or ')'");
      }
      if (children.size() != 2) {
        return Error(absl::StrCat("a node with ", children.size(),
                                  " children; only rooted binary trees"));
      }
      Label();  // internal node label (e.g. a support value)
      SkipBranchLength();
      const Clade clade = children[0] | children[1];
      clades->push_back(clade);
      return clade;
    }
    const std::string name = Label();
    if (name.empty()) return Error("expected a taxon name or '('");
    auto it = leaf_of_.find(name);
    if (it == leaf_of_.end()) {
      return Error(absl::StrCat("'", name, "' is not a taxon"));
    }
    SkipBranchLength();
    return Bit(it->second);
  }

  absl::string_view text_;
  const std::map<std::string, int64_t>& leaf_of_;
  size_t pos_ = 0;
};

}  // namespace

double LogNumRootedTopologies(int64_t n) {
  double log_count = 0.0;
  for (int64_t j = 1; j <= n - 1; ++j) log_count += std::log(2.0 * j - 1.0);
  return log_count;
}

PhyloEnvironment::PhyloEnvironment(EnvironmentConfig config,
                                   std::vector<std::string> taxa)
    : config_(std::move(config)),
      n_(static_cast<int64_t>(taxa.size())),
      taxa_(std::move(taxa)) {
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
  for (const char* data_key : {"alignment", "sites"}) {
    if (params.Has(data_key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "phylo environment parameter '", data_key,
          "' is no longer accepted: the federation spec names the taxa only "
          "(phylo:taxa=a;b;c) and the server never opens a data file; put "
          "alignment=PATH in each client's reward instead (e.g. "
          "--reward=jc69:alignment=PATH)"));
    }
  }
  RETURN_IF_ERROR(params.CheckKeys({"taxa", "num_taxa"}));
  if (params.Has("taxa") && params.Has("num_taxa")) {
    return absl::InvalidArgumentError(
        "give parameter 'taxa' or 'num_taxa', not both");
  }
  std::vector<std::string> taxa;
  if (params.Has("taxa")) {
    taxa = absl::StrSplit(params.GetString("taxa", ""), ';');
  } else {
    ASSIGN_OR_RETURN(const int64_t count,
                     params.GetInt("num_taxa", 4, 2, kMaxTaxa));
    for (int64_t k = 1; k <= count; ++k) taxa.push_back(absl::StrCat("t", k));
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
  canonical.params.Set("taxa", absl::StrJoin(taxa, ";"));
  return std::unique_ptr<PhyloEnvironment>(
      new PhyloEnvironment(std::move(canonical), std::move(taxa)));
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
  std::vector<Clade> root_of(n_);
  for (int64_t r = 0; r < batch; ++r) {
    Forest forest(in + r * (n_ - 1), n_ - 1);
    float* row = out + r * encoding_dim();
    // Clades by increasing size: when clade c is reached, root_of[leaf] is
    // the largest clade built so far holding the leaf, so c's two children
    // are root_of[its smallest leaf] and the rest, and the pairs across them
    // are exactly those whose smallest common clade is c. O(n^2) per row.
    std::vector<Clade> order = forest.clades();
    std::sort(order.begin(), order.end(),
              [](Clade x, Clade y) { return PopCount(x) < PopCount(y); });
    for (int64_t leaf = 0; leaf < n_; ++leaf) root_of[leaf] = Bit(leaf);
    for (Clade c : order) {
      const Clade first = root_of[LowestLeaf(c)];
      const Clade second = c ^ first;
      const float size = PopCount(c) * scale;
      for (Clade a = first; a != 0; a &= a - 1) {
        for (Clade b = second; b != 0; b &= b - 1) {
          const int64_t i = LowestLeaf(a);
          const int64_t j = LowestLeaf(b);
          row[i < j ? PairAction(i, j) : PairAction(j, i)] = size;
        }
      }
      for (Clade x = c; x != 0; x &= x - 1) root_of[LowestLeaf(x)] = c;
    }
    for (int64_t leaf = 0; leaf < n_; ++leaf) {
      row[pairs + leaf] = PopCount(root_of[leaf]) * scale;
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
      const Clade root = forest.RootOf(leaf);
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
    const Clade root = forest.RootOf(a[r]);
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
    const Clade root = forest.RootOf(a[r]);
    const Clade second = root ^ forest.FirstChild(root);
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
  std::vector<std::vector<Clade>> trees = {{}};
  for (int64_t k = 1; k < n_; ++k) {
    const Clade bit = Bit(k);
    std::vector<std::vector<Clade>> grown;
    for (const std::vector<Clade>& tree : trees) {
      std::vector<Clade> nodes = tree;
      for (int64_t leaf = 0; leaf < k; ++leaf) nodes.push_back(Bit(leaf));
      for (Clade node : nodes) {
        std::vector<Clade> next;
        for (Clade c : tree) {
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
    Forest::WriteCladeRow(std::move(trees[r]), out + r * (n_ - 1), n_ - 1);
  }
  return states;
}

std::string PhyloEnvironment::Describe(const at::Tensor& state) const {
  at::Tensor cpu = CpuContiguous(state.to(torch::kInt64)).flatten();
  Forest forest(cpu.data_ptr<int64_t>(), cpu.numel());
  std::function<std::string(Clade)> newick = [&](Clade clade) {
    if (PopCount(clade) == 1) return taxa_[LowestLeaf(clade)];
    const Clade first = forest.FirstChild(clade);
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
    std::vector<Clade> order = forest.clades();
    std::stable_sort(order.begin(), order.end(), [](Clade x, Clade y) {
      return PopCount(x) < PopCount(y);
    });
    std::unordered_map<Clade, int64_t> node;
    for (int64_t leaf = 0; leaf < n_; ++leaf) node[Bit(leaf)] = leaf;
    for (int64_t j = 0; j < n_ - 1; ++j) {
      const Clade first = forest.FirstChild(order[j]);
      l[r * (n_ - 1) + j] = node.at(first);
      rr[r * (n_ - 1) + j] = node.at(order[j] ^ first);
      node[order[j]] = n_ + j;
    }
  }
}

std::vector<uint64_t> PhyloEnvironment::Clades(const at::Tensor& state) const {
  at::Tensor cpu = CpuContiguous(state.to(torch::kInt64)).flatten();
  Forest forest(cpu.data_ptr<int64_t>(), cpu.numel());
  return forest.clades();
}

absl::StatusOr<at::Tensor> PhyloEnvironment::StateFromClades(
    const std::vector<uint64_t>& clades) const {
  if (static_cast<int64_t>(clades.size()) > n_ - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(clades.size(), " clades, more than the ", n_ - 1,
                     " internal nodes of a tree on ", n_, " taxa"));
  }
  const Clade all = AllLeaves(n_);
  std::set<Clade> seen;
  for (Clade c : clades) {
    if ((c & ~all) != 0 || PopCount(c) < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "clade ", c, " is not a set of at least 2 of the ", n_, " taxa"));
    }
    if (!seen.insert(c).second) {
      return absl::InvalidArgumentError(absl::StrCat("clade ", c, " twice"));
    }
  }
  for (Clade c : clades) {
    Clade covered = 0;
    int parts = 0;
    for (Clade d : clades) {
      if (d == c) continue;
      const Clade both = c & d;
      if (both != 0 && both != c && both != d) {
        return absl::InvalidArgumentError(
            absl::StrCat("clades ", c, " and ", d, " overlap without nesting"));
      }
      // d is a child of c when it lies inside c and no other clade lies
      // between them.
      if (both == d) {
        bool maximal = true;
        for (Clade e : clades) {
          if (e != c && e != d && (e & d) == d && (e & c) == e) maximal = false;
        }
        if (maximal) {
          covered |= d;
          ++parts;
        }
      }
    }
    parts += PopCount(c & ~covered);
    if (parts != 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "clade ", c, " splits into ", parts,
          " parts; every internal node of a rooted binary tree has 2"));
    }
  }
  at::Tensor state = torch::zeros({n_ - 1}, torch::kInt64);
  Forest::WriteCladeRow(clades, state.data_ptr<int64_t>(), n_ - 1);
  return state;
}

absl::StatusOr<at::Tensor> PhyloEnvironment::TerminalStateFromNewick(
    absl::string_view newick) const {
  std::map<std::string, int64_t> leaf_of;
  for (int64_t k = 0; k < n_; ++k) leaf_of[taxa_[k]] = k;
  ASSIGN_OR_RETURN(std::vector<Clade> clades,
                   NewickReader(newick, leaf_of).Read());
  if (static_cast<int64_t>(clades.size()) != n_ - 1 ||
      std::find(clades.begin(), clades.end(), AllLeaves(n_)) == clades.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Newick '", newick, "' is not a tree on all ", n_,
                     " taxa (each exactly once)"));
  }
  return StateFromClades(clades);
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

// The data term of one client: its own alignment's JC69 log-likelihood, or
// -lambda x its Fitch parsimony score.
class PhyloLikelihood : public LogReward {
 public:
  enum class Kind { kJc69, kParsimony };
  PhyloLikelihood(const PhyloEnvironment* environment, Kind kind,
                  SitePatterns patterns, double scale, double branch_length,
                  std::string description)
      : environment_(environment),
        kind_(kind),
        patterns_(std::move(patterns)),
        tips_(TipPartials(patterns_.masks)),
        scale_(scale),
        branch_length_(branch_length),
        description_(std::move(description)) {}

  // Log-likelihoods of real alignments (-8,000 to -37,000 for DS1-DS8) lose
  // their last digits in float32 (spacing 0.004 at 30,000), so exact
  // references use these double values directly.
  at::Tensor LogRewardFloat64(
      const at::Tensor& terminal_states) const override {
    at::Tensor left;
    at::Tensor right;
    environment_->TreeChildren(terminal_states, &left, &right);
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
  const PhyloEnvironment* environment_;
  Kind kind_;
  SitePatterns patterns_;
  at::Tensor tips_;
  double scale_;
  double branch_length_;
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
      params.CheckKeys({jc69 ? "branch_length" : "lambda", "alignment", "index",
                        "count", "split", "seed", "compress"}));
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
    parts.log_likelihood = std::make_unique<PhyloLikelihood>(
        &environment, PhyloLikelihood::Kind::kJc69, std::move(patterns), 1.0,
        branch_length,
        absl::StrCat("phylo JC69 likelihood of ", client, ", branch length ",
                     branch_length));
  } else {
    ASSIGN_OR_RETURN(const double lambda,
                     params.GetDouble("lambda", 1.0, 0.0, 1e6));
    parts.log_likelihood = std::make_unique<PhyloLikelihood>(
        &environment, PhyloLikelihood::Kind::kParsimony, std::move(patterns),
        -lambda, 0.0,
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
        "compress=1|0,index,count,split=contiguous|random,seed], "
        "parsimony:alignment=PATH[,lambda,compress,index,count,split,seed]",
        &MakePhyloReward));

}  // namespace
}  // namespace epgfn
