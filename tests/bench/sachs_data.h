#ifndef EPGFN_TESTS_BENCH_SACHS_DATA_H_
#define EPGFN_TESTS_BENCH_SACHS_DATA_H_

// The Sachs protein-signalling data as the BN benches read them: the
// tab-separated measurements, standardised, and the curators' ground-truth
// graph, with the column and row selections the benches take of them.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/dag/data.h"

namespace epgfn {

// The Sachs file is tab-separated; ParseCsv reads commas.
absl::StatusOr<Dataset> ReadTabSeparated(const std::string& path);

// Each column shifted and scaled to mean 0 and (population) variance 1;
// InvalidArgument for a constant column.
absl::StatusOr<Dataset> Standardise(Dataset data);

// The column named `name`; InvalidArgument listing the names otherwise.
absl::StatusOr<int64_t> ColumnIndex(const Dataset& data,
                                    absl::string_view name);

// The columns of a comma-separated list of names, in its order.
absl::StatusOr<std::vector<int64_t>> ParseColumns(const Dataset& data,
                                                  const std::string& list);

// The curators' graph: lines "N. from --> to" after "Graph Edges:", as a
// row-major adjacency over the data's columns.
absl::StatusOr<std::vector<int64_t>> ReadGroundTruth(const std::string& path,
                                                     const Dataset& data);

// `columns` of `data`, in that order.
Dataset SelectColumns(const Dataset& data, const std::vector<int64_t>& columns);

// The adjacency `truth` (d x d) restricted to `columns`.
std::vector<int64_t> SelectTruth(const std::vector<int64_t>& truth, int64_t d,
                                 const std::vector<int64_t>& columns);

// The first `rows` rows of a permutation drawn from `seed`.
absl::StatusOr<Dataset> Subsample(const Dataset& data, int64_t rows,
                                  int64_t seed);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_SACHS_DATA_H_
