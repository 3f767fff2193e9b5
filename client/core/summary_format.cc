#include "client/core/summary_format.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace epgfn {
namespace {

int Width(const google::protobuf::RepeatedPtrField<std::string>& labels,
          int at_least) {
  int width = at_least;
  for (const std::string& label : labels) {
    width = std::max(width, static_cast<int>(label.size()));
  }
  return width;
}

void AppendTable(const v1::MarginalTable& table, int64_t max_rows,
                 std::string* out) {
  const int rows = table.row_labels_size();
  const int columns = table.column_labels_size();
  if (table.probabilities_size() != rows * columns ||
      table.standard_errors_size() != rows * columns) {
    absl::StrAppend(out, table.name(), ": malformed table (", rows, " x ",
                    columns, " labels, ", table.probabilities_size(),
                    " values)\n");
    return;
  }
  absl::StrAppend(out, table.name(), ": estimate (standard error)\n");
  const int row_width = Width(table.row_labels(), 1);
  // "0.123 (0.012)" is 13 wide.
  const int cell_width = std::max(13, Width(table.column_labels(), 1));
  absl::StrAppendFormat(out, "  %-*s", row_width, "");
  for (const std::string& label : table.column_labels()) {
    absl::StrAppendFormat(out, "  %*s", cell_width, label);
  }
  absl::StrAppend(out, "\n");
  const int shown = static_cast<int>(std::min<int64_t>(rows, max_rows));
  for (int r = 0; r < shown; ++r) {
    absl::StrAppendFormat(out, "  %-*s", row_width, table.row_labels(r));
    for (int c = 0; c < columns; ++c) {
      absl::StrAppendFormat(
          out, "  %*s", cell_width,
          absl::StrFormat("%.3f (%.3f)", table.probabilities(r * columns + c),
                          table.standard_errors(r * columns + c)));
    }
    absl::StrAppend(out, "\n");
  }
  if (shown < rows)
    absl::StrAppend(out, "  ... ", rows - shown, " more rows\n");
}

}  // namespace

std::string FormatSummary(const v1::Summary& summary, int64_t max_table_rows) {
  std::string out =
      absl::StrCat("model version ", summary.model_version(), ": summary of ",
                   summary.num_objects(), " objects, ", summary.num_distinct(),
                   " distinct\n");
  if (summary.top_objects_size() > 0) {
    absl::StrAppend(&out, "top ", summary.top_objects_size(),
                    " objects (p_T: importance-sampled from ",
                    summary.log_probability_samples(),
                    " backward trajectories each)\n");
    absl::StrAppendFormat(&out, "  %4s  %8s  %-17s  %-10s  %s\n", "rank",
                          "count", "frequency (se)", "p_T", "object");
    for (int i = 0; i < summary.top_objects_size(); ++i) {
      const v1::TopObject& object = summary.top_objects(i);
      absl::StrAppendFormat(&out, "  %4d  %8d  %-17s  %-10.4g  %s\n", i + 1,
                            object.count(),
                            absl::StrFormat("%.4f (%.4f)", object.frequency(),
                                            object.frequency_standard_error()),
                            object.probability(), object.description());
    }
  }
  for (const v1::MarginalTable& table : summary.tables()) {
    AppendTable(table, max_table_rows, &out);
  }
  for (const v1::SummaryText& text : summary.texts()) {
    absl::StrAppend(&out, text.name(), ":\n  ", text.text(), "\n");
  }
  return out;
}

}  // namespace epgfn
