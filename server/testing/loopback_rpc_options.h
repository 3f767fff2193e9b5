#ifndef EPGFN_SERVER_TESTING_LOOPBACK_RPC_OPTIONS_H_
#define EPGFN_SERVER_TESTING_LOOPBACK_RPC_OPTIONS_H_

#include <cstdint>

#include "server/rpc/rpc_server.h"

namespace epgfn {
namespace test_support {

// The transport most RPC tests want: plaintext on a free loopback port, an
// open Sampler service and the test operator's admin token
// (TestAdminAccess). Tests about TLS or access control set their own.
RpcServerOptions InsecureLoopbackOptions(int64_t max_upload_bytes = int64_t{64}
                                                                    << 20);

}  // namespace test_support
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_LOOPBACK_RPC_OPTIONS_H_
