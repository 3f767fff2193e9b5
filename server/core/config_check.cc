#include "server/core/config_check.h"

#include <unistd.h>

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/util/status_macros.h"
#include "common/util/tls_files.h"

namespace epgfn {
namespace {

absl::Status CheckHostPort(const std::string& address, const char* flag) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "='", address, "' is not host:port"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DescribeStateDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::exists(dir, error)) {
    if (!fs::is_directory(dir, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat("--state_dir ", dir, " exists and is not a directory"));
    }
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("--state_dir ", dir, " is not writable"));
    }
    int64_t versions = 0;
    for (const auto& entry : fs::directory_iterator(dir + "/global", error)) {
      versions += entry.path().extension() == ".model";
    }
    return absl::StrCat(dir, " (exists; ", versions,
                        " published version(s) to recover)");
  }
  // The nearest existing ancestor must let us create it.
  fs::path parent = fs::absolute(dir, error).parent_path();
  while (!parent.empty() && !fs::exists(parent, error)) {
    parent = parent.parent_path();
  }
  if (parent.empty() || access(parent.c_str(), W_OK | X_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "--state_dir ", dir, " does not exist and cannot be created under ",
        parent.string()));
  }
  return absl::StrCat(dir, " (will be created)");
}

}  // namespace

absl::StatusOr<std::string> CheckServerSetup(const FederationConfig& config,
                                             const ServerSetup& setup) {
  RETURN_IF_ERROR(CheckHostPort(setup.listen_address, "--listen"));
  if (!setup.metrics_listen.empty()) {
    RETURN_IF_ERROR(CheckHostPort(setup.metrics_listen, "--metrics_listen"));
  }
  std::string tls = "none (--insecure: plaintext)\n";
  if (!setup.insecure) {
    ASSIGN_OR_RETURN(
        tls, CheckTlsFiles(setup.tls_cert, setup.tls_key, setup.tls_client_ca));
    if (setup.tls_client_ca.empty()) {
      absl::StrAppend(&tls, "no client CA: clients are not authenticated\n");
    }
  }
  if (setup.state_dir.empty()) {
    return absl::InvalidArgumentError("--state_dir is required");
  }
  ASSIGN_OR_RETURN(const std::string state_dir,
                   DescribeStateDir(setup.state_dir));

  const v1::FederationSpec& spec = config.spec;
  std::string report = absl::StrCat(
      "federation '", spec.name(), "'\n", "spec digest: ", config.spec_digest,
      "\n", "environment: ", config.environment->config().ToString(), "\n",
      "clients (", config.num_clients(),
      "): ", absl::StrJoin(spec.client_ids(), ", "), "\n",
      "quorum: ", config.quorum, ", upload deadline: ",
      config.upload_deadline_seconds > 0
          ? absl::StrCat(config.upload_deadline_seconds, " s")
          : std::string("none (wait for every client)"),
      "\n", "exclusion: ",
      spec.has_exclusion() ? spec.exclusion().ShortDebugString()
                           : std::string("none"),
      "\n", "local architecture: ", config.local_architecture.ToString(),
      ", suggested training ", config.local_training.iterations,
      " iterations x ", config.local_training.batch_size, "\n",
      "aggregation: ", config.global_architecture.ToString(), ", ",
      config.aggregation.iterations, " iterations x ",
      config.aggregation.batch_size, " trajectories, loss ",
      spec.aggregation().loss().empty() ? "cb" : spec.aggregation().loss(),
      ", on ", setup.device, "\n", "listen: ", setup.listen_address, "\n",
      "TLS:\n  ",
      absl::StrJoin(absl::StrSplit(absl::StripSuffix(tls, "\n"), '\n'), "\n  "),
      "\n", "sampler access: ", setup.sampler_auth,
      setup.sampler_auth == "token"
          ? absl::StrCat(" (", setup.sampler_tokens, " token(s))")
          : std::string(),
      "\n", "metrics: ",
      setup.metrics_listen.empty()
          ? std::string("off")
          : absl::StrCat("http://", setup.metrics_listen, "/metrics"),
      "\n", "state dir: ", state_dir, "\n");
  return report;
}

}  // namespace epgfn
