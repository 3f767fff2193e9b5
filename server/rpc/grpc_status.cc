#include "server/rpc/grpc_status.h"

#include <glog/logging.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/util/event_log.h"

namespace epgfn {
namespace {

bool EndsPath(char c) {
  return c == ' ' || c == '\'' || c == '"' || c == ')' || c == ',' ||
         c == ';' || c == '\n' || c == '\t';
}

bool StartsPathAfter(char c) {
  return c == ' ' || c == '\'' || c == '"' || c == '(' || c == '=' ||
         c == '\t' || c == '\n';
}

}  // namespace

std::string ScrubServerPaths(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  size_t i = 0;
  while (i < message.size()) {
    const bool at_word_start = i == 0 || StartsPathAfter(message[i - 1]);
    // "/x": a path; a lone "/" (as in "3 / 4") is not.
    if (at_word_start && message[i] == '/' && i + 1 < message.size() &&
        !EndsPath(message[i + 1])) {
      size_t end = i;
      while (end < message.size() && !EndsPath(message[end])) ++end;
      // "path: reason" keeps its colon.
      if (end > i && message[end - 1] == ':') --end;
      out += "<server path>";
      i = end;
      continue;
    }
    out += message[i++];
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  // absl may grow codes gRPC lacks; those become UNKNOWN rather than an
  // out-of-range enum value.
  const grpc::StatusCode grpc_code =
      code > 0 && code <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)
          ? static_cast<grpc::StatusCode>(code)
          : grpc::StatusCode::UNKNOWN;
  std::string message = ScrubServerPaths(status.message());
  if (message != status.message()) {
    // The operator still gets the paths.
    LOG(WARNING) << Event("rpc_error_paths_removed").WithStatus(status);
  }
  return grpc::Status(grpc_code, std::move(message));
}

grpc::Status InternalErrorFromException(absl::string_view method,
                                        absl::string_view what) {
  LOG(ERROR)
      << Event("rpc_exception").With("method", method).With("what", what);
  return grpc::Status(
      grpc::StatusCode::INTERNAL,
      absl::StrCat("internal error in ", method,
                   " (the server logged it as event=rpc_exception)"));
}

}  // namespace epgfn
