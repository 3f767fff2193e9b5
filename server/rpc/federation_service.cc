#include "server/rpc/federation_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/model/spec_conversion.h"
#include "common/transfer/payload.h"
#include "common/util/status_macros.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/peer_identity.h"

namespace epgfn {
namespace {

v1::GlobalModelAnnouncement Announcement(const GlobalVersion& version) {
  v1::GlobalModelAnnouncement announcement;
  announcement.set_version(version.version);
  for (const std::string& id : version.client_ids) {
    announcement.add_client_ids(id);
  }
  announcement.set_payload_bytes(static_cast<int64_t>(version.payload.size()));
  announcement.set_payload_sha256(version.payload_sha256);
  announcement.set_published_unix_seconds(version.published_unix_seconds);
  for (const std::string& id : version.excluded_client_ids) {
    announcement.add_excluded_client_ids(id);
  }
  for (const std::string& reason : version.exclusion_reasons) {
    announcement.add_exclusion_reasons(reason);
  }
  return announcement;
}

}  // namespace

absl::StatusOr<FederationServiceOptions> FederationServiceOptions::Create(
    int64_t max_upload_bytes, bool require_peer_identity) {
  if (max_upload_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_upload_bytes must be >= 1, got ", max_upload_bytes));
  }
  FederationServiceOptions options;
  options.max_upload_bytes = max_upload_bytes;
  options.require_peer_identity = require_peer_identity;
  return options;
}

grpc::Status FederationService::GetSpec(grpc::ServerContext* context,
                                        const v1::GetSpecRequest* request,
                                        v1::GetSpecResponse* response) {
  *response->mutable_spec() = core_->config().spec;
  response->set_spec_digest(core_->config().spec_digest);
  return grpc::Status::OK;
}

absl::StatusOr<UploadRequest> FederationService::ReceiveUpload(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader) {
  v1::UploadChunk chunk;
  if (!reader->Read(&chunk)) {
    absl::Status refusal =
        absl::InvalidArgumentError("empty upload stream: no header");
    core_->RecordRefusedUpload("?", kRefusedTransfer, refusal);
    return refusal;
  }
  if (!chunk.has_header()) {
    core_->RecordRefusedUpload("?", kRefusedTransfer,
                               absl::InvalidArgumentError("no header"));
    return absl::InvalidArgumentError(
        "the first message of an upload must be its header");
  }
  const v1::UploadHeader header = chunk.header();
  if (options_.require_peer_identity) {
    absl::StatusOr<std::string> peer = PeerIdentity(*context);
    if (!peer.ok() || *peer != header.client_id()) {
      absl::Status refusal = absl::PermissionDeniedError(absl::StrCat(
          "the client certificate names '", peer.ok() ? *peer : "nobody",
          "' but the upload claims client '", header.client_id(), "'"));
      core_->RecordRefusedUpload(header.client_id(), kRefusedIdentityMismatch,
                                 refusal);
      return refusal;
    }
  }
  RETURN_IF_ERROR(core_->CheckUploadHeader(
      header.client_id(), header.spec_digest(), header.round()));
  absl::StatusOr<PayloadAssembler> assembler = PayloadAssembler::Create(
      header.total_bytes(), header.payload_sha256(), options_.max_upload_bytes);
  if (!assembler.ok()) {
    core_->RecordRefusedUpload(header.client_id(), kRefusedTransfer,
                               assembler.status());
    return assembler.status();
  }
  while (reader->Read(&chunk)) {
    absl::Status status;
    if (chunk.has_header()) {
      status = absl::InvalidArgumentError(
          "an upload carries exactly one header, as its first message");
    } else {
      status = assembler->Append(chunk.data());
    }
    if (!status.ok()) {
      core_->RecordRefusedUpload(header.client_id(), kRefusedTransfer, status);
      return status;
    }
  }
  if (context->IsCancelled()) {
    // The client went away mid-upload: nothing is stored, and the refusal
    // is counted like any other broken transfer.
    absl::Status refusal = absl::CancelledError(absl::StrCat(
        "the client disconnected after ", assembler->received_bytes(), " of ",
        header.total_bytes(), " bytes"));
    core_->RecordRefusedUpload(header.client_id(), kRefusedTransfer, refusal);
    return refusal;
  }
  absl::StatusOr<std::string> payload = std::move(*assembler).Finish();
  if (!payload.ok()) {
    core_->RecordRefusedUpload(header.client_id(), kRefusedTransfer,
                               payload.status());
    return payload.status();
  }
  UploadRequest request;
  request.client_id = header.client_id();
  request.spec_digest = header.spec_digest();
  request.round = header.round();
  request.payload = std::move(payload).value();
  if (header.has_diagnostics()) {
    request.diagnostics = DiagnosticsFromProto(header.diagnostics());
  }
  return request;
}

grpc::Status FederationService::UploadModel(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
    v1::UploadResponse* response) {
  absl::StatusOr<UploadRequest> request = ReceiveUpload(context, reader);
  if (!request.ok()) return ToGrpcStatus(request.status());
  absl::StatusOr<std::shared_ptr<const AcceptedUpload>> accepted =
      core_->SubmitUpload(*request);
  if (!accepted.ok()) return ToGrpcStatus(accepted.status());
  response->set_client_id((*accepted)->client_id);
  response->set_round((*accepted)->round);
  response->set_received_bytes((*accepted)->payload_bytes);
  response->set_payload_sha256((*accepted)->payload_sha256);
  return grpc::Status::OK;
}

grpc::Status FederationService::WatchGlobalModel(
    grpc::ServerContext* context, const v1::WatchRequest* request,
    grpc::ServerWriter<v1::GlobalModelAnnouncement>* writer) {
  int64_t after = request->after_version();
  while (!context->IsCancelled() && !core_->shutting_down()) {
    GlobalVersionPtr version = core_->models().WaitForNewer(
        after, absl::Milliseconds(options_.watch_poll_milliseconds));
    if (version == nullptr) continue;
    if (!writer->Write(Announcement(*version))) break;
    after = version->version;
  }
  return grpc::Status::OK;
}

grpc::Status FederationService::DownloadGlobalModel(
    grpc::ServerContext* context, const v1::DownloadRequest* request,
    grpc::ServerWriter<v1::DownloadChunk>* writer) {
  if (request->version() < 0) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("version must be >= 0, got ", request->version())));
  }
  GlobalVersionPtr version = core_->models().Get(request->version());
  if (version == nullptr) {
    return ToGrpcStatus(absl::NotFoundError(
        request->version() == 0
            ? std::string("no global model has been published yet")
            : absl::StrCat("global model version ", request->version(),
                           " does not exist")));
  }
  v1::DownloadChunk chunk;
  v1::DownloadHeader* header = chunk.mutable_header();
  header->set_version(version->version);
  header->set_total_bytes(static_cast<int64_t>(version->payload.size()));
  header->set_payload_sha256(version->payload_sha256);
  if (!writer->Write(chunk)) {
    return ToGrpcStatus(absl::CancelledError("the client went away"));
  }
  for (absl::string_view piece : SplitIntoChunks(version->payload)) {
    chunk.Clear();
    chunk.set_data(piece.data(), piece.size());
    if (!writer->Write(chunk)) {
      return ToGrpcStatus(absl::CancelledError("the client went away"));
    }
  }
  return grpc::Status::OK;
}

