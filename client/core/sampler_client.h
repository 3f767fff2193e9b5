#ifndef EPGFN_CLIENT_CORE_SAMPLER_CLIENT_H_
#define EPGFN_CLIENT_CORE_SAMPLER_CLIENT_H_

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/retry.h"
#include "proto/sampler.grpc.pb.h"

namespace epgfn {

struct SamplerClientOptions {
  RetryOptions retry;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Deadline of one Sample stream.
  absl::Duration sample_timeout = absl::Minutes(5);
  // Deadline of a unary call (ListModels), waiting for the connection
  // included.
  absl::Duration rpc_timeout = absl::Seconds(30);
  SleepFunction sleep;
  // Sent as "authorization: Bearer <token>" metadata on every call when not
  // empty (servers started with --sampler_auth=token require it).
  std::string token;
};

// The token in `path` with surrounding whitespace removed; an empty file or
// a token with inner whitespace is an error (the message never shows it).
absl::StatusOr<std::string> ReadSamplerTokenFile(const std::string& path);

struct SampleResult {
  int64_t model_version = 0;
  std::vector<v1::SampledObject> objects;
};

// Draws objects from a published global model through the Sampler service.
// A request is retried as a whole when it fails transiently (sampling has no
// side effects, so that is safe).
class SamplerClient {
 public:
  SamplerClient(std::shared_ptr<grpc::Channel> channel,
                SamplerClientOptions options);

  absl::StatusOr<SampleResult> Sample(const v1::SampleRequest& request);
  // `aggregate`: a named aggregate's versions (empty: the default one's).
  absl::StatusOr<v1::ListModelsResponse> ListModels(
      const std::string& aggregate = "");
  // Posterior summaries (top objects, feature marginals) of a published
  // version, computed on the server; retried like Sample.
  absl::StatusOr<v1::Summary> Summarize(const v1::SummarizeRequest& request);

 private:
  // Deadline and token on a fresh context.
  void Prepare(grpc::ClientContext& context, absl::Duration timeout) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Sampler::Stub> stub_;
  SamplerClientOptions options_;
};

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_SAMPLER_CLIENT_H_
