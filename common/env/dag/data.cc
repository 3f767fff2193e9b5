#include "common/env/dag/data.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/util/file_io.h"
#include "common/util/portable_random.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

// Refuse absurd inputs before reading them whole into memory.
constexpr int64_t kMaxCsvBytes = int64_t{1} << 30;

// Where a line of the table is, for the messages.
struct TableLine {
  absl::string_view source;
  int64_t number;
};

// What the header row says about the data rows.
struct TableLayout {
  char delimiter = ',';
  std::vector<std::string> header;
  // source_column[c]: the field of the file that column c of the data reads.
  std::vector<size_t> source_column;
};

// The header's field names, unquoted; InvalidArgument for an empty or a
// repeated name.
absl::StatusOr<std::vector<std::string>> HeaderFields(absl::string_view line,
                                                      char delimiter,
                                                      const TableLine& where) {
  std::vector<std::string> header;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view field : absl::StrSplit(line, delimiter)) {
    field = absl::StripAsciiWhitespace(field);
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
      field = field.substr(1, field.size() - 2);
    }
    if (field.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where.source, " line ", where.number, ", column ",
                       header.size() + 1, ": empty column name in the header"));
    }
    if (!seen.emplace(field).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          where.source, " line ", where.number, ", column ", header.size() + 1,
          ": column name '", field, "' appears twice in the header"));
    }
    header.emplace_back(field);
  }
  return header;
}

// Reads the header row: the delimiter (a tab anywhere in it, else ','), the
// data's column `names` (`columns` in order, or the whole header when
// `columns` is empty) and, when asked, the header's other columns.
absl::StatusOr<TableLayout> ParseHeader(
    absl::string_view line, const TableLine& where,
    const std::vector<std::string>& columns, std::vector<std::string>* names,
    std::vector<std::string>* ignored_columns) {
  TableLayout layout;
  layout.delimiter = line.find('\t') != absl::string_view::npos ? '\t' : ',';
  ASSIGN_OR_RETURN(layout.header, HeaderFields(line, layout.delimiter, where));
  const std::vector<std::string>& header = layout.header;
  if (columns.empty()) {
    *names = header;
    for (size_t c = 0; c < header.size(); ++c) {
      layout.source_column.push_back(c);
    }
    return layout;
  }
  for (const std::string& name : columns) {
    auto found = std::find(header.begin(), header.end(), name);
    if (found == header.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where.source, " line ", where.number, " (header): no column '", name,
          "', a variable of the federation; the header has ",
          absl::StrJoin(header, ", ")));
    }
    names->push_back(name);
    layout.source_column.push_back(found - header.begin());
  }
  if (ignored_columns != nullptr) {
    ignored_columns->clear();
    for (const std::string& name : header) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) {
        ignored_columns->push_back(name);
      }
    }
  }
  return layout;
}

// Appends one data row; InvalidArgument for a wrong field count or a field
// that is not a finite number.
absl::Status AppendRow(absl::string_view line, const TableLayout& layout,
                       const TableLine& where, Dataset* data) {
  const std::vector<absl::string_view> fields =
      absl::StrSplit(line, layout.delimiter);
  const int64_t row = data->rows + 1;
  if (fields.size() != layout.header.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where.source, " line ", where.number, " (data row ", row,
                     "): expected ", layout.header.size(),
                     " fields (as in the header), found ", fields.size()));
  }
  for (size_t c = 0; c < layout.source_column.size(); ++c) {
    const size_t column = layout.source_column[c];
    const absl::string_view field = absl::StripAsciiWhitespace(fields[column]);
    double value;
    if (!absl::SimpleAtod(field, &value) || !std::isfinite(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where.source, " line ", where.number, " (data row ", row,
                       "), column ", column + 1, " (", data->names[c], "): '",
                       field, "' is not a finite number"));
    }
    data->values.push_back(value);
  }
  ++data->rows;
  return absl::OkStatus();
}

}  // namespace

Dataset Dataset::Subset(const std::vector<int64_t>& row_indices) const {
  Dataset subset;
  subset.names = names;
  subset.rows = static_cast<int64_t>(row_indices.size());
  subset.values.reserve(subset.rows * columns());
  for (int64_t row : row_indices) {
    for (int64_t c = 0; c < columns(); ++c) {
      subset.values.push_back(at(row, c));
    }
  }
  return subset;
}

absl::StatusOr<Dataset> ParseTable(absl::string_view text,
                                   absl::string_view source,
                                   const std::vector<std::string>& columns,
                                   std::vector<std::string>* ignored_columns) {
  Dataset data;
  std::optional<TableLayout> layout;
  int64_t line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const TableLine where{source, line_number};
    if (!layout) {
      ASSIGN_OR_RETURN(layout, ParseHeader(line, where, columns, &data.names,
                                           ignored_columns));
      continue;
    }
    RETURN_IF_ERROR(AppendRow(line, *layout, where, &data));
  }
  if (!layout) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " is empty; expected a header row and data"));
  }
  if (data.rows < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " has ", data.rows,
                     " data row(s) after the header; at least 2 are needed"));
  }
  return data;
}

