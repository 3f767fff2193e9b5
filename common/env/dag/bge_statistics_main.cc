// Writes the BGe sufficient statistics of an institution's data so far, the
// file a streaming DAG update names in its reward (`given=`; README,
// "Streaming updates"):
//
//   write_bge_statistics --data=block1.csv --out=so_far.stats
//   write_bge_statistics --data=block2.csv --given=so_far.stats --out=so_far.stats
//
// The second form merges the new rows into the earlier statistics, so the old
// rows are never read again. --columns picks and orders the columns (by
// name, ';'-separated) as the federation's `variables` list them.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/env/dag/bge_statistics.h"
#include "common/env/dag/data.h"
#include "common/util/status_macros.h"

ABSL_FLAG(std::string, data, "",
          "The new rows: a CSV or TSV file with a header of column names.");
ABSL_FLAG(std::string, given, "",
          "Statistics of the earlier rows (a file this tool wrote); empty: "
          "the new rows are the first.");
ABSL_FLAG(std::string, columns, "",
          "Columns to keep, in this order, separated by ';' (default: every "
          "column of --data, in its order).");
ABSL_FLAG(std::string, out, "",
          "Where to write the statistics of the earlier and the new rows "
          "together (written atomically; may equal --given).");

namespace epgfn {
namespace {

absl::Status Run() {
  const std::string data_path = absl::GetFlag(FLAGS_data);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  if (data_path.empty() || out_path.empty()) {
    return absl::InvalidArgumentError("--data and --out are required");
  }
  std::vector<std::string> columns;
  if (const std::string list = absl::GetFlag(FLAGS_columns); !list.empty()) {
    columns = absl::StrSplit(list, ';', absl::SkipEmpty());
  }
  ASSIGN_OR_RETURN(const Dataset rows, ReadTable(data_path, columns));
  BgeSufficientStatistics statistics;
  if (const std::string given = absl::GetFlag(FLAGS_given); !given.empty()) {
    ASSIGN_OR_RETURN(statistics, ReadBgeStatistics(given));
  }
  RETURN_IF_ERROR(statistics.Merge(BgeSufficientStatistics::Of(rows)));
  RETURN_IF_ERROR(WriteBgeStatistics(out_path, statistics));
  std::printf("%s: %lld rows, %lld columns\n", out_path.c_str(),
              static_cast<long long>(statistics.rows),
              static_cast<long long>(statistics.columns()));
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes the BGe sufficient statistics of a DAG client's data so far "
      "(for a streaming update's given=).");
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = epgfn::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "write_bge_statistics: %s\n",
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
