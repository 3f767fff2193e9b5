#include "server/core/sampler.h"

#include <glog/logging.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/eval/terminal_probability.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/util/event_log.h"
#include "common/util/status_macros.h"
#include "server/core/server_metrics.h"

namespace epgfn {

absl::StatusOr<SamplerOptions> SamplerOptions::Create(
    int64_t max_samples_per_request, int64_t batch_size) {
  if (max_samples_per_request < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_samples_per_request must be >= 1, got ", max_samples_per_request));
  }
  if (batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample batch_size must be >= 1, got ", batch_size));
  }
  SamplerOptions options;
  options.max_samples_per_request = max_samples_per_request;
  options.batch_size = batch_size;
  return options;
}

absl::StatusOr<GlobalVersionPtr> FindPublishedVersion(const ModelStore& models,
                                                      int64_t model_version) {
  GlobalVersionPtr version = models.Get(model_version);
  if (version == nullptr) {
    return absl::NotFoundError(
        model_version == 0
            ? std::string("no global model has been published yet")
            : absl::StrCat("global model version ", model_version,
                           " does not exist"));
  }
  return version;
}

Sampler::Sampler(std::shared_ptr<const FederationConfig> config,
                 const ModelStore* models, SamplerOptions options)
    : config_(std::move(config)),
      models_(models),
      options_(options),
      // Unseeded requests differ across restarts, not just across requests.
      next_seed_(std::random_device()()) {}

absl::Status Sampler::Sample(const SampleQuery& query,
                             const SampleBatchCallback& on_batch) {
  if (query.num_samples < 1 ||
      query.num_samples > options_.max_samples_per_request) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_samples must lie in [1, ", options_.max_samples_per_request,
        "], got ", query.num_samples));
  }
  if (query.model_version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model_version must be >= 0, got ", query.model_version));
  }
  if (query.log_probability_samples < 0 ||
      query.log_probability_samples > options_.max_log_probability_samples) {
    return absl::InvalidArgumentError(
        absl::StrCat("log_probability_samples must lie in [0, ",
                     options_.max_log_probability_samples, "], got ",
                     query.log_probability_samples));
  }
  ASSIGN_OR_RETURN(GlobalVersionPtr version,
                   FindPublishedVersion(*models_, query.model_version));
  torch::NoGradGuard no_grad;
  const Environment& environment = *config_->environment;
  PolicyNet policy = version->policy;
  RandomSource random(query.seed ? *query.seed : next_seed_.fetch_add(1));
  int64_t remaining = query.num_samples;
  while (remaining > 0) {
    const int64_t batch = std::min(remaining, options_.batch_size);
    Trajectories trajectories = SampleTrajectories(
        policy, environment, batch, ExplorationOptions(), random);
    torch::Tensor log_p;
    if (query.log_probability_samples > 0) {
      log_p = EstimateLogTerminalProbability(
                  policy, environment, trajectories.terminal_states,
                  query.log_probability_samples, random)
                  .to(torch::kCPU, torch::kFloat64)
                  .contiguous();
    }
    torch::Tensor terminal =
        trajectories.terminal_states.to(torch::kCPU).contiguous();
    const int64_t width = terminal.size(1);
    const int64_t* rows = terminal.data_ptr<int64_t>();
    std::vector<SampledObject> objects(batch);
    for (int64_t i = 0; i < batch; ++i) {
      objects[i].state.assign(rows + i * width, rows + (i + 1) * width);
      objects[i].description = environment.Describe(terminal[i]);
      objects[i].log_probability =
          log_p.defined() ? log_p.data_ptr<double>()[i]
                          : std::numeric_limits<double>::quiet_NaN();
    }
    if (!on_batch(version->version, std::move(objects))) {
      return absl::CancelledError("the caller stopped reading samples");
    }
    GetServerMetrics().samples_served.Increment(static_cast<double>(batch));
    remaining -= batch;
  }
  VLOG(1) << Event("samples_served")
                 .With("federation", config_->spec.name())
                 .With("version", version->version)
                 .With("objects", query.num_samples)
                 .With("log_probability_samples", query.log_probability_samples)
                 .With("seeded", query.seed.has_value());
  return absl::OkStatus();
}

}  // namespace epgfn
