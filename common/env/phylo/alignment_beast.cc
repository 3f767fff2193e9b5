// The <sequence> elements of a BEAST XML file: BEAST 1 style
//   <sequence><taxon idref="Homo_sapiens"/> ACGU... </sequence>
// and BEAST 2 style
//   <sequence taxon="Homo_sapiens" value="ACGU..."/>
// (the benchmark alignments DS1-DS11 ship in the first). Only what these
// elements need is read: comments, attributes in either quote, and the
// sequence text outside nested tags; everything else is skipped.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/env/phylo/alignment.h"
#include "common/env/phylo/alignment_internal.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

using alignment_internal::AppendSymbols;
using alignment_internal::LineError;
using alignment_internal::Row;
using alignment_internal::RowsToAlignment;

// Walks the text keeping the line number.
class XmlCursor {
 public:
  explicit XmlCursor(absl::string_view text) : text_(text) {}
  int line() const { return line_; }
  bool done() const { return pos_ >= text_.size(); }
  size_t pos() const { return pos_; }
  absl::string_view rest() const { return text_.substr(pos_); }
  void Advance(size_t count) {
    for (size_t k = 0; k < count && pos_ < text_.size(); ++k) {
      if (text_[pos_++] == '\n') ++line_;
    }
  }
  // Moves to the next '<' and returns the text skipped.
  absl::string_view TextUntilTag() {
    const size_t start = pos_;
    size_t end = text_.find('<', pos_);
    if (end == absl::string_view::npos) end = text_.size();
    Advance(end - start);
    return text_.substr(start, end - start);
  }
  // At '<': reads one tag (or comment) up to its '>'.
  absl::StatusOr<absl::string_view> Tag() {
    const int start_line = line_;
    const size_t start = pos_;
    const bool comment = absl::StartsWith(rest(), "<!--");
    const size_t end =
        comment ? text_.find("-->", pos_) : text_.find('>', pos_);
    if (end == absl::string_view::npos) {
      return LineError(start_line, comment ? "comment '<!--' is never closed"
                                           : "tag '<' is never closed by '>'");
    }
    Advance(end + (comment ? 3 : 1) - start);
    return text_.substr(start, pos_ - start);
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

// The value of attribute `name` in a tag, or "" when absent.
std::string Attribute(absl::string_view tag, absl::string_view name) {
  size_t at = 0;
  while ((at = tag.find(name, at)) != absl::string_view::npos) {
    const bool word_start =
        at > 0 && (tag[at - 1] == ' ' || tag[at - 1] == '\t' ||
                   tag[at - 1] == '\n' || tag[at - 1] == '\r');
    size_t k = at + name.size();
    while (k < tag.size() && (tag[k] == ' ' || tag[k] == '\t')) ++k;
    if (word_start && k < tag.size() && tag[k] == '=') {
      ++k;
      while (k < tag.size() && (tag[k] == ' ' || tag[k] == '\t')) ++k;
      if (k < tag.size() && (tag[k] == '"' || tag[k] == '\'')) {
        const size_t close = tag.find(tag[k], k + 1);
        if (close != absl::string_view::npos) {
          return std::string(tag.substr(k + 1, close - k - 1));
        }
      }
    }
    at += name.size();
  }
  return "";
}

// "<sequence" followed by a space, '>' or '/'.
bool IsElement(absl::string_view tag, absl::string_view name) {
  if (!absl::StartsWith(tag, absl::StrCat("<", name))) return false;
  const char next = tag.size() > name.size() + 1 ? tag[name.size() + 1] : '>';
  return next == ' ' || next == '>' || next == '/' || next == '\t' ||
         next == '\n' || next == '\r';
}

}  // namespace

absl::StatusOr<Alignment> ParseBeastXmlAlignment(absl::string_view text) {
  XmlCursor cursor(text);
  std::vector<Row> rows;
  while (!cursor.done()) {
    cursor.TextUntilTag();
    if (cursor.done()) break;
    const int line = cursor.line();
    ASSIGN_OR_RETURN(absl::string_view tag, cursor.Tag());
    if (!IsElement(tag, "sequence")) continue;
    Row row{Attribute(tag, "taxon"), "", line};
    RETURN_IF_ERROR(AppendSymbols(Attribute(tag, "value"), line, &row));
    if (!absl::EndsWith(tag, "/>")) {
      // Content up to </sequence>: a <taxon idref=.../> and the characters.
      for (;;) {
        const int text_line = cursor.line();
        absl::string_view content = cursor.TextUntilTag();
        RETURN_IF_ERROR(AppendSymbols(content, text_line, &row));
        if (cursor.done()) {
          return LineError(line, "<sequence> is never closed by </sequence>");
        }
        ASSIGN_OR_RETURN(absl::string_view inner, cursor.Tag());
        if (absl::StartsWith(inner, "</sequence")) break;
        if (IsElement(inner, "taxon")) {
          std::string idref = Attribute(inner, "idref");
          if (idref.empty()) idref = Attribute(inner, "id");
          if (!idref.empty()) row.name = idref;
        }
      }
    }
    if (row.name.empty()) {
      return LineError(line,
                       "<sequence> names no taxon (neither taxon=\"...\" nor "
                       "<taxon idref=\"...\"/>)");
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) {
    return absl::InvalidArgumentError("no <sequence> element in the XML file");
  }
  return RowsToAlignment(rows);
}

}  // namespace epgfn
