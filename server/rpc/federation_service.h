#ifndef EPGFN_SERVER_RPC_FEDERATION_SERVICE_H_
#define EPGFN_SERVER_RPC_FEDERATION_SERVICE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "proto/federation.grpc.pb.h"
#include "server/core/federation_access.h"
#include "server/core/sampler_access.h"
#include "server/core/server_core.h"

namespace epgfn {

struct FederationServiceOptions {
  // Largest upload payload accepted (announced total_bytes).
  int64_t max_upload_bytes = int64_t{256} << 20;
  // mTLS: the peer certificate's identity (CertificateIdentity: its CN,
  // else its first DNS SAN) must equal the upload's client_id.
  bool require_peer_identity = false;
  // How often a watcher re-checks for cancellation while no version comes.
  int64_t watch_poll_milliseconds = 500;

  // InvalidArgument when max_upload_bytes < 1.
  absl::Status Validate() const;
};

// Thin handlers of epgfn.v1.Federation over a ServerCore. Each call is first
// put to `access` (members for the client RPCs, operators for GetStatus; see
// FederationAccess), and each handler runs its Do* body under GuardedCall
// (an exception is INTERNAL, never gRPC's UNKNOWN).
class FederationService final : public v1::Federation::Service {
 public:
  // `access` must outlive the service; `sampler_access`, when given,
  // supplies GetStatus's refused Sampler calls and must outlive it too.
  FederationService(ServerCore* core, FederationServiceOptions options,
                    const FederationAccess* access,
                    const SamplerAccess* sampler_access = nullptr)
      : core_(core),
        options_(options),
        access_(access),
        sampler_access_(sampler_access) {}

  grpc::Status GetSpec(grpc::ServerContext* context,
                       const v1::GetSpecRequest* request,
                       v1::GetSpecResponse* response) override;
  grpc::Status UploadModel(grpc::ServerContext* context,
                           grpc::ServerReader<v1::UploadChunk>* reader,
                           v1::UploadResponse* response) override;
  grpc::Status WatchGlobalModel(
      grpc::ServerContext* context, const v1::WatchRequest* request,
      grpc::ServerWriter<v1::GlobalModelAnnouncement>* writer) override;
  grpc::Status DownloadGlobalModel(
      grpc::ServerContext* context, const v1::DownloadRequest* request,
      grpc::ServerWriter<v1::DownloadChunk>* writer) override;
  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  // Operators only, as GetStatus.
  grpc::Status CreateAggregate(grpc::ServerContext* context,
                               const v1::CreateAggregateRequest* request,
                               v1::CreateAggregateResponse* response) override;

 private:
  grpc::Status DoGetSpec(grpc::ServerContext* context,
                         const v1::GetSpecRequest* request,
                         v1::GetSpecResponse* response);
  grpc::Status DoUploadModel(grpc::ServerContext* context,
                             grpc::ServerReader<v1::UploadChunk>* reader,
                             v1::UploadResponse* response);
  grpc::Status DoWatchGlobalModel(
      grpc::ServerContext* context, const v1::WatchRequest* request,
      grpc::ServerWriter<v1::GlobalModelAnnouncement>* writer);
  grpc::Status DoDownloadGlobalModel(
      grpc::ServerContext* context, const v1::DownloadRequest* request,
      grpc::ServerWriter<v1::DownloadChunk>* writer);
  grpc::Status DoGetStatus(grpc::ServerContext* context,
                           v1::GetStatusResponse* response);
  grpc::Status DoCreateAggregate(grpc::ServerContext* context,
                                 const v1::CreateAggregateRequest& request,
                                 v1::CreateAggregateResponse* response);
  // OK when the caller is a member of the federation (see FederationAccess);
  // `claimed_client_id` as AuthorizeMember takes it. Sets `*client_id` to
  // the caller's id when given.
  grpc::Status AuthorizeMember(const grpc::ServerContext& context,
                               const std::string& claimed_client_id,
                               const char* method,
                               std::string* client_id = nullptr);

  // Reads the header and chunks of an upload into a request for the core,
  // within the admission limits that `stream` holds.
  absl::StatusOr<UploadRequest> ReceiveUpload(
      grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
      UploadAdmission::Stream& stream);
  // Its steps: the header, checked and admitted; then the payload, whole
  // and matching the header's digest.
  absl::StatusOr<v1::UploadHeader> ReceiveHeader(
      grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
      UploadAdmission::Stream& stream);
  absl::StatusOr<std::string> ReceivePayload(
      grpc::ServerContext* context, grpc::ServerReader<v1::UploadChunk>* reader,
      UploadAdmission::Stream& stream, const v1::UploadHeader& header);
  // Counts `refusal` as a broken transfer and returns it.
  absl::Status RefuseTransfer(const std::string& client_id,
                              absl::Status refusal);
  // The stream went idle after `received_bytes` (counted).
  absl::Status IdleRefusal(int64_t received_bytes);

  ServerCore* const core_;
  const FederationServiceOptions options_;
  const FederationAccess* const access_;
  const SamplerAccess* const sampler_access_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_FEDERATION_SERVICE_H_
