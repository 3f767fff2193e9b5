#include "common/env/dag/bge_statistics.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

constexpr char kHeader[] = "epgfn-bge-statistics";
constexpr int64_t kVersion = 1;
constexpr int64_t kMaxFileBytes = 1 << 20;

std::string Numbers(const std::vector<double>& values) {
  return absl::StrJoin(values, " ", [](std::string* out, double value) {
    absl::StrAppend(out, absl::StrFormat("%.17g", value));
  });
}

// The lines of a statistics file by their first word, for the parser's
// lookups and messages.
class KeyedLines {
 public:
  // InvalidArgument for a repeated key.
  static absl::StatusOr<KeyedLines> Parse(absl::string_view text,
                                          absl::string_view source) {
    KeyedLines lines(source);
    int64_t line_number = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      ++line_number;
      line = absl::StripAsciiWhitespace(line);
      if (line.empty()) continue;
      std::pair<std::string, std::string> key_rest =
          absl::StrSplit(line, absl::MaxSplits(' ', 1));
      if (!lines.lines_
               .emplace(key_rest.first,
                        std::make_pair(line_number, key_rest.second))
               .second) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, " line ", line_number, ": '", key_rest.first,
                         "' repeated"));
      }
    }
    return lines;
  }

  // The message for a fault in the line of `key` (the file's when absent).
  absl::Status Error(const std::string& key, const std::string& what) const {
    const auto it = lines_.find(key);
    return absl::InvalidArgumentError(absl::StrCat(
        source_,
        it == lines_.end() ? "" : absl::StrCat(" line ", it->second.first),
        ": ", what, " (not BGe statistics written by epgfn?)"));
  }

  // Exactly the five lines, the header's with this version.
  absl::Status CheckKeysAndVersion() const {
    for (const char* key : {kHeader, "names", "rows", "mean", "scatter"}) {
      if (lines_.count(key) == 0) {
        return Error(key, absl::StrCat("no '", key, "' line"));
      }
    }
    if (lines_.size() != 5) {
      return Error(kHeader,
                   "unexpected lines besides header, names, rows, "
                   "mean and scatter");
    }
    int64_t version = 0;
    if (!absl::SimpleAtoi(Rest(kHeader), &version) || version != kVersion) {
      return Error(kHeader, absl::StrCat("version '", Rest(kHeader),
                                         "', expected ", kVersion));
    }
    return absl::OkStatus();
  }

  // The line of `key` after the key; empty when absent.
  const std::string& Rest(const std::string& key) const {
    static const std::string* const kEmpty = new std::string;
    const auto it = lines_.find(key);
    return it == lines_.end() ? *kEmpty : it->second.second;
  }

  // Appends the `count` finite numbers of the line of `key` to `values`.
  absl::Status Numbers(const std::string& key, int64_t count, int64_t columns,
                       std::vector<double>* values) const {
    for (absl::string_view field :
         absl::StrSplit(Rest(key), ' ', absl::SkipEmpty())) {
      double value = 0.0;
      if (!absl::SimpleAtod(field, &value) || !std::isfinite(value)) {
        return Error(key, absl::StrCat("'", field, "' is not a finite number"));
      }
      values->push_back(value);
    }
    if (static_cast<int64_t>(values->size()) != count) {
      return Error(key, absl::StrCat(values->size(), " numbers for ", columns,
                                     " columns, expected ", count));
    }
    return absl::OkStatus();
  }

 private:
  explicit KeyedLines(absl::string_view source) : source_(source) {}

  absl::string_view source_;
  // key -> (line number, the rest of the line).
  std::map<std::string, std::pair<int64_t, std::string>> lines_;
};