absl::StatusOr<Dataset> ReadTable(const std::string& path,
                                  const std::vector<std::string>& columns,
                                  std::vector<std::string>* ignored_columns) {
  ASSIGN_OR_RETURN(const std::string text,
                   ReadFileToString(path, kMaxCsvBytes));
  return ParseTable(text, path, columns, ignored_columns);
}

absl::Status Standardize(Dataset* data, absl::string_view source) {
  if (data->rows < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": standardising needs at least 2 rows, got ", data->rows));
  }
  const double n = static_cast<double>(data->rows);
  const int64_t d = data->columns();
  for (int64_t c = 0; c < d; ++c) {
    double mean = 0.0;
    for (int64_t r = 0; r < data->rows; ++r) mean += data->at(r, c);
    mean /= n;
    double squares = 0.0;
    for (int64_t r = 0; r < data->rows; ++r) {
      const double centred = data->at(r, c) - mean;
      squares += centred * centred;
    }
    const double sd = std::sqrt(squares / (n - 1.0));
    if (!(sd > 0.0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ", column '", data->names[c],
          "': constant over the rows, so it cannot be standardised"));
    }
    for (int64_t r = 0; r < data->rows; ++r) {
      data->values[r * d + c] = (data->at(r, c) - mean) / sd;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LinearGaussianNetwork> SampleLinearGaussianNetwork(
    int64_t nodes, double edge_probability, int64_t samples, int64_t seed) {
  if (nodes < 1 || nodes > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("nodes must be in [1, 64], got ", nodes));
  }
  if (!(edge_probability >= 0.0 && edge_probability <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "edge probability must be in [0, 1], got ", edge_probability));
  }
  if (samples < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("samples must be positive, got ", samples));
  }
  PortableRandom random(seed);
  // Fisher-Yates: order[k] is the k-th node in a topological order.
  std::vector<int64_t> order(nodes);
  for (int64_t k = 0; k < nodes; ++k) order[k] = k;
  for (int64_t k = nodes - 1; k > 0; --k) {
    std::swap(order[k], order[random.Below(k + 1)]);
  }
  LinearGaussianNetwork network;
  network.nodes = nodes;
  network.adjacency.assign(nodes * nodes, 0);
  network.weights.assign(nodes * nodes, 0.0);
  for (int64_t a = 0; a < nodes; ++a) {
    for (int64_t b = a + 1; b < nodes; ++b) {
      if (random.Uniform() >= edge_probability) continue;
      const int64_t from = order[a];
      const int64_t to = order[b];
      const double magnitude = 0.5 + 1.5 * random.Uniform();
      const double sign = random.Uniform() < 0.5 ? -1.0 : 1.0;
      network.adjacency[from * nodes + to] = 1;
      network.weights[from * nodes + to] = sign * magnitude;
    }
  }
  Dataset& data = network.data;
  for (int64_t j = 0; j < nodes; ++j)
    data.names.push_back(absl::StrCat("x", j));
  data.rows = samples;
  data.values.assign(samples * nodes, 0.0);
  for (int64_t r = 0; r < samples; ++r) {
    double* row = &data.values[r * nodes];
    // Ancestral sampling: parents come earlier in `order`.
    for (int64_t k = 0; k < nodes; ++k) {
      const int64_t j = order[k];
      double value = random.Normal();
      for (int64_t i = 0; i < nodes; ++i) {
        value += network.weights[i * nodes + j] * row[i];
      }
      row[j] = value;
    }
  }
  return network;
}

absl::StatusOr<std::vector<int64_t>> ClientRows(int64_t rows, int64_t index,
                                                int64_t count,
                                                const std::string& split,
                                                int64_t seed) {
  if (count < 1 || index < 0 || index >= count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "client index ", index, " out of range for count ", count));
  }
  if (rows < count) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot split ", rows, " data rows among ", count,
                     " clients: each needs at least one"));
  }
  std::vector<int64_t> order(rows);
  for (int64_t r = 0; r < rows; ++r) order[r] = r;
  if (split == "random") {
    PortableRandom random(seed);
    for (int64_t k = rows - 1; k > 0; --k) {
      std::swap(order[k], order[random.Below(k + 1)]);
    }
  } else if (split != "contiguous") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown split '", split, "'; expected 'contiguous' or 'random'"));
  }
  const int64_t begin = index * rows / count;
  const int64_t end = (index + 1) * rows / count;
  return std::vector<int64_t>(order.begin() + begin, order.begin() + end);
}

}  // namespace epgfn
