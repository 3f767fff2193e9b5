#include "client/core/sampler_client.h"

#include <utility>

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "client/core/channel.h"
#include "client/core/grpc_status.h"
#include "common/util/status_macros.h"

namespace epgfn {

SamplerClient::SamplerClient(std::shared_ptr<grpc::Channel> channel,
                             SamplerClientOptions options)
    : channel_(std::move(channel)),
      stub_(v1::Sampler::NewStub(channel_)),
      options_(std::move(options)) {}

absl::StatusOr<SampleResult> SamplerClient::Sample(
    const v1::SampleRequest& request) {
  SampleResult result;
  RETURN_IF_ERROR(RetryWithBackoff(
      options_.retry,
      [&](int /*attempt*/) -> absl::Status {
        RETURN_IF_ERROR(WaitForChannel(*channel_, options_.connect_timeout));
        result = SampleResult();
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoMilliseconds(options_.sample_timeout));
        std::unique_ptr<grpc::ClientReader<v1::SampleBatch>> reader =
            stub_->Sample(&context, request);
        v1::SampleBatch batch;
        while (reader->Read(&batch)) {
          result.model_version = batch.model_version();
          for (v1::SampledObject& object : *batch.mutable_objects()) {
            result.objects.push_back(std::move(object));
          }
        }
        return FromGrpcStatus(reader->Finish());
      },
      options_.sleep));
  if (static_cast<int64_t>(result.objects.size()) != request.num_samples()) {
    return absl::DataLossError(
        absl::StrCat("asked for ", request.num_samples(), " objects, got ",
                     result.objects.size()));
  }
  return result;
}

absl::StatusOr<v1::ListModelsResponse> SamplerClient::ListModels() {
  v1::ListModelsResponse response;
  RETURN_IF_ERROR(RetryWithBackoff(
      options_.retry,
      [&](int /*attempt*/) -> absl::Status {
        RETURN_IF_ERROR(WaitForChannel(*channel_, options_.connect_timeout));
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
        return FromGrpcStatus(
            stub_->ListModels(&context, v1::ListModelsRequest(), &response));
      },
      options_.sleep));
  return response;
}

}  // namespace epgfn
