// epgfn_admin: an operator's view of a running federation, over the same
// TLS and token flags as epgfn_sample.
//
//   epgfn_admin status   --server=host:port --tls_ca=ca.pem
//     --tls_cert=op.pem --tls_key=op.key --admin_token_file=admin_token
//   epgfn_admin versions [--json]
//   epgfn_admin watch    [--json] [--poll_seconds=2] [--watch_count=N]
//
// status: the federation, spec digest, current version, aggregation state,
// iteration and loss, and a table of clients (round, diagnostics,
// exclusion); versions: every published version with its clients and time;
// watch: new versions as they are published. --json prints the GetStatus
// response (status, versions) or one announcement per line (watch).
#include <glog/logging.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/channel_flags.h"
#include "client/core/admin.h"
#include "client/core/channel.h"
#include "client/core/federation_client.h"
#include "common/util/status_macros.h"

ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the admin bearer token (one of the server's "
          "--admin_tokens_file), sent as 'authorization: Bearer <token>'; "
          "surrounding whitespace is ignored.");
ABSL_FLAG(int32_t, rpc_attempts, 5,
          "Attempts of each GetStatus call when the server is unavailable "
          "(gRPC's own retry policy, at most 5).");
ABSL_FLAG(double, rpc_timeout_seconds, 30,
          "Deadline of each GetStatus call, waiting for the connection "
          "included.");
ABSL_FLAG(bool, json, false,
          "Print JSON instead of a table: the GetStatus response (status, "
          "versions) or one GlobalModelAnnouncement per line (watch).");
ABSL_FLAG(double, poll_seconds, 2, "watch: how often to ask the server.");
ABSL_FLAG(int64_t, watch_count, 0,
          "watch: exit 0 after this many new versions (0: run until "
          "interrupted or --watch_seconds).");
ABSL_FLAG(double, watch_seconds, 0,
          "watch: exit 0 after this many seconds (0: no limit).");
ABSL_FLAG(int64_t, after_version, -1,
          "watch: report versions newer than this (-1: newer than the "
          "current one).");

namespace epgfn {
namespace {

absl::Status Print(const google::protobuf::Message& message) {
  ASSIGN_OR_RETURN(const std::string json, ToJsonLine(message));
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

absl::Status Run(const std::string& command) {
  if (command != "status" && command != "versions" && command != "watch") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command '", command, "'; expected status, versions or watch"));
  }
  ASSIGN_OR_RETURN(const ChannelOptions channel_options,
                   ChannelOptionsFromFlags(ChannelFlagsFromCommandLine(
                       absl::GetFlag(FLAGS_rpc_attempts))));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   MakeChannel(channel_options));
  FederationClientOptions options;
  options.rpc_timeout = absl::Seconds(absl::GetFlag(FLAGS_rpc_timeout_seconds));
  if (!absl::GetFlag(FLAGS_admin_token_file).empty()) {
    ASSIGN_OR_RETURN(options.status_token,
                     ReadBearerTokenFile(absl::GetFlag(FLAGS_admin_token_file),
                                         "admin token file"));
  }
  FederationClient client(channel, options);
  const bool json = absl::GetFlag(FLAGS_json);

  if (command == "watch") {
    WatchOptions watch;
    watch.after_version = absl::GetFlag(FLAGS_after_version);
    watch.poll_interval = absl::Seconds(absl::GetFlag(FLAGS_poll_seconds));
    watch.max_versions = absl::GetFlag(FLAGS_watch_count);
    if (absl::GetFlag(FLAGS_watch_seconds) > 0) {
      watch.deadline =
          absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_watch_seconds));
    }
    if (watch.poll_interval <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("--poll_seconds must be > 0");
    }
    if (!json) {
      std::printf("%s", VersionsHeader().c_str());
      std::fflush(stdout);
    }
    absl::Status printed = absl::OkStatus();
    RETURN_IF_ERROR(WatchVersions(
        client, watch,
        [&](const v1::GlobalModelAnnouncement& version) {
          if (json) {
            printed.Update(Print(version));
          } else {
            std::printf("%s", VersionRow(version).c_str());
            std::fflush(stdout);
          }
        },
        [](const absl::Status& error) {
          std::fprintf(stderr, "epgfn_admin: %s (retrying)\n",
                       error.ToString().c_str());
        }));
    return printed;
  }

  ASSIGN_OR_RETURN(const v1::GetStatusResponse status, client.GetStatus());
  if (json) return Print(status);
  std::printf("%s", command == "status" ? StatusTable(status).c_str()
                                        : VersionsTable(status).c_str());
  return absl::OkStatus();
}

}  // namespace
}  // namespace epgfn

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "An operator's view of a running federation: epgfn_admin "
      "status|versions|watch [flags].");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() != 2) {
    std::fprintf(stderr,
                 "usage: epgfn_admin status|versions|watch [flags] (see "
                 "--help)\n");
    return 2;
  }
  const absl::Status status = epgfn::Run(positional[1]);
  if (!status.ok()) {
    std::fprintf(stderr, "epgfn_admin: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
