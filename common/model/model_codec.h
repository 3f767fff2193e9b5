#ifndef EPGFN_COMMON_MODEL_MODEL_CODEC_H_
#define EPGFN_COMMON_MODEL_MODEL_CODEC_H_

// Models as plain data (proto/model.proto): the environment spec, the policy
// architecture and every weight as a named float32 tensor. This is the only
// format in which models travel between clients and the server or are kept on
// disk; nothing here deserializes code (no torch::load, no pickles), so an
// untrusted ModelWeights can at worst be refused.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env/environment.h"
#include "common/policy/policy_net.h"
#include "proto/model.pb.h"

namespace epgfn {

// Every parameter and buffer of `policy` as TensorData (float32, row-major,
// little-endian, copied to the host), plus the config of `environment` and
// the policy's architecture and dimensions.
epgfn::v1::ModelWeights ExportModel(const Environment& environment,
                                    PolicyNet& policy);

// Rebuilds a policy from `weights` on `device`. Refuses, without touching any
// weight, a model that does not fit `environment` or is malformed:
//  - FailedPrecondition when the environment spec differs from
//    environment.config() (the model belongs to another state graph);
//  - InvalidArgument, naming the field or tensor, when a dimension differs
//    from the environment's, the architecture is invalid, or a tensor is
//    missing, unknown, duplicated, not float32, of the wrong shape or byte
//    size, or holds a NaN or infinite value.
// Safe on untrusted input: never crashes, and allocates a policy only when
// the message carries at least the data that policy's weights need.
absl::StatusOr<PolicyNet> ImportModel(const epgfn::v1::ModelWeights& weights,
                                      const Environment& environment,
                                      torch::Device device);

// Writes `weights` to `path` atomically: the bytes go to `path` + ".tmp",
// which is flushed to disk and then renamed over `path`, and the directory is
// synced, so a crash leaves either the old file or the new one. Concurrent
// writers to the same path must be serialized by the caller.
absl::Status WriteModelFile(const std::string& path,
                            const epgfn::v1::ModelWeights& weights);

// Reads a file written by WriteModelFile. NotFound when `path` does not
// exist; DataLoss when its bytes are empty or do not parse as ModelWeights.
// The result is not checked against any environment: pass it to ImportModel.
absl::StatusOr<epgfn::v1::ModelWeights> ReadModelFile(const std::string& path);

}  // namespace epgfn

#endif  // EPGFN_COMMON_MODEL_MODEL_CODEC_H_
