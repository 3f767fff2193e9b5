#ifndef EPGFN_TESTS_BENCH_UPLOAD_PIECES_H_
#define EPGFN_TESTS_BENCH_UPLOAD_PIECES_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "proto/model.pb.h"
#include "server/core/federation_config.h"

namespace epgfn {

// Where an upload's time goes, piece by piece, each the median of `repeats`
// runs: the client's serialization and SHA-256; the transport (a raw stream
// of the same chunks, which the server receives whole and refuses for an
// announced digest that is wrong, so that no validation runs); the server's
// validation (parse, ImportModel, the probe) and durable write in process;
// and the whole UploadStore::Submit on a store under `state_dir`, given the
// digest as the RPC service gives it. Prints one table.
absl::Status PrintUploadPieces(std::shared_ptr<const FederationConfig> config,
                               const v1::ModelWeights& weights,
                               std::shared_ptr<grpc::Channel> channel,
                               const std::string& state_dir, int repeats);

}  // namespace epgfn

#endif  // EPGFN_TESTS_BENCH_UPLOAD_PIECES_H_
