#ifndef EPGFN_TESTS_DEMO_EVALUATION_INPUTS_H_
#define EPGFN_TESTS_DEMO_EVALUATION_INPUTS_H_

// What the evaluator reads: the federation's spec, a sampler's output, model
// files, and the clients' reward specs.

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "proto/federation_spec.pb.h"

namespace epgfn {

// A FederationSpec textproto.
absl::StatusOr<v1::FederationSpec> ReadSpec(const std::string& path);

// The state integers (first tab-separated field) of every line of an
// epgfn_sample output, as a [lines, state_dim] int64 tensor.
absl::StatusOr<torch::Tensor> ReadSampleStates(const std::string& path,
                                               int64_t state_dim);

// R(x)/Z on `states` (float64).
torch::Tensor NormalizedReward(const LogReward& reward,
                               const torch::Tensor& states);

// The exact terminal distribution over `states` of the model file at `path`.
absl::StatusOr<torch::Tensor> LearnedProbabilities(
    const std::string& path, const Environment& environment,
    const torch::Tensor& states);

// "kind" + "index=i,count=N" with the right separator.
std::string WithShare(const std::string& reward, int index, int count);

}  // namespace epgfn

#endif  // EPGFN_TESTS_DEMO_EVALUATION_INPUTS_H_
