#ifndef EPGFN_TESTS_BENCH_BN_FULL_DATA_REPORT_H_
#define EPGFN_TESTS_BENCH_BN_FULL_DATA_REPORT_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "common/env/dag/data.h"

namespace epgfn {

struct FullDataReportOptions {
  int clients = 4;
  int64_t seed = 0;
  double edge_penalty = 1.0;  // of the rows with an edge prior
};

// Sections (a), (b) and (d) of bn_exact_reference at full size: one table
// row per target (full data, the products of a random and a by-condition
// split, the Laplace correction, alpha_mu / N, an edge prior) with its exact
// edge marginals' E-SHD / AUROC / AUPRC against `truth` and their gap to the
// full-data posterior, then the two marginal matrices themselves.
absl::Status ReportFullData(const Dataset& data,
                            const std::vector<int64_t>& truth,
                            const FullDataReportOptions& options);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_BN_FULL_DATA_REPORT_H_
