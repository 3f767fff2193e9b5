#include "client/core/sampler_client.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/core/channel.h"
#include "client/core/grpc_status.h"
#include "common/util/file_io.h"
#include "common/util/status_macros.h"

namespace epgfn {

absl::StatusOr<std::string> ReadSamplerTokenFile(const std::string& path) {
  return ReadBearerTokenFile(path, "sampler token file");
}

void SamplerClient::Prepare(grpc::ClientContext& context,
                            absl::Duration timeout) const {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
  if (!options_.token.empty()) {
    context.AddMetadata("authorization", "Bearer " + options_.token);
  }
}

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
        Prepare(context, options_.sample_timeout);
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
    return absl::DataLossError(absl::StrCat("asked for ", request.num_samples(),
                                            " objects, got ",
                                            result.objects.size()));
  }
  return result;
}

absl::StatusOr<v1::ListModelsResponse> SamplerClient::ListModels(
    const std::string& aggregate) {
  // Unary: waitForReady and retries come from the channel's service config
  // (channel.h), not from RetryWithBackoff.
  v1::ListModelsResponse response;
  grpc::ClientContext context;
  Prepare(context, options_.rpc_timeout);
  RETURN_IF_ERROR(WaitForChannel(*channel_, options_.rpc_timeout));
  v1::ListModelsRequest request;
  request.set_aggregate(aggregate);
  RETURN_IF_ERROR(UnaryCallStatus(
      *channel_,
      FromGrpcStatus(stub_->ListModels(&context, request, &response))));
  return response;
}

absl::StatusOr<v1::Summary> SamplerClient::Summarize(
    const v1::SummarizeRequest& request) {
  v1::Summary summary;
  RETURN_IF_ERROR(RetryWithBackoff(
      options_.retry,
      [&](int /*attempt*/) -> absl::Status {
        RETURN_IF_ERROR(WaitForChannel(*channel_, options_.connect_timeout));
        grpc::ClientContext context;
        Prepare(context, options_.sample_timeout);
        summary.Clear();
        return FromGrpcStatus(stub_->Summarize(&context, request, &summary));
      },
      options_.sleep));
  return summary;
}

}  // namespace epgfn
