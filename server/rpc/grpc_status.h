#ifndef EPGFN_SERVER_RPC_GRPC_STATUS_H_
#define EPGFN_SERVER_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace epgfn {

// The one place where the core's absl::Status becomes a gRPC status; the
// canonical codes are the same on both sides. Server filesystem paths (file
// I/O errors name them) do not go to the client: each is replaced by
// "<server path>", and the whole message is logged instead.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `message` with every absolute path (a word that starts with '/', possibly
// after a quote or a parenthesis) replaced by "<server path>".
std::string ScrubServerPaths(absl::string_view message);

// A handler body run so that no exception escapes to gRPC (which would send
// its generic UNKNOWN and log nothing): an exception becomes INTERNAL, and
// an `event=rpc_exception` line names the method and the exception.
template <typename Body>
grpc::Status GuardedCall(absl::string_view method, Body&& body);

// GuardedCall's answer to an exception: logs and builds the INTERNAL status.
grpc::Status InternalErrorFromException(absl::string_view method,
                                        absl::string_view what);

template <typename Body>
grpc::Status GuardedCall(absl::string_view method, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return InternalErrorFromException(method, e.what());
  } catch (...) {
    return InternalErrorFromException(method, "an exception of unknown type");
  }
}

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_GRPC_STATUS_H_
