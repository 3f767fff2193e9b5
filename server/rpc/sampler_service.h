#ifndef EPGFN_SERVER_RPC_SAMPLER_SERVICE_H_
#define EPGFN_SERVER_RPC_SAMPLER_SERVICE_H_

#include "proto/sampler.grpc.pb.h"
#include "server/core/server_core.h"

namespace epgfn {

// Thin handlers of epgfn.v1.Sampler over a ServerCore.
class SamplerService final : public v1::Sampler::Service {
 public:
  explicit SamplerService(ServerCore* core) : core_(core) {}

  grpc::Status Sample(grpc::ServerContext* context,
                      const v1::SampleRequest* request,
                      grpc::ServerWriter<v1::SampleBatch>* writer) override;
  grpc::Status ListModels(grpc::ServerContext* context,
                          const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;

 private:
  ServerCore* const core_;
};

}  // namespace epgfn

#endif  // EPGFN_SERVER_RPC_SAMPLER_SERVICE_H_
