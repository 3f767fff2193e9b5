#ifndef EPGFN_CLIENT_CORE_FEDERATION_CLIENT_H_
#define EPGFN_CLIENT_CORE_FEDERATION_CLIENT_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/retry.h"
#include "proto/federation.grpc.pb.h"
#include "proto/federation_spec.pb.h"
#include "proto/model.pb.h"

namespace epgfn {

struct FederationClientOptions {
  RetryOptions retry;
  // How long one attempt may wait for the connection (and TLS handshake).
  absl::Duration connect_timeout = absl::Seconds(5);
  // Deadline of a unary RPC (GetSpec, GetStatus), waiting for the
  // connection included; gRPC retries them (the channel's service config,
  // channel.h), `retry` covers the streams.
  absl::Duration rpc_timeout = absl::Seconds(30);
  // Deadline of a whole upload or download stream.
  absl::Duration transfer_timeout = absl::Minutes(10);
  // Largest global model the client agrees to download.
  int64_t max_model_bytes = int64_t{1} << 30;
  // Sleep between attempts; tests inject one that returns at once.
  SleepFunction sleep;
  // When not empty, GetStatus sends "authorization: Bearer <token>" (an
  // operator's admin token; client daemons authenticate by certificate).
  std::string status_token;
};

struct SpecResult {
  v1::FederationSpec spec;
  std::string spec_digest;  // as the server quotes it
  // The server's accepted round for this client (0: none).
  int64_t accepted_round = 0;
};

struct UploadResult {
  v1::UploadResponse response;
  int64_t payload_bytes = 0;
  int64_t chunks = 0;
  double seconds = 0.0;  // of the successful attempt
};

struct DownloadResult {
  int64_t version = 0;
  v1::ModelWeights weights;
  int64_t payload_bytes = 0;
  std::string payload_sha256;
  double seconds = 0.0;
};

// A client daemon's view of the Federation service. Every RPC has a deadline.
// Unary calls wait for the connection and are retried on UNAVAILABLE by gRPC
// itself, through the channel's service config (use a channel from
// MakeChannel); the streams' attempts that fail transiently (server
// unreachable, handshake refused, connection lost: UNAVAILABLE) are retried
// with bounded exponential backoff and jitter (retry.h). Other errors are
// returned as they are, as absl::Status.
// Thread-compatible.
class FederationClient {
 public:
  FederationClient(std::shared_ptr<grpc::Channel> channel,
                   FederationClientOptions options);

  absl::StatusOr<SpecResult> GetSpec(const std::string& client_id);

  absl::StatusOr<v1::GetStatusResponse> GetStatus();

  // Streams `weights` (serialized) as a header and chunks of at most
  // kMaxChunkBytes, quoting the payload's SHA-256 so the server can refuse a
  // corrupted stream. A retry answered ALREADY_EXISTS (the server stored an
  // earlier attempt whose answer was lost) counts as success. `base_round`:
  // the accepted round a streaming update was trained from (0: a fresh
  // model; UploadHeader.base_round). Without `diagnostics` the header
  // carries none.
  absl::StatusOr<UploadResult> UploadModel(
      const v1::ModelWeights& weights, const std::string& client_id,
      const std::string& spec_digest, int64_t round,
      const std::optional<v1::LocalDiagnostics>& diagnostics,
      int64_t base_round = 0);

  // Watches for a published version newer than `after_version` for which
  // `accept` (if given) holds, reconnecting (with backoff) until `deadline`;
  // each time the stream breaks, a warning says why
  // (event=watch_stream_ended). DeadlineExceeded when none came in time.
  absl::StatusOr<v1::GlobalModelAnnouncement> WaitForVersion(
      int64_t after_version, absl::Time deadline,
      const std::function<bool(const v1::GlobalModelAnnouncement&)>& accept =
          nullptr);

  // Downloads `version` (0: the latest), reassembling the chunks and checking
  // size and SHA-256 against the header (DataLoss on a mismatch), then parses
  // the ModelWeights. The weights are not checked against any environment:
  // pass them to ImportModel.
  absl::StatusOr<DownloadResult> DownloadGlobalModel(int64_t version);

 private:
  // Runs `rpc` after the channel is connected, retrying transient failures.
  absl::Status CallWithRetry(const std::function<absl::Status()>& rpc);
  std::chrono::system_clock::time_point DeadlineAfter(
      absl::Duration timeout) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Federation::Stub> stub_;
  FederationClientOptions options_;
};

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_FEDERATION_CLIENT_H_
