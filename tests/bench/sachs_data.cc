#include "tests/bench/sachs_data.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<Dataset> ReadTabSeparated(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, int64_t{1} << 30));
  return ParseCsv(absl::StrReplaceAll(text, {{"\t", ","}}), path);
}

// Each column shifted and scaled to mean 0 and (population) variance 1.
absl::StatusOr<Dataset> Standardise(Dataset data) {
  const int64_t d = data.columns();
  for (int64_t c = 0; c < d; ++c) {
    double mean = 0.0;
    for (int64_t r = 0; r < data.rows; ++r) mean += data.at(r, c);
    mean /= static_cast<double>(data.rows);
    double variance = 0.0;
    for (int64_t r = 0; r < data.rows; ++r) {
      variance += (data.at(r, c) - mean) * (data.at(r, c) - mean);
    }
    const double sd = std::sqrt(variance / static_cast<double>(data.rows));
    if (!(sd > 0.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", data.names[c], " is constant"));
    }
    for (int64_t r = 0; r < data.rows; ++r) {
      data.values[r * d + c] = (data.at(r, c) - mean) / sd;
    }
  }
  return data;
}

absl::StatusOr<int64_t> ColumnIndex(const Dataset& data,
                                    absl::string_view name) {
  for (int64_t c = 0; c < data.columns(); ++c) {
    if (data.names[c] == name) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no variable '", name, "'; the data have ",
                   absl::StrJoin(data.names, ", ")));
}

absl::StatusOr<std::vector<int64_t>> ParseColumns(const Dataset& data,
                                                  const std::string& list) {
  std::vector<int64_t> columns;
  for (absl::string_view name : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    ASSIGN_OR_RETURN(int64_t column, ColumnIndex(data, name));
    columns.push_back(column);
  }
  return columns;
}

absl::StatusOr<std::vector<int64_t>> ReadGroundTruth(const std::string& path,
                                                     const Dataset& data) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 1 << 20));
  const int64_t d = data.columns();
  std::vector<int64_t> truth(d * d, 0);
  int64_t line_number = 0;
  int64_t edges = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const size_t arrow = line.find("-->");
    if (arrow == absl::string_view::npos) continue;
    absl::string_view from = line.substr(0, arrow);
    const size_t dot = from.find('.');
    if (dot != absl::string_view::npos) from.remove_prefix(dot + 1);
    from = absl::StripAsciiWhitespace(from);
    const absl::string_view to =
        absl::StripAsciiWhitespace(line.substr(arrow + 3));
    absl::StatusOr<int64_t> i = ColumnIndex(data, from);
    absl::StatusOr<int64_t> j = ColumnIndex(data, to);
    if (!i.ok() || !j.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", line_number, ": ",
                       (i.ok() ? j.status() : i.status()).message()));
    }
    truth[*i * d + *j] = 1;
    ++edges;
  }
  if (edges == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no 'a --> b' edge lines"));
  }
  return truth;
}

Dataset SelectColumns(const Dataset& data,
                      const std::vector<int64_t>& columns) {
  Dataset selected;
  selected.rows = data.rows;
  for (int64_t c : columns) selected.names.push_back(data.names[c]);
  selected.values.reserve(data.rows * columns.size());
  for (int64_t r = 0; r < data.rows; ++r) {
    for (int64_t c : columns) selected.values.push_back(data.at(r, c));
  }
  return selected;
}

std::vector<int64_t> SelectTruth(const std::vector<int64_t>& truth, int64_t d,
                                 const std::vector<int64_t>& columns) {
  const int64_t k = static_cast<int64_t>(columns.size());
  std::vector<int64_t> selected(k * k);
  for (int64_t a = 0; a < k; ++a) {
    for (int64_t b = 0; b < k; ++b) {
      selected[a * k + b] = truth[columns[a] * d + columns[b]];
    }
  }
  return selected;
}

absl::StatusOr<Dataset> Subsample(const Dataset& data, int64_t rows,
                                  int64_t seed) {
  ASSIGN_OR_RETURN(std::vector<int64_t> order,
                   ClientRows(data.rows, 0, 1, "random", seed));
  if (rows > data.rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("asked for ", rows, " rows of ", data.rows));
  }
  order.resize(rows);
  return data.Subset(order);
}

}  // namespace epgfn
