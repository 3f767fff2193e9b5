#include "server/core/sampler.h"

#include <glog/logging.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/eval/terminal_probability.h"
#include "common/sampling/random.h"
#include "common/sampling/trajectories.h"
#include "common/util/event_log.h"
#include "common/util/status_macros.h"
#include "server/core/server_metrics.h"

namespace epgfn {

absl::Status SamplerOptions::Validate() const {
  if (batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sample batch_size must be >= 1, got ", batch_size));
  }
  return limits.Validate();
}

absl::StatusOr<GlobalVersionPtr> FindPublishedVersion(
    const ModelStore& models, int64_t model_version,
    const std::string& aggregate) {
  GlobalVersionPtr version = models.Get(model_version);
  if (version == nullptr) {
    const std::string of =
        IsDefaultAggregateName(aggregate)
            ? std::string()
            : absl::StrCat(" of aggregate '", aggregate, "'");
    return absl::NotFoundError(
        model_version == 0
            ? absl::StrCat("no global model", of, " has been published yet")
            : absl::StrCat("global model version ", model_version, of,
                           " does not exist"));
  }
  return version;
}

bool IsDefaultAggregateName(const std::string& aggregate) {
  return aggregate.empty() || aggregate == kDefaultAggregateName;
}

ModelStoreLookup DefaultAggregateOnly(const ModelStore* models) {
  return
      [models](
          const std::string& aggregate) -> absl::StatusOr<const ModelStore*> {
        if (IsDefaultAggregateName(aggregate)) return models;
        return absl::NotFoundError(
            absl::StrCat("no aggregate named '", aggregate,
                         "' (this federation has only the default aggregate)"));
      };
}

Sampler::Sampler(std::shared_ptr<const FederationConfig> config,
                 const ModelStore* models, SamplerOptions options)
    : Sampler(std::move(config), DefaultAggregateOnly(models), options) {}

Sampler::Sampler(std::shared_ptr<const FederationConfig> config,
                 ModelStoreLookup lookup, SamplerOptions options)
    : config_(std::move(config)),
      lookup_(std::move(lookup)),
      options_(options),
      heavy_gate_(options.limits),
      // Unseeded requests differ across restarts, not just across requests.
      next_seed_(std::random_device()()) {}

absl::Status Sampler::Sample(const SampleQuery& query,
                             const SampleBatchCallback& on_batch) {
  if (absl::Status work = CheckSampleWork(options_.limits, query.num_samples,
                                          query.log_probability_samples);
      !work.ok()) {
    return work;
  }
  if (query.model_version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model_version must be >= 0, got ", query.model_version));
  }
  ASSIGN_OR_RETURN(const ModelStore* models, lookup_(query.aggregate));
  ASSIGN_OR_RETURN(
      GlobalVersionPtr version,
      FindPublishedVersion(*models, query.model_version, query.aggregate));
  absl::StatusOr<HeavyRequestGate::Ticket> ticket = heavy_gate_.TryEnter(
      SampleWork(query.num_samples, query.log_probability_samples));
  if (!ticket.ok()) return ticket.status();
  torch::NoGradGuard no_grad;
  const Environment& environment = *config_->environment;
  PolicyNet policy = version->policy;
  RandomSource random(query.seed ? *query.seed : next_seed_.fetch_add(1));
  const int64_t samples = query.log_probability_samples;
  // Objects whose backward trajectories go through one estimation pass.
  const int64_t objects_per_pass =
      samples > 0 ? std::max<int64_t>(
                        1, options_.limits.max_trajectories_per_pass / samples)
                  : 0;
  int64_t remaining = query.num_samples;
  while (remaining > 0) {
    if (absl::Status go_on = query.control.Check(); !go_on.ok()) return go_on;
    const int64_t batch = std::min(remaining, options_.batch_size);
    Trajectories trajectories = SampleTrajectories(
        policy, environment, batch, ExplorationOptions(), random);
    torch::Tensor log_p;
    if (samples > 0) {
      std::vector<torch::Tensor> parts;
      for (int64_t begin = 0; begin < batch; begin += objects_per_pass) {
        if (absl::Status go_on = query.control.Check(); !go_on.ok()) {
          return go_on;
        }
        parts.push_back(
            EstimateLogTerminalProbability(
                policy, environment,
                trajectories.terminal_states.narrow(
                    0, begin, std::min(objects_per_pass, batch - begin)),
                samples, random)
                .to(torch::kCPU, torch::kFloat64));
      }
      log_p = torch::cat(parts).contiguous();
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
