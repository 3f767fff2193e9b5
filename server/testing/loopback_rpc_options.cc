#include "server/testing/loopback_rpc_options.h"

#include "server/core/sampler_access.h"
#include "server/testing/rpc_client.h"

namespace epgfn {
namespace test_support {

RpcServerOptions InsecureLoopbackOptions(int64_t max_upload_bytes) {
  RpcServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.insecure = true;
  options.max_upload_bytes = max_upload_bytes;
  options.sampler_access = SamplerAccessOptions::Open();
  options.federation_access = TestAdminAccess();
  return options;
}

}  // namespace test_support
}  // namespace epgfn
