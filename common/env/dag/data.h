#ifndef EPGFN_COMMON_ENV_DAG_DATA_H_
#define EPGFN_COMMON_ENV_DAG_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// Continuous observations of d variables: `rows` samples, stored row-major
// (values[r * columns() + c]).
struct Dataset {
  std::vector<std::string> names;  // one per column (the CSV header)
  int64_t rows = 0;
  std::vector<double> values;

  int64_t columns() const { return static_cast<int64_t>(names.size()); }
  double at(int64_t row, int64_t column) const {
    return values[row * columns() + column];
  }
  // The given rows, in the given order, as a dataset of their own.
  Dataset Subset(const std::vector<int64_t>& row_indices) const;
};

// Parses a table of numbers: a header row naming the columns, then one row
// per sample. The delimiter is detected from the header: a tab if it holds
// one (TSV), else a comma (CSV). Blanks around fields, double quotes around a
// header name, "\r\n" line ends and blank lines are accepted. `source` names
// the text in errors.
//
// With `columns` empty every column is read, in file order. Otherwise the
// result holds exactly `columns`, in that order, matched by header name
// (case-sensitive) in any column order of the file; the other columns are
// not parsed (a text column there is fine) and are listed in
// `ignored_columns` when that is not null.
//
// InvalidArgument naming `source`, the line (1-based, header = line 1), the
// data row (1-based) and the column, for: an empty text, an empty or
// duplicated header name, a requested column that the header lacks, a row
// with the wrong number of fields, a cell that is not a finite number, or
// fewer than 2 data rows (a covariance needs two).
absl::StatusOr<Dataset> ParseTable(
    absl::string_view text, absl::string_view source,
    const std::vector<std::string>& columns = {},
    std::vector<std::string>* ignored_columns = nullptr);
// ParseTable of the file at `path` (NotFound when it is missing).
absl::StatusOr<Dataset> ReadTable(
    const std::string& path, const std::vector<std::string>& columns = {},
    std::vector<std::string>* ignored_columns = nullptr);
// The historical names: every column, CSV or TSV alike.
inline absl::StatusOr<Dataset> ParseCsv(absl::string_view text,
                                        absl::string_view source) {
  return ParseTable(text, source);
}
inline absl::StatusOr<Dataset> ReadCsv(const std::string& path) {
  return ReadTable(path);
}

// Centres every column on its mean and divides it by its sample standard
// deviation (denominator rows - 1), in place: the usual preprocessing before
// a linear-Gaussian score such as BGe, whose default prior expects unit
// scale. Uses the dataset's own rows only. InvalidArgument naming the column
// (and `source`) when a column is constant, or with fewer than 2 rows.
absl::Status Standardize(Dataset* data, absl::string_view source);

// A random linear-Gaussian Bayesian network and samples from it.
struct LinearGaussianNetwork {
  int64_t nodes = 0;
  // adjacency[i * nodes + j] == 1 iff edge i -> j.
  std::vector<int64_t> adjacency;
  // weights[i * nodes + j]: coefficient of x_i in x_j (0 without an edge).
  std::vector<double> weights;
  Dataset data;
};

// Draws an Erdos-Renyi DAG (a uniformly random node order, then each of the
// d(d-1)/2 forward pairs is an edge with probability `edge_probability`),
// weights uniform in [-2, -0.5] u [0.5, 2], and `samples` rows of
// x_j = sum_i w_ij x_i + e_j with e_j ~ N(0, 1), columns named x0..x{d-1}.
// Depends only on the arguments: randomness is std::mt19937_64 (fully
// specified by the standard) with our own uniform and Box-Muller transforms,
// never the standard library's distributions, whose algorithms vary.
absl::StatusOr<LinearGaussianNetwork> SampleLinearGaussianNetwork(
    int64_t nodes, double edge_probability, int64_t samples, int64_t seed);

// The row indices that client `index` of `count` holds: "contiguous" gives
// rows [index * rows / count, (index + 1) * rows / count); "random" does the
// same on a permutation of 0..rows-1 drawn from `seed` (the same for every
// client, so the shares stay disjoint). InvalidArgument for another split,
// a bad index, or fewer rows than clients.
absl::StatusOr<std::vector<int64_t>> ClientRows(int64_t rows, int64_t index,
                                                int64_t count,
                                                const std::string& split,
                                                int64_t seed);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_DATA_H_
