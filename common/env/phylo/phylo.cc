#include "common/env/phylo/phylo.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/env/phylo/phylo_clades.h"
#include "common/util/status_macros.h"

namespace epgfn {

using phylo_internal::Bit;
using phylo_internal::Clade;
using phylo_internal::CpuContiguous;
using phylo_internal::Forest;
using phylo_internal::LowestLeaf;
using phylo_internal::PopCount;

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

}  // namespace epgfn
