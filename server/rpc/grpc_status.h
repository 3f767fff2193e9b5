#ifndef EPGFN_SERVER_RPC_GRPC_STATUS_H_
#define EPGFN_SERVER_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace epgfn {

// The one place where the core's absl::Status becomes a gRPC status; the
// canonical codes are the same on both sides.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_GRPC_STATUS_H_
