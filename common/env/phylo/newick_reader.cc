#include "common/env/phylo/newick_reader.h"

#include <cctype>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace phylo_internal {

absl::StatusOr<std::vector<Clade>> NewickReader::Read() {
  std::vector<Clade> clades;
  ASSIGN_OR_RETURN(const Clade root, Node(&clades));
  SkipSpace();
  if (pos_ < text_.size() && text_[pos_] == ';') ++pos_;
  SkipSpace();
  if (pos_ != text_.size()) return Error("unexpected text after the tree");
  (void)root;
  return clades;
}

absl::Status NewickReader::Error(absl::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat("Newick '", text_, "' at character ", pos_ + 1, ": ", what));
}

void NewickReader::SkipSpace() {
  while (pos_ < text_.size() &&
         std::isspace(static_cast<unsigned char>(text_[pos_]))) {
    ++pos_;
  }
}

std::string NewickReader::Label() {
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

void NewickReader::SkipBranchLength() {
  SkipSpace();
  if (pos_ < text_.size() && text_[pos_] == ':') {
    ++pos_;
    Label();
  }
}

absl::StatusOr<Clade> NewickReader::Node(std::vector<Clade>* clades) {
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

}  // namespace phylo_internal
}  // namespace epgfn
