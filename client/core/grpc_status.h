#ifndef EPGFN_CLIENT_CORE_GRPC_STATUS_H_
#define EPGFN_CLIENT_CORE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace epgfn {

// The RPC boundary: gRPC statuses become absl::Status (same code, same
// message) so that everything above the stub speaks one status type.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_GRPC_STATUS_H_
