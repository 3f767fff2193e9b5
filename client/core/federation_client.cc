#include "client/core/federation_client.h"

#include <glog/logging.h>
#include <grpcpp/client_context.h>

#include <algorithm>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/core/channel.h"
#include "client/core/grpc_status.h"
#include "client/core/upload_stream.h"
#include "common/transfer/chunked_serializer.h"
#include "common/transfer/payload.h"
#include "common/util/event_log.h"
#include "common/util/status_macros.h"

namespace epgfn {

FederationClient::FederationClient(std::shared_ptr<grpc::Channel> channel,
                                   FederationClientOptions options)
    : channel_(std::move(channel)),
      stub_(v1::Federation::NewStub(channel_)),
      options_(std::move(options)) {}

std::chrono::system_clock::time_point FederationClient::DeadlineAfter(
    absl::Duration timeout) const {
  return std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
}

absl::Status FederationClient::CallWithRetry(
    const std::function<absl::Status()>& rpc) {
  return RetryWithBackoff(
      options_.retry,
      [&](int /*attempt*/) -> absl::Status {
        RETURN_IF_ERROR(WaitForChannel(*channel_, options_.connect_timeout));
        return rpc();
      },
      options_.sleep);
}

absl::StatusOr<SpecResult> FederationClient::GetSpec(
    const std::string& client_id) {
  v1::GetSpecRequest request;
  request.set_client_id(client_id);
  v1::GetSpecResponse response;
  // Unary: waitForReady and retries come from the channel's service config
  // (channel.h); the connection wait first ends at once on a TLS failure
  // that no retry can mend.
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(options_.rpc_timeout));
  RETURN_IF_ERROR(WaitForChannel(*channel_, options_.rpc_timeout));
  RETURN_IF_ERROR(UnaryCallStatus(
      *channel_, FromGrpcStatus(stub_->GetSpec(&context, request, &response))));
  if (response.spec_digest().empty()) {
    return absl::DataLossError("the server sent a spec without its digest");
  }
  SpecResult result;
  result.spec = std::move(*response.mutable_spec());
  result.spec_digest = response.spec_digest();
  result.accepted_round = response.accepted_round();
  return result;
}

absl::StatusOr<v1::GetStatusResponse> FederationClient::GetStatus() {
  v1::GetStatusResponse response;
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(options_.rpc_timeout));
  if (!options_.status_token.empty()) {
    context.AddMetadata("authorization", "Bearer " + options_.status_token);
  }
  RETURN_IF_ERROR(WaitForChannel(*channel_, options_.rpc_timeout));
  RETURN_IF_ERROR(UnaryCallStatus(
      *channel_, FromGrpcStatus(stub_->GetStatus(
                     &context, v1::GetStatusRequest(), &response))));
  return response;
}

absl::StatusOr<UploadResult> FederationClient::UploadModel(
    const v1::ModelWeights& weights, const std::string& client_id,
    const std::string& spec_digest, int64_t round,
    const std::optional<v1::LocalDiagnostics>& diagnostics,
    int64_t base_round) {
  // Deterministic, so a restarted client re-sends the very bytes it sent
  // before and the server recognises a replay. Serialized straight into
  // the chunks and hashed while it is serialized.
  ASSIGN_OR_RETURN(ChunkedPayload payload, SerializeInChunks(weights));
  v1::UploadChunk header_chunk;
  v1::UploadHeader* header = header_chunk.mutable_header();
  header->set_client_id(client_id);
  header->set_spec_digest(spec_digest);
  header->set_round(round);
  header->set_base_round(base_round);
  header->set_total_bytes(payload.total_bytes);
  header->set_payload_sha256(payload.sha256_hex);
  if (diagnostics) *header->mutable_diagnostics() = *diagnostics;
  std::vector<std::string>& chunks = payload.chunks;

  UploadResult result;
  result.payload_bytes = payload.total_bytes;
  result.chunks = static_cast<int64_t>(chunks.size());
  int attempts = 0;
  RETURN_IF_ERROR(CallWithRetry([&]() -> absl::Status {
    const absl::Time start = absl::Now();
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(options_.transfer_timeout));
    v1::UploadResponse response;
    std::unique_ptr<grpc::ClientWriter<v1::UploadChunk>> writer =
        stub_->UploadModel(&context, &response);
    absl::Status finished =
        FromGrpcStatus(StreamUpload(*writer, header_chunk, chunks));
    ++attempts;
    if (absl::IsAlreadyExists(finished) && attempts > 1) {
      // An earlier attempt reached the server, which stored it and then
      // lost the connection (or crashed) before answering: the server holds
      // exactly this payload (ALREADY_EXISTS is its answer to an identical
      // replay), so the upload is done.
      response.set_client_id(client_id);
      response.set_round(round);
      response.set_received_bytes(result.payload_bytes);
      response.set_payload_sha256(header->payload_sha256());
      finished = absl::OkStatus();
    }
    RETURN_IF_ERROR(finished);
    result.response = std::move(response);
    result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return absl::OkStatus();
  }));
  if (result.response.received_bytes() != result.payload_bytes ||
      result.response.payload_sha256() != header->payload_sha256()) {
    return absl::DataLossError(absl::StrCat(
        "the server acknowledged ", result.response.received_bytes(),
        " bytes with digest '", result.response.payload_sha256(), "', sent ",
        result.payload_bytes, " bytes with digest ", header->payload_sha256()));
  }
  return result;
}