// A scatter matrix [d, d] has a non-negative diagonal and is symmetric.
absl::Status CheckScatter(const std::vector<double>& s, int64_t d,
                          const KeyedLines& lines) {
  for (int64_t a = 0; a < d; ++a) {
    if (s[a * d + a] < 0.0) {
      return lines.Error("scatter",
                         absl::StrCat("negative diagonal entry ", a));
    }
    for (int64_t b = 0; b < a; ++b) {
      const double scale = std::sqrt(s[a * d + a] * s[b * d + b]);
      if (std::abs(s[a * d + b] - s[b * d + a]) > 1e-12 * scale) {
        return lines.Error("scatter",
                           absl::StrCat("not symmetric at (", a, ", ", b, ")"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

BgeSufficientStatistics BgeSufficientStatistics::Of(const Dataset& data) {
  const int64_t d = data.columns();
  BgeSufficientStatistics statistics;
  statistics.names = data.names;
  statistics.rows = data.rows;
  statistics.mean.assign(d, 0.0);
  statistics.scatter.assign(d * d, 0.0);
  if (data.rows == 0) return statistics;
  const double n = static_cast<double>(data.rows);
  std::vector<double>& mean = statistics.mean;
  for (int64_t r = 0; r < data.rows; ++r) {
    for (int64_t c = 0; c < d; ++c) mean[c] += data.at(r, c);
  }
  for (double& m : mean) m /= n;
  for (int64_t r = 0; r < data.rows; ++r) {
    for (int64_t a = 0; a < d; ++a) {
      const double da = data.at(r, a) - mean[a];
      for (int64_t b = 0; b < d; ++b) {
        statistics.scatter[a * d + b] += da * (data.at(r, b) - mean[b]);
      }
    }
  }
  return statistics;
}

absl::Status BgeSufficientStatistics::Merge(
    const BgeSufficientStatistics& other) {
  if (other.rows == 0) return absl::OkStatus();
  if (rows == 0) {
    *this = other;
    return absl::OkStatus();
  }
  if (names != other.names) {
    return absl::InvalidArgumentError(
        absl::StrCat("BGe statistics of columns '", absl::StrJoin(names, ";"),
                     "' cannot be merged with those of columns '",
                     absl::StrJoin(other.names, ";"), "'"));
  }
  const int64_t d = columns();
  const double na = static_cast<double>(rows);
  const double nb = static_cast<double>(other.rows);
  const double n = na + nb;
  std::vector<double> delta(d);
  for (int64_t c = 0; c < d; ++c) delta[c] = other.mean[c] - mean[c];
  const double weight = na * nb / n;
  for (int64_t a = 0; a < d; ++a) {
    for (int64_t b = 0; b < d; ++b) {
      scatter[a * d + b] +=
          other.scatter[a * d + b] + delta[a] * delta[b] * weight;
    }
  }
  for (int64_t c = 0; c < d; ++c) mean[c] += delta[c] * (nb / n);
  rows += other.rows;
  return absl::OkStatus();
}

std::string SerializeBgeStatistics(const BgeSufficientStatistics& statistics) {
  return absl::StrCat(kHeader, " ", kVersion, "\n", "names ",
                      absl::StrJoin(statistics.names, ";"), "\n", "rows ",
                      statistics.rows, "\n", "mean ", Numbers(statistics.mean),
                      "\n", "scatter ", Numbers(statistics.scatter), "\n");
}

absl::StatusOr<BgeSufficientStatistics> ParseBgeStatistics(
    absl::string_view text, absl::string_view source) {
  ASSIGN_OR_RETURN(const KeyedLines lines, KeyedLines::Parse(text, source));
  RETURN_IF_ERROR(lines.CheckKeysAndVersion());
  BgeSufficientStatistics statistics;
  statistics.names = absl::StrSplit(lines.Rest("names"), ';');
  const int64_t d = statistics.columns();
  for (const std::string& name : statistics.names) {
    if (name.empty()) return lines.Error("names", "an empty column name");
  }
  if (!absl::SimpleAtoi(lines.Rest("rows"), &statistics.rows) ||
      statistics.rows < 1) {
    return lines.Error("rows", absl::StrCat("rows '", lines.Rest("rows"),
                                            "' is not a positive count"));
  }
  RETURN_IF_ERROR(lines.Numbers("mean", d, d, &statistics.mean));
  RETURN_IF_ERROR(lines.Numbers("scatter", d * d, d, &statistics.scatter));
  RETURN_IF_ERROR(CheckScatter(statistics.scatter, d, lines));
  return statistics;
}

absl::Status WriteBgeStatistics(const std::string& path,
                                const BgeSufficientStatistics& statistics) {
  return WriteFileAtomically(path, SerializeBgeStatistics(statistics));
}

absl::StatusOr<BgeSufficientStatistics> ReadBgeStatistics(
    const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, kMaxFileBytes));
  return ParseBgeStatistics(text, path);
}

}  // namespace epgfn
