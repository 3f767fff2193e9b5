#ifndef EPGFN_COMMON_ENV_DAG_BGE_STATISTICS_H_
#define EPGFN_COMMON_ENV_DAG_BGE_STATISTICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/env/dag/data.h"

namespace epgfn {

// Everything the BGe score (bge.h) reads of a dataset: the row count, the
// sample mean and the scatter matrix S = sum_r (x_r - xbar)(x_r - xbar)^T.
// A streaming client keeps these of all its data so far instead of the rows,
// so that the next block's likelihood p(D_t | D_<t, G) can be computed
// without reading the old rows again (a few hundred bytes for d = 11).
struct BgeSufficientStatistics {
  std::vector<std::string> names;  // the columns, as in the data
  int64_t rows = 0;                // 0: no data (the empty statistics)
  std::vector<double> mean;        // [d]
  std::vector<double> scatter;     // [d * d], row-major, symmetric

  int64_t columns() const { return static_cast<int64_t>(names.size()); }

  // The statistics of `data`'s rows (two passes: the mean, then the scatter
  // about it, the same arithmetic BGe always used).
  static BgeSufficientStatistics Of(const Dataset& data);

  // Makes these the statistics of the union of both row sets, by the
  // pairwise update of Chan, Golub & LeVeque (1979):
  //   n = n_a + n_b, delta = xbar_b - xbar_a,
  //   xbar = xbar_a + delta n_b / n, S = S_a + S_b + delta delta^T n_a n_b / n.
  // Empty statistics on either side leave the other. InvalidArgument when
  // both hold rows and their column names differ.
  absl::Status Merge(const BgeSufficientStatistics& other);
};

// A small text file, one "key value..." line each, doubles printed with 17
// significant digits so that Parse(Serialize(s)) == s bit for bit:
//   epgfn-bge-statistics 1
//   names a;b;c
//   rows 45
//   mean <d numbers>
//   scatter <d * d numbers, row-major>
std::string SerializeBgeStatistics(const BgeSufficientStatistics& statistics);
// InvalidArgument naming `source` and the line for anything else: another
// header or version, a missing or repeated line, a wrong count of numbers, a
// non-finite number, rows < 1, or a scatter that is not symmetric with a
// non-negative diagonal.
absl::StatusOr<BgeSufficientStatistics> ParseBgeStatistics(
    absl::string_view text, absl::string_view source);
// The file forms of the two (written atomically; NotFound when missing).
absl::Status WriteBgeStatistics(const std::string& path,
                                const BgeSufficientStatistics& statistics);
absl::StatusOr<BgeSufficientStatistics> ReadBgeStatistics(
    const std::string& path);

}  // namespace epgfn

#endif  // EPGFN_COMMON_ENV_DAG_BGE_STATISTICS_H_
