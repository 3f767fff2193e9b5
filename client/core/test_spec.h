#ifndef EPGFN_CLIENT_CORE_TEST_SPEC_H_
#define EPGFN_CLIENT_CORE_TEST_SPEC_H_

// The client's unit tests' federation: a 4x4 hypergrid, two clients, a
// one-layer 16-wide policy, cheap local training.

#include <cstdint>
#include <string>

#include "proto/federation_spec.pb.h"

namespace epgfn {

inline v1::FederationSpec SmallHypergridSpec(const std::string& name,
                                             int64_t iterations,
                                             uint64_t seed) {
  v1::FederationSpec spec;
  spec.set_name(name);
  spec.mutable_environment()->set_kind("hypergrid");
  (*spec.mutable_environment()->mutable_params())["dim"] = "2";
  (*spec.mutable_environment()->mutable_params())["side"] = "4";
  spec.mutable_local_architecture()->set_hidden_width(16);
  spec.mutable_local_architecture()->set_hidden_layers(1);
  *spec.mutable_global_architecture() = spec.local_architecture();
  spec.add_client_ids("client-0");
  spec.add_client_ids("client-1");
  spec.mutable_local_training()->set_iterations(iterations);
  spec.mutable_local_training()->set_batch_size(16);
  spec.mutable_local_training()->set_seed(seed);
  return spec;
}

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_TEST_SPEC_H_
