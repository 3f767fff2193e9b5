#include "server/rpc/sampler_service.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "server/rpc/grpc_status.h"
#include "server/rpc/peer_identity.h"
#include "server/rpc/summary_conversion.h"

namespace epgfn {

grpc::Status SamplerService::Authorize(const grpc::ServerContext& context) {
  return ToGrpcStatus(access_->Authorize(CallCredentialsOf(context)).status());
}

grpc::Status SamplerService::Sample(
    grpc::ServerContext* context, const v1::SampleRequest* request,
    grpc::ServerWriter<v1::SampleBatch>* writer) {
  return GuardedCall("Sampler/Sample",
                     [&] { return DoSample(context, request, writer); });
}

grpc::Status SamplerService::DoSample(
    grpc::ServerContext* context, const v1::SampleRequest* request,
    grpc::ServerWriter<v1::SampleBatch>* writer) {
  if (grpc::Status status = Authorize(*context); !status.ok()) return status;
  SampleQuery query;
  query.num_samples = request->num_samples();
  query.aggregate = request->aggregate();
  query.model_version = request->model_version();
  if (request->use_seed()) query.seed = request->seed();
  query.log_probability_samples = request->log_probability_samples();
  // Checked inside the sampling loop, so that a cancelled or expired call
  // stops within one pass rather than one batch.
  query.control.cancelled = [context] { return context->IsCancelled(); };
  if (context->deadline() != std::chrono::system_clock::time_point::max()) {
    query.control.deadline = absl::FromChrono(context->deadline());
  }
  absl::Status status = core_->sampler().Sample(
      query, [&](int64_t version, std::vector<SampledObject> objects) {
        if (context->IsCancelled()) return false;
        v1::SampleBatch batch;
        batch.set_model_version(version);
        for (SampledObject& object : objects) {
          v1::SampledObject* out = batch.add_objects();
          out->mutable_state()->Add(object.state.begin(), object.state.end());
          out->set_description(std::move(object.description));
          out->set_log_probability(object.log_probability);
        }
        return writer->Write(batch);
      });
  return ToGrpcStatus(status);
}

grpc::Status SamplerService::ListModels(grpc::ServerContext* context,
                                        const v1::ListModelsRequest* request,
                                        v1::ListModelsResponse* response) {
  return GuardedCall("Sampler/ListModels",
                     [&] { return DoListModels(context, request, response); });
}

grpc::Status SamplerService::DoListModels(grpc::ServerContext* context,
                                          const v1::ListModelsRequest* request,
                                          v1::ListModelsResponse* response) {
  if (grpc::Status status = Authorize(*context); !status.ok()) return status;
  absl::StatusOr<const ModelStore*> models =
      core_->FindModels(request->aggregate());
  if (!models.ok()) return ToGrpcStatus(models.status());
  response->set_environment(core_->config().environment->config().ToString());
  for (const GlobalVersionPtr& version : (*models)->List()) {
    v1::ModelVersionInfo* info = response->add_versions();
    info->set_version(version->version);
    for (const IncludedUpload& upload : version->included) {
      info->add_client_ids(upload.client_id);
      info->add_client_rounds(upload.round);
    }
    info->set_published_unix_seconds(version->published_unix_seconds);
    for (const auto& [client_id, weight] : version->client_weights) {
      (*info->mutable_client_weights())[client_id] = weight;
    }
  }
  return grpc::Status::OK;
}

// Authorized as Sample is; the core draws through the Sampler, so Sample's
// caps apply, and polls the call for cancellation (the client's deadline
// passing cancels it too).
grpc::Status SamplerService::Summarize(grpc::ServerContext* context,
                                       const v1::SummarizeRequest* request,
                                       v1::Summary* response) {
  if (grpc::Status status = Authorize(*context); !status.ok()) return status;
  absl::StatusOr<PosteriorSummary> summary = core_->summarizer().Summarize(
      SummaryQueryFromProto(*request),
      [context] { return !context->IsCancelled(); });
  if (!summary.ok()) return ToGrpcStatus(summary.status());
  SummaryToProto(*summary, response);
  return grpc::Status::OK;
}

}  // namespace epgfn
