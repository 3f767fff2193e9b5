#ifndef EPGFN_COMMON_ENV_PHYLO_PHYLO_CLADES_H_
#define EPGFN_COMMON_ENV_PHYLO_PHYLO_CLADES_H_

#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace epgfn {
namespace phylo_internal {

// Clades are leaf bitmasks, bit k = taxon k, handled as uint64_t so that all
// 64 bits are leaves; a state tensor stores the same bits as int64 (bit 63
// reads as the sign there, which is why rows are ordered as unsigned).
using Clade = uint64_t;

inline int PopCount(Clade x) { return __builtin_popcountll(x); }
inline int64_t LowestLeaf(Clade clade) { return __builtin_ctzll(clade); }
inline Clade Bit(int64_t leaf) { return Clade{1} << leaf; }
inline Clade AllLeaves(int64_t n) { return n == 64 ? ~Clade{0} : Bit(n) - 1; }

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

inline at::Tensor CpuContiguous(const at::Tensor& t) {
  return t.to(torch::kCPU).contiguous();
}

}  // namespace phylo_internal
}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_PHYLO_PHYLO_CLADES_H_
