#include "server/rpc/federation_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/spec/spec_conversion.h"
#include "common/transfer/payload.h"
#include "common/util/status_macros.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/peer_identity.h"

namespace epgfn {
namespace {

void AggregationToProto(const AggregationState& state,
                        v1::AggregationStatus* aggregation) {
  aggregation->set_state(std::string(AggregationPhaseName(state.phase)));
  aggregation->set_iteration(state.iteration);
  aggregation->set_total_iterations(state.total_iterations);
  aggregation->set_loss(state.loss);
  aggregation->set_total_variation_to_local_product(
      state.total_variation_to_local_product);
  aggregation->set_last_error(state.last_error);
  aggregation->set_resumed_from_iteration(state.resumed_from_iteration);
  aggregation->set_checkpoint_iteration(state.checkpoint_iteration);
  aggregation->set_fcs_to_local_product(state.fcs_to_local_product);
  if (state.stop_reason != AggregationStopReason::kNotStopped) {
    aggregation->set_stop_reason(
        std::string(AggregationStopReasonName(state.stop_reason)));
  }
}

void NamedAggregateToProto(const NamedAggregateStatus& named,
                           v1::NamedAggregateStatus* out) {
  out->set_name(named.name);
  for (const auto& [client_id, weight] : named.weights) {
    (*out->mutable_weights())[client_id] = weight;
  }
  AggregationToProto(named.aggregation, out->mutable_aggregation());
  out->set_current_version(named.current_version);
}

v1::GlobalModelAnnouncement Announcement(const GlobalVersion& version) {
  v1::GlobalModelAnnouncement announcement;
  announcement.set_version(version.version);
  for (const IncludedUpload& upload : version.included) {
    announcement.add_client_ids(upload.client_id);
    announcement.add_client_rounds(upload.round);
  }
  announcement.set_payload_bytes(static_cast<int64_t>(version.payload.size()));
  announcement.set_payload_sha256(version.payload_sha256);
  announcement.set_published_unix_seconds(version.published_unix_seconds);
  for (const ExcludedClient& client : version.excluded) {
    announcement.add_excluded_client_ids(client.client_id);
    announcement.add_exclusion_reasons(client.reason);
  }
  return announcement;
}

}  // namespace

absl::Status FederationServiceOptions::Validate() const {
  if (max_upload_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_upload_bytes must be >= 1, got ", max_upload_bytes));
  }
  return absl::OkStatus();
}

grpc::Status FederationService::AuthorizeMember(
    const grpc::ServerContext& context, const std::string& claimed_client_id,
    const char* method, std::string* client_id) {
  absl::StatusOr<std::string> caller = access_->AuthorizeMember(
      CallCredentialsOf(context), claimed_client_id, method);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (client_id != nullptr) *client_id = *std::move(caller);
  return grpc::Status::OK;
}

grpc::Status FederationService::GetSpec(grpc::ServerContext* context,
                                        const v1::GetSpecRequest* request,
                                        v1::GetSpecResponse* response) {
  return GuardedCall("Federation/GetSpec",
                     [&] { return DoGetSpec(context, request, response); });
}

grpc::Status FederationService::DoGetSpec(grpc::ServerContext* context,
                                          const v1::GetSpecRequest* request,
                                          v1::GetSpecResponse* response) {
  // The identity is checked here, before the client trains for hours, and
  // not only at its upload.
  std::string client_id;
  if (grpc::Status status = AuthorizeMember(*context, request->client_id(),
                                            "GetSpec", &client_id);
      !status.ok()) {
    return status;
  }
  *response->mutable_spec() = core_->config().spec;
  response->set_spec_digest(core_->config().spec_digest);
  if (!client_id.empty()) {
    for (const ClientState& state : core_->Status().clients) {
      if (state.client_id == client_id) {
        response->set_accepted_round(state.accepted_round);
      }
    }
  }
  return grpc::Status::OK;
}

absl::Status FederationService::RefuseTransfer(const std::string& client_id,
                                               absl::Status refusal) {
  core_->RecordRefusedUpload(client_id, kRefusedTransfer, refusal);
  return refusal;
}

absl::Status FederationService::IdleRefusal(int64_t received_bytes) {
  return RefuseTransfer(
      "?",
      absl::DeadlineExceededError(absl::StrCat(
          "no upload message for ",
          absl::FormatDuration(core_->upload_admission().limits().idle_timeout),
          " after ", received_bytes,
          " bytes: the server closed the idle stream")));
}

absl::StatusOr<v1::UploadHeader> FederationService::ReceiveHeader(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
    UploadAdmission::Stream& stream) {
  v1::UploadChunk chunk;
  if (!reader->Read(&chunk)) {
    if (stream.timed_out()) return IdleRefusal(0);
    return RefuseTransfer(
        "?", absl::InvalidArgumentError("empty upload stream: no header"));
  }
  if (!chunk.has_header()) {
    core_->RecordRefusedUpload("?", kRefusedTransfer,
                               absl::InvalidArgumentError("no header"));
    return absl::InvalidArgumentError(
        "the first message of an upload must be its header");
  }
  const v1::UploadHeader& header = chunk.header();
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
  stream.Touch();
  RETURN_IF_ERROR(core_->CheckUploadHeader(header.client_id(),
                                           header.spec_digest(), header.round(),
                                           header.base_round()));
  if (header.total_bytes() <= options_.max_upload_bytes) {
    // (A larger announcement is refused with the payload, naming the size
    // limit.)
    if (absl::Status admitted =
            stream.Claim(header.client_id(), header.total_bytes());
        !admitted.ok()) {
      return RefuseTransfer(header.client_id(), admitted);
    }
  }
  return header;
}

absl::StatusOr<std::string> FederationService::ReceivePayload(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
    UploadAdmission::Stream& stream, const v1::UploadHeader& header) {
  absl::StatusOr<PayloadAssembler> assembler = PayloadAssembler::Create(
      header.total_bytes(), header.payload_sha256(), options_.max_upload_bytes);
  if (!assembler.ok()) {
    return RefuseTransfer(header.client_id(), assembler.status());
  }
  v1::UploadChunk chunk;
  while (reader->Read(&chunk)) {
    stream.Touch();
    absl::Status status =
        chunk.has_header()
            ? absl::InvalidArgumentError(
                  "an upload carries exactly one header, as its first message")
            : assembler->Append(chunk.data());
    if (!status.ok()) return RefuseTransfer(header.client_id(), status);
  }
  if (stream.timed_out()) return IdleRefusal(assembler->received_bytes());
  if (context->IsCancelled()) {
    // The client went away mid-upload: nothing is stored, and the refusal
    // is counted like any other broken transfer.
    return RefuseTransfer(
        header.client_id(),
        absl::CancelledError(absl::StrCat("the client disconnected after ",
                                          assembler->received_bytes(), " of ",
                                          header.total_bytes(), " bytes")));
  }
  absl::StatusOr<std::string> payload = std::move(*assembler).Finish();
  if (!payload.ok()) {
    return RefuseTransfer(header.client_id(), payload.status());
  }
  return payload;
}

absl::StatusOr<UploadRequest> FederationService::ReceiveUpload(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
    UploadAdmission::Stream& stream) {
  ASSIGN_OR_RETURN(const v1::UploadHeader header,
                   ReceiveHeader(context, reader, stream));
  UploadRequest request;
  ASSIGN_OR_RETURN(request.payload,
                   ReceivePayload(context, reader, stream, header));
  // ReceivePayload checked the bytes against it: no second hash in the store.
  request.payload_sha256 = header.payload_sha256();
  request.client_id = header.client_id();
  request.spec_digest = header.spec_digest();
  request.round = header.round();
  request.base_round = header.base_round();
  if (header.has_diagnostics()) {
    request.diagnostics = DiagnosticsFromProto(header.diagnostics());
  }
  return request;
}

grpc::Status FederationService::UploadModel(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
    v1::UploadResponse* response) {
  return GuardedCall("Federation/UploadModel",
                     [&] { return DoUploadModel(context, reader, response); });
}

grpc::Status FederationService::DoUploadModel(
    grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
    v1::UploadResponse* response) {
  if (grpc::Status status = AuthorizeMember(*context, "", "UploadModel");
      !status.ok()) {
    return status;
  }
  // Held until the upload is stored: its buffer counts until then.
  absl::StatusOr<UploadAdmission::Stream> stream =
      core_->upload_admission().Open([context] { context->TryCancel(); });
  if (!stream.ok()) {
    core_->RecordRefusedUpload("?", kRefusedTransfer, stream.status());
    return ToGrpcStatus(stream.status());
  }
  absl::StatusOr<UploadRequest> request =
      ReceiveUpload(context, reader, *stream);
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
  return GuardedCall("Federation/WatchGlobalModel", [&] {
    return DoWatchGlobalModel(context, request, writer);
  });
}

grpc::Status FederationService::DoWatchGlobalModel(
    grpc::ServerContext* context, const v1::WatchRequest* request,
    grpc::ServerWriter<v1::GlobalModelAnnouncement>* writer) {
  if (grpc::Status status = AuthorizeMember(*context, "", "WatchGlobalModel");
      !status.ok()) {
    return status;
  }
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
  return GuardedCall("Federation/DownloadGlobalModel", [&] {
    return DoDownloadGlobalModel(context, request, writer);
  });
}

grpc::Status FederationService::DoDownloadGlobalModel(
    grpc::ServerContext* context, const v1::DownloadRequest* request,
    grpc::ServerWriter<v1::DownloadChunk>* writer) {
  if (grpc::Status status =
          AuthorizeMember(*context, "", "DownloadGlobalModel");
      !status.ok()) {
    return status;
  }
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
  return GuardedCall("Federation/GetStatus",
                     [&] { return DoGetStatus(context, response); });
}

grpc::Status FederationService::DoGetStatus(grpc::ServerContext* context,
                                            v1::GetStatusResponse* response) {
  // Every member's rounds and diagnostics: for the operators only.
  if (absl::StatusOr<std::string> caller =
          access_->AuthorizeOperator(CallCredentialsOf(*context), "GetStatus");
      !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
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
  AggregationToProto(status.aggregation, response->mutable_aggregation());
  for (const NamedAggregateStatus& named : status.aggregates) {
    NamedAggregateToProto(named, response->add_aggregates());
  }
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

grpc::Status FederationService::CreateAggregate(
    grpc::ServerContext* context, const v1::CreateAggregateRequest* request,
    v1::CreateAggregateResponse* response) {
  return GuardedCall("Federation/CreateAggregate", [&] {
    return DoCreateAggregate(context, *request, response);
  });
}

grpc::Status FederationService::DoCreateAggregate(
    grpc::ServerContext* context, const v1::CreateAggregateRequest& request,
    v1::CreateAggregateResponse* response) {
  absl::StatusOr<std::string> caller = access_->AuthorizeOperator(
      CallCredentialsOf(*context), "CreateAggregate");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<NamedAggregateStatus> created =
      core_->AddNamedAggregate(request.aggregate(), *caller);
  if (!created.ok()) return ToGrpcStatus(created.status());
  NamedAggregateToProto(*created, response->mutable_aggregate());
  return grpc::Status::OK;
}

}  // namespace epgfn