grpc::Status FederationService::GetStatus(grpc::ServerContext* context,
                                          const v1::GetStatusRequest* request,
                                          v1::GetStatusResponse* response) {
  const FederationStatus status = core_->Status();
  response->set_federation(status.federation);
  response->set_spec_digest(status.spec_digest);
  for (const ClientState& state : status.clients) {
    v1::ClientStatus* client = response->add_clients();
    client->set_client_id(state.client_id);
    client->set_accepted_round(state.accepted_round);
    if (state.diagnostics) {
      *client->mutable_diagnostics() = DiagnosticsToProto(*state.diagnostics);
    }
    client->set_excluded(state.excluded);
    client->set_exclusion_reason(state.exclusion_reason);
  }
  v1::AggregationStatus* aggregation = response->mutable_aggregation();
  aggregation->set_state(status.aggregation.state);
  aggregation->set_iteration(status.aggregation.iteration);
  aggregation->set_total_iterations(status.aggregation.total_iterations);
  aggregation->set_loss(status.aggregation.loss);
  aggregation->set_total_variation_to_local_product(
      status.aggregation.total_variation_to_local_product);
  aggregation->set_last_error(status.aggregation.last_error);
  aggregation->set_resumed_from_iteration(
      status.aggregation.resumed_from_iteration);
  aggregation->set_checkpoint_iteration(
      status.aggregation.checkpoint_iteration);
  response->set_current_version(status.current_version);
  for (const auto& [reason, count] : status.refused_uploads) {
    (*response->mutable_refused_uploads())[reason] = count;
  }
  for (const GlobalVersionPtr& version : core_->models().List()) {
    *response->add_published_versions() = Announcement(*version);
  }
  if (sampler_access_ != nullptr) {
    for (const auto& [reason, count] : sampler_access_->RefusalCounts()) {
      (*response->mutable_refused_sampler_calls())[reason] = count;
    }
  }
  return grpc::Status::OK;
}

}  // namespace epgfn
