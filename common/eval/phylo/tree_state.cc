#include "common/eval/phylo/tree_state.h"

#include <torch/types.h>

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"

namespace epgfn {

void WriteStateRow(absl::Span<const Clade> clades, int64_t* row) {
  std::vector<int64_t> values;
  values.reserve(clades.size());
  for (Clade c : clades) values.push_back(static_cast<int64_t>(c));
  std::sort(values.begin(), values.end(), std::greater<int64_t>());
  std::copy(values.begin(), values.end(), row);
}

at::Tensor StatesOfTrees(absl::Span<const std::vector<Clade>> trees) {
  const int64_t width = trees.empty() ? 0 : trees[0].size();
  at::Tensor states =
      torch::empty({static_cast<int64_t>(trees.size()), width}, torch::kInt64);
  int64_t* out = states.data_ptr<int64_t>();
  for (size_t r = 0; r < trees.size(); ++r) {
    WriteStateRow(trees[r], out + r * width);
  }
  return states;
}

absl::StatusOr<std::vector<std::vector<Clade>>> TreesOfStates(
    const at::Tensor& states, int num_taxa) {
  if (states.dim() != 2 || states.size(1) != num_taxa - 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tree states must be [B, ", num_taxa - 1, "], got ",
                     states.dim(), " dimensions"));
  }
  at::Tensor cpu = states.to(torch::kCPU).to(torch::kInt64).contiguous();
  const int64_t width = cpu.size(1);
  const int64_t* in = cpu.data_ptr<int64_t>();
  std::vector<std::vector<Clade>> trees(cpu.size(0));
  for (int64_t r = 0; r < cpu.size(0); ++r) {
    std::vector<Clade>& clades = trees[r];
    for (int64_t k = 0; k < width; ++k) {
      if (in[r * width + k] != 0) {
        clades.push_back(static_cast<Clade>(in[r * width + k]));
      }
    }
    std::sort(clades.begin(), clades.end(), std::greater<Clade>());
    if (static_cast<int64_t>(clades.size()) != width ||
        clades[0] != AllTaxa(num_taxa)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "state row ", r, " is not a complete tree on ", num_taxa, " taxa"));
    }
  }
  return trees;
}

}  // namespace epgfn
