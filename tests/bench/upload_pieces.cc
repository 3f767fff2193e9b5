#include "tests/bench/upload_pieces.h"

#include <torch/types.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/core/grpc_status.h"
#include "client/core/upload_stream.h"
#include "common/model/deterministic_bytes.h"
#include "common/model/model_codec.h"
#include "common/transfer/chunked_serializer.h"
#include "common/util/file_io.h"
#include "common/util/sha256.h"
#include "common/util/status_macros.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/model_probe.h"
#include "server/core/upload_store.h"
#include "tests/bench/stopwatch.h"

namespace epgfn {
namespace {

// The probe's default (UploadStoreOptions::probe_walks).
constexpr int64_t kProbeWalks = 64;

// The median seconds of `repeats` runs of `piece`, which may fail.
absl::StatusOr<double> MedianSeconds(
    int repeats, const std::function<absl::Status()>& piece) {
  std::vector<double> seconds;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    const auto start = Clock::now();
    RETURN_IF_ERROR(piece());
    seconds.push_back(SecondsSince(start));
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

// The chunks of `payload` over a raw stream, announced with a wrong digest:
// the server receives every byte and hashes them, then refuses the upload
// (DATA_LOSS) before any validation.
absl::Status StreamRefusedForItsDigest(v1::Federation::Stub& stub,
                                       const FederationConfig& config,
                                       ChunkedPayload& payload) {
  v1::UploadChunk chunk;
  v1::UploadHeader* header = chunk.mutable_header();
  // No upload of this client is ever accepted, so round 1 is always new.
  header->set_client_id(config.spec.client_ids(1));
  header->set_spec_digest(config.spec_digest);
  header->set_round(1);
  header->set_total_bytes(payload.total_bytes);
  header->set_payload_sha256(std::string(64, '0'));
  grpc::ClientContext context;
  v1::UploadResponse response;
  std::unique_ptr<grpc::ClientWriter<v1::UploadChunk>> writer =
      stub.UploadModel(&context, &response);
  // As FederationClient::UploadModel sends them.
  absl::Status finished =
      FromGrpcStatus(StreamUpload(*writer, chunk, payload.chunks));
  if (!absl::IsDataLoss(finished)) {
    return absl::InternalError(absl::StrCat(
        "the transport probe expected DATA_LOSS, got ", finished.ToString()));
  }
  return absl::OkStatus();
}

// "<rows> probe states, <distinct> distinct" for the probe of `seed`.
std::string ProbeStateCounts(const Environment& environment, uint64_t seed) {
  Trajectories probe =
      UniformProbeTrajectories(environment, kProbeWalks, seed, torch::kCPU);
  torch::Tensor rows = probe.states.reshape({-1, environment.raw_state_dim()});
  const int64_t distinct = std::get<0>(torch::unique_dim(rows, 0)).size(0);
  return absl::StrCat(rows.size(0), " probe states, ", distinct, " distinct");
}

void PrintRow(const char* piece, double seconds, double megabytes) {
  std::printf("| %s | %.3f | %.0f |\n", piece, seconds, megabytes / seconds);
}

}  // namespace

absl::Status PrintUploadPieces(std::shared_ptr<const FederationConfig> config,
                               const v1::ModelWeights& weights,
                               std::shared_ptr<grpc::Channel> channel,
                               const std::string& state_dir, int repeats) {
  const Environment& environment = *config->environment;
  ASSIGN_OR_RETURN(const std::string bytes, DeterministicBytes(weights));
  const double megabytes = bytes.size() / 1e6;
  const std::string digest = Sha256Hex(bytes);
  const uint64_t seed = ProbeSeed("upload_pieces", digest);
  v1::ModelWeights parsed;
  PolicyNet policy{nullptr};
  std::vector<std::pair<const char*, double>> rows;
  auto time = [&](const char* name,
                  const std::function<absl::Status()>& piece) -> absl::Status {
    ASSIGN_OR_RETURN(const double seconds, MedianSeconds(repeats, piece));
    rows.emplace_back(name, seconds);
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(time("client: serialize",
                       [&] { return DeterministicBytes(weights).status(); }));
  RETURN_IF_ERROR(time("client: SHA-256", [&] {
    return Sha256Hex(bytes) == digest ? absl::OkStatus()
                                      : absl::InternalError("SHA-256 varies");
  }));
  auto stub = v1::Federation::NewStub(channel);
  ASSIGN_OR_RETURN(ChunkedPayload chunked, SerializeInChunks(weights));
  RETURN_IF_ERROR(time("transport + server SHA-256 (refused upload)", [&] {
    return StreamRefusedForItsDigest(*stub, *config, chunked);
  }));
  RETURN_IF_ERROR(time("server: parse", [&] {
    return parsed.ParseFromString(bytes)
               ? absl::OkStatus()
               : absl::InternalError("the payload does not parse");
  }));
  RETURN_IF_ERROR(time("server: ImportModel", [&] {
    ASSIGN_OR_RETURN(policy, ImportModel(parsed, environment, torch::kCPU));
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(time("server: probe (CheckOutputsFinite)", [&] {
    return CheckOutputsFinite(policy, environment, seed, kProbeWalks);
  }));
  RETURN_IF_ERROR(MakeDirectories(state_dir));
  RETURN_IF_ERROR(time("server: durable write (fsync)", [&] {
    return WriteFileAtomically(state_dir + "/pieces.model", bytes);
  }));
  ASSIGN_OR_RETURN(std::unique_ptr<UploadStore> store,
                   UploadStore::Create(config, state_dir + "/store"));
  int64_t round = 0;
  RETURN_IF_ERROR(time("server: whole UploadStore::Submit", [&] {
    UploadRequest request;
    request.client_id = config->spec.client_ids(1);
    request.spec_digest = config->spec_digest;
    request.round = ++round;
    request.payload = bytes;
    // As the RPC service passes it on, checked by the transfer.
    request.payload_sha256 = digest;
    return store->Submit(request).status();
  }));

  // Last, so that the derived rows below keep their indices.
  RETURN_IF_ERROR(time("client: serialize + SHA-256 overlapped (chunks)", [&] {
    ASSIGN_OR_RETURN(const ChunkedPayload again, SerializeInChunks(weights));
    return again.sha256_hex == digest
               ? absl::OkStatus()
               : absl::InternalError("the chunked serialization differs");
  }));

  std::printf("upload pieces for %.1f MB (median of %d; %s):\n", megabytes,
              repeats, ProbeStateCounts(environment, seed).c_str());
  std::printf("| piece | seconds | MB/s |\n|---|---|---|\n");
  for (const auto& [name, seconds] : rows) PrintRow(name, seconds, megabytes);
  // Derived: the transport without the server's hash, and the validation.
  PrintRow("transport alone (derived: row 3 - row 2)",
           rows[2].second - rows[1].second, megabytes);
  PrintRow("validation alone (parse + import + probe)",
           rows[3].second + rows[4].second + rows[5].second, megabytes);
  std::printf("\n");
  return absl::OkStatus();
}

}  // namespace epgfn
