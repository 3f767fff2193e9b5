#ifndef EPGFN_SERVER_RPC_SAMPLER_SERVICE_H_
#define EPGFN_SERVER_RPC_SAMPLER_SERVICE_H_

#include "proto/sampler.grpc.pb.h"
#include "server/core/sampler_access.h"
#include "server/core/server_core.h"

namespace epgfn {

// Thin handlers of epgfn.v1.Sampler over a ServerCore. Every call is first
// put to `access` (see SamplerAccess): a refusal is UNAUTHENTICATED. Each
// handler runs its Do* body under GuardedCall (an exception is INTERNAL).
class SamplerService final : public v1::Sampler::Service {
 public:
  // Both must outlive the service.
  SamplerService(ServerCore* core, SamplerAccess* access)
      : core_(core), access_(access) {}

  grpc::Status Sample(grpc::ServerContext* context,
                      const v1::SampleRequest* request,
                      grpc::ServerWriter<v1::SampleBatch>* writer) override;
  grpc::Status ListModels(grpc::ServerContext* context,
                          const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status Summarize(grpc::ServerContext* context,
                         const v1::SummarizeRequest* request,
                         v1::Summary* response) override;

 private:
  grpc::Status DoSample(grpc::ServerContext* context,
                        const v1::SampleRequest* request,
                        grpc::ServerWriter<v1::SampleBatch>* writer);
  grpc::Status DoListModels(grpc::ServerContext* context,
                            const v1::ListModelsRequest* request,
                            v1::ListModelsResponse* response);
  // OK when `access_` lets the call in.
  grpc::Status Authorize(const grpc::ServerContext& context);

  ServerCore* const core_;
  SamplerAccess* const access_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_SAMPLER_SERVICE_H_