absl::StatusOr<v1::GlobalModelAnnouncement> FederationClient::WaitForVersion(
    int64_t after_version, absl::Time deadline,
    const std::function<bool(const v1::GlobalModelAnnouncement&)>& accept) {
  std::mt19937_64 jitter_random(std::random_device{}());
  int failures = 0;
  absl::Status last = absl::DeadlineExceededError("no time left to watch");
  while (absl::Now() < deadline) {
    const absl::Duration left = deadline - absl::Now();
    absl::Status connected =
        WaitForChannel(*channel_, std::min(options_.connect_timeout, left));
    if (connected.ok()) {
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(deadline));
      v1::WatchRequest request;
      request.set_after_version(after_version);
      std::unique_ptr<grpc::ClientReader<v1::GlobalModelAnnouncement>> reader =
          stub_->WatchGlobalModel(&context, request);
      v1::GlobalModelAnnouncement announcement;
      while (reader->Read(&announcement)) {
        failures = 0;
        if (announcement.version() > after_version &&
            (!accept || accept(announcement))) {
          // Done with the stream: cancel it rather than wait for its end.
          context.TryCancel();
          reader->Finish().IgnoreError();
          return announcement;
        }
      }
      last = FromGrpcStatus(reader->Finish());
      if (last.code() == absl::StatusCode::kDeadlineExceeded) break;
      // The server ended or lost the stream: say so, with its reason (an OK
      // end is a server shutting down its watchers).
      LOG(WARNING) << Event("watch_stream_ended")
                          .With("after_version", after_version)
                          .With("will_retry", last.ok() || IsTransient(last) ||
                                                  absl::IsCancelled(last))
                          .WithStatus(last);
      // The server ending the stream normally is a reason to re-subscribe,
      // and so is CANCELLED: this client never cancels a watch it still
      // needs, so it comes from a server shutting down (gRPC cancels calls
      // that arrive during its shutdown), which a restart will follow.
      if (!last.ok() && !IsTransient(last) && !absl::IsCancelled(last)) {
        return last;
      }
    } else {
      last = connected;
      // A permanent TLS failure does not mend by waiting.
      if (!IsTransient(connected)) return connected;
    }
    ++failures;
    const double ceiling =
        absl::ToDoubleSeconds(BackoffCeiling(options_.retry, failures));
    const absl::Duration pause =
        std::min(absl::Seconds(std::uniform_real_distribution<double>(
                     ceiling / 2, ceiling)(jitter_random)),
                 std::max(deadline - absl::Now(), absl::ZeroDuration()));
    if (options_.sleep) {
      options_.sleep(pause);
    } else {
      absl::SleepFor(pause);
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no global model newer than version ", after_version,
      " was published before the deadline (last: ", last.ToString(), ")"));
}

absl::StatusOr<DownloadResult> FederationClient::DownloadGlobalModel(
    int64_t version) {
  DownloadResult result;
  std::string payload;
  RETURN_IF_ERROR(CallWithRetry([&]() -> absl::Status {
    const absl::Time start = absl::Now();
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(options_.transfer_timeout));
    v1::DownloadRequest request;
    request.set_version(version);
    std::unique_ptr<grpc::ClientReader<v1::DownloadChunk>> reader =
        stub_->DownloadGlobalModel(&context, request);
    v1::DownloadChunk chunk;
    absl::Status stream_error;
    std::optional<PayloadAssembler> assembler;
    while (reader->Read(&chunk)) {
      if (!assembler.has_value()) {
        if (!chunk.has_header()) {
          stream_error =
              absl::DataLossError("the download did not start with a header");
          break;
        }
        const v1::DownloadHeader& header = chunk.header();
        if (version != 0 && header.version() != version) {
          stream_error = absl::DataLossError(
              absl::StrCat("asked for version ", version, ", the server sent ",
                           header.version()));
          break;
        }
        absl::StatusOr<PayloadAssembler> created = PayloadAssembler::Create(
            header.total_bytes(), header.payload_sha256(),
            options_.max_model_bytes);
        if (!created.ok()) {
          stream_error = created.status();
          break;
        }
        assembler.emplace(std::move(*created));
        result.version = header.version();
        result.payload_sha256 = header.payload_sha256();
        continue;
      }
      if (chunk.has_header()) {
        stream_error = absl::DataLossError("a second header in the download");
        break;
      }
      stream_error = assembler->Append(chunk.data());
      if (!stream_error.ok()) break;
    }
    if (!stream_error.ok()) {
      context.TryCancel();
      reader->Finish().IgnoreError();
      return stream_error;
    }
    RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
    if (!assembler.has_value()) {
      return absl::DataLossError("the download stream was empty");
    }
    ASSIGN_OR_RETURN(payload, std::move(*assembler).Finish());
    result.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    return absl::OkStatus();
  }));
  result.payload_bytes = static_cast<int64_t>(payload.size());
  if (!result.weights.ParseFromString(payload)) {
    return absl::DataLossError(absl::StrCat(
        "global model version ", result.version,
        ": the payload matches its digest but is not a ModelWeights"));
  }
  return result;
}

}  // namespace epgfn
