#ifndef EPGFN_TESTS_BENCH_BN_GAP_SWEEP_H_
#define EPGFN_TESTS_BENCH_BN_GAP_SWEEP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/dag/data.h"

namespace epgfn {

struct GapSweepOptions {
  std::vector<int64_t> rows_per_client;  // one table row each
  int replicates = 5;                    // subsamples per row (>= 1)
  int clients = 4;
  int64_t seed = 0;
};

// "15,50,200": the rows-per-client values of the sweep, each >= 2.
absl::StatusOr<std::vector<int64_t>> ParseRowsPerClient(
    const std::string& list);

// Sections (c) and (d) of bn_exact_reference: the product gap against rows
// per client, mean over fixed-seed subsamples: edge-marginal differences to
// the full-data posterior at the data's size (DP), and exact TV to it on
// `tv_columns` (enumeration), for the plain product, the Laplace correction
// and clients using alpha_mu / N.
absl::Status ReportGapSweep(const std::string& label, const Dataset& data,
                            const std::vector<int64_t>& tv_columns,
                            const GapSweepOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_BN_GAP_SWEEP_H_
