#ifndef EPGFN_SERVER_TESTING_TEST_FEDERATION_H_
#define EPGFN_SERVER_TESTING_TEST_FEDERATION_H_

#include <cstdint>
#include <memory>
#include <string>

#include "proto/federation_spec.pb.h"
#include "server/core/federation_config.h"

namespace epgfn {
namespace test_support {

// A federation small enough for unit tests: hypergrid dim=2 side=4,
// `num_clients` clients "client-0"..., small networks and a short
// aggregation.
v1::FederationSpec SmallHypergridSpec(int num_clients,
                                      int64_t aggregation_iterations = 100);

std::shared_ptr<const FederationConfig> SmallHypergridConfig(
    int num_clients, int64_t aggregation_iterations = 100);

// A serialized ModelWeights of the federation's local architecture for
// client `index`: trained for `iterations` on the hypergrid reward
// "client:index=<index>,count=<count>" (0 iterations: untrained).
std::string LocalModelPayload(const FederationConfig& config, int index,
                              int count, int64_t iterations);

// A fresh empty directory under $TEST_TMPDIR.
std::string FreshDirectory(const std::string& name);

}  // namespace test_support
}  // namespace epgfn

#endif  // EPGFN_SERVER_TESTING_TEST_FEDERATION_H_
