#include "client/core/admin.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/core/retry.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

std::string Time(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

// Left-aligned columns, widths from the widest cell.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, c == 0 ? "" : "  ", row[c],
                      c + 1 == row.size()
                          ? ""
                          : std::string(widths[c] - row[c].size(), ' '));
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::vector<std::string> VersionCells(const v1::GlobalModelAnnouncement& v) {
  std::string clients = absl::StrJoin(v.client_ids(), ",");
  if (v.excluded_client_ids_size() > 0) {
    absl::StrAppend(&clients,
                    " (excluded: ", absl::StrJoin(v.excluded_client_ids(), ","),
                    ")");
  }
  return {absl::StrCat("v", v.version()),    Time(v.published_unix_seconds()),
          absl::StrCat(v.client_ids_size()), clients,
          absl::StrCat(v.payload_bytes()),   v.payload_sha256().substr(0, 12)};
}

const std::vector<std::string>& VersionColumns() {
  static const auto* columns = new std::vector<std::string>{
      "VERSION", "PUBLISHED", "N", "CLIENTS", "BYTES", "SHA256"};
  return *columns;
}

std::vector<v1::GlobalModelAnnouncement> SortedVersions(
    const v1::GetStatusResponse& status) {
  std::vector<v1::GlobalModelAnnouncement> versions(
      status.published_versions().begin(), status.published_versions().end());
  std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
    return a.version() < b.version();
  });
  return versions;
}

}  // namespace

std::string StatusTable(const v1::GetStatusResponse& status) {
  const v1::AggregationStatus& aggregation = status.aggregation();
  std::string out = Table({
      {"federation:", status.federation()},
      {"spec digest:", status.spec_digest()},
      {"current version:", status.current_version() > 0
                               ? absl::StrCat("v", status.current_version())
                               : "none published"},
      {"aggregation:",
       absl::StrCat(
           aggregation.state(), ", iteration ", aggregation.iteration(), "/",
           aggregation.total_iterations(), ", loss ",
           absl::StrFormat("%.6g", aggregation.loss()),
           aggregation.total_variation_to_local_product() >= 0
               ? absl::StrFormat(", TV to the local product %.4f",
                                 aggregation.total_variation_to_local_product())
               : "",
           aggregation.fcs_to_local_product() >= 0
               ? absl::StrFormat(", FCS to the local product %.4f",
                                 aggregation.fcs_to_local_product())
               : "",
           aggregation.last_error().empty()
               ? ""
               : absl::StrCat(", last error: ", aggregation.last_error()))},
  });
  std::vector<std::vector<std::string>> rows = {
      {"CLIENT", "ROUND", "ALPHA", "BETA", "LOG_Z", "FCS", "EXCLUDED"}};
  for (const v1::ClientStatus& client : status.clients()) {
    const bool has_diagnostics = client.has_diagnostics();
    const v1::LocalDiagnostics& d = client.diagnostics();
    rows.push_back(
        {client.client_id(),
         client.accepted_round() > 0 ? absl::StrCat(client.accepted_round())
                                     : "-",
         has_diagnostics ? absl::StrFormat("%.4f", d.alpha()) : "-",
         has_diagnostics ? absl::StrFormat("%.4f", d.beta()) : "-",
         has_diagnostics ? absl::StrFormat("%.4f", d.log_z_estimate()) : "-",
         has_diagnostics && d.has_fcs() ? absl::StrFormat("%.4f", d.fcs())
                                        : "-",
         client.excluded() ? absl::StrCat("yes: ", client.exclusion_reason())
                           : "no"});
  }
  absl::StrAppend(&out, "\n", Table(rows));
  if (!status.refused_uploads().empty()) {
    std::vector<std::string> refused;
    for (const auto& [reason, count] : status.refused_uploads()) {
      refused.push_back(absl::StrCat(reason, "=", count));
    }
    std::sort(refused.begin(), refused.end());
    absl::StrAppend(&out, "\nrefused uploads: ", absl::StrJoin(refused, " "),
                    "\n");
  }
  return out;
}

std::string VersionsHeader() { return Table({VersionColumns()}); }

std::string VersionRow(const v1::GlobalModelAnnouncement& version) {
  return absl::StrJoin(VersionCells(version), "  ") + "\n";
}

std::string VersionsTable(const v1::GetStatusResponse& status) {
  std::vector<std::vector<std::string>> rows = {VersionColumns()};
  for (const auto& version : SortedVersions(status)) {
    rows.push_back(VersionCells(version));
  }
  if (rows.size() == 1) return "no published versions\n";
  return Table(rows);
}

absl::StatusOr<std::string> ToJsonLine(
    const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot write JSON: ", status.ToString()));
  }
  return json;
}

absl::Status WatchVersions(
    FederationClient& client, const WatchOptions& options,
    const std::function<void(const v1::GlobalModelAnnouncement&)>& on_version,
    const std::function<void(const absl::Status&)>& on_error) {
  int64_t after = options.after_version;
  int64_t reported = 0;
  while (true) {
    absl::StatusOr<v1::GetStatusResponse> status = client.GetStatus();
    if (status.ok()) {
      if (after < 0) after = status->current_version();
      for (const auto& version : SortedVersions(*status)) {
        if (version.version() <= after) continue;
        on_version(version);
        after = version.version();
        if (options.max_versions > 0 && ++reported >= options.max_versions) {
          return absl::OkStatus();
        }
      }
    } else if (IsTransient(status.status())) {
      if (on_error) on_error(status.status());
    } else {
      return status.status();
    }
    const absl::Duration left = options.deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::OkStatus();
    absl::SleepFor(std::min(options.poll_interval, left));
  }
}

}  // namespace epgfn
