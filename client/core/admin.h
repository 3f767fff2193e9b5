#ifndef EPGFN_CLIENT_CORE_ADMIN_H_
#define EPGFN_CLIENT_CORE_ADMIN_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/federation_client.h"
#include "proto/federation.pb.h"

namespace epgfn {

// What `epgfn_admin` shows, from Federation.GetStatus (an operator's admin
// token on a server with --admin_tokens_file). Each view is a human table or
// the message as JSON (protobuf's canonical mapping).

// The federation, spec digest, current version, aggregation state,
// iteration/total, loss (and TV where known), then one row per client:
// accepted round, alpha, beta, log Z estimate, exclusion.
std::string StatusTable(const v1::GetStatusResponse& status);

// One row per published version: version, time (UTC), clients aggregated
// (with excluded ones), payload size and digest prefix.
std::string VersionsTable(const v1::GetStatusResponse& status);

// The header row VersionsTable starts with and the row of one version, for
// `watch`, which prints rows as versions appear.
std::string VersionsHeader();
std::string VersionRow(const v1::GlobalModelAnnouncement& version);

// The message as one line of JSON.
absl::StatusOr<std::string> ToJsonLine(
    const google::protobuf::Message& message);

struct WatchOptions {
  // Versions newer than this are reported; < 0: newer than the one current
  // when the watch starts.
  int64_t after_version = -1;
  absl::Duration poll_interval = absl::Seconds(2);
  // Stop after this many new versions (0: never) or at `deadline`.
  int64_t max_versions = 0;
  absl::Time deadline = absl::InfiniteFuture();
};

// Polls GetStatus and calls `on_version` once per newly published version,
// oldest first. A poll that fails transiently (the server restarting) is
// reported to `on_error` and retried at the next interval; other errors end
// the watch. OK at the deadline or after max_versions.
absl::Status WatchVersions(
    FederationClient& client, const WatchOptions& options,
    const std::function<void(const v1::GlobalModelAnnouncement&)>& on_version,
    const std::function<void(const absl::Status&)>& on_error = nullptr);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_ADMIN_H_
