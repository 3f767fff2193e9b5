#include "common/env/dag/product_correction.h"

#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace epgfn {

absl::StatusOr<double> LaplaceEdgeCorrection(
    const std::vector<int64_t>& client_rows) {
  if (client_rows.empty()) {
    return absl::InvalidArgumentError("LaplaceEdgeCorrection needs a client");
  }
  double sum_log_rows = 0.0;
  double rows = 0.0;
  for (size_t i = 0; i < client_rows.size(); ++i) {
    if (client_rows[i] < 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "client ", i, " has ", client_rows[i], " rows; need at least 1"));
    }
    sum_log_rows += std::log(static_cast<double>(client_rows[i]));
    rows += static_cast<double>(client_rows[i]);
  }
  const double extra_clients = static_cast<double>(client_rows.size()) - 1.0;
  return 0.5 * (sum_log_rows - std::log(rows)) - 0.5 * extra_clients;
}

}  // namespace epgfn
