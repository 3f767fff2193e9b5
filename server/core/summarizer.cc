#include "server/core/summarizer.h"

#include <glog/logging.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/eval/terminal_probability.h"
#include "common/sampling/random.h"
#include "common/util/event_log.h"
#include "common/util/status_macros.h"

namespace epgfn {
namespace {

absl::Status Cancelled() {
  return absl::CancelledError("the caller stopped waiting for the summary");
}

// The request's objects as a [K, width] tensor; errors name the object.
absl::StatusOr<torch::Tensor> ObjectsTensor(
    const std::vector<std::vector<int64_t>>& objects, int64_t width) {
  torch::Tensor states = torch::empty(
      {static_cast<int64_t>(objects.size()), width}, torch::kInt64);
  int64_t* out = states.data_ptr<int64_t>();
  for (size_t i = 0; i < objects.size(); ++i) {
    if (static_cast<int64_t>(objects[i].size()) != width) {
      return absl::InvalidArgumentError(absl::StrCat(
          "objects[", i, "] has ", objects[i].size(),
          " state integers; this environment's objects have ", width));
    }
    std::copy(objects[i].begin(), objects[i].end(), out + i * width);
  }
  return states;
}

absl::Status ValidateQuery(const SummaryQuery& query,
                           const SampleWorkLimits& limits) {
  if (query.top_objects < 0 || query.top_objects > kMaxSummaryTopObjects) {
    return absl::InvalidArgumentError(
        absl::StrCat("top_objects must lie in [0, ", kMaxSummaryTopObjects,
                     "], got ", query.top_objects));
  }
  if (query.log_probability_samples < 0 ||
      query.log_probability_samples > limits.max_log_probability_samples) {
    return absl::InvalidArgumentError(
        absl::StrCat("log_probability_samples must lie in [0, ",
                     limits.max_log_probability_samples, "], got ",
                     query.log_probability_samples));
  }
  if (query.model_version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model_version must be >= 0, got ", query.model_version));
  }
  const bool given = !query.objects.empty();
  if (given && query.num_samples != 0) {
    return absl::InvalidArgumentError(
        "give either num_samples (objects drawn on the server) or objects, "
        "not both");
  }
  if (given && static_cast<int64_t>(query.objects.size()) >
                   limits.max_objects_per_request) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", limits.max_objects_per_request,
        " objects per summary request, got ", query.objects.size()));
  }
  return absl::OkStatus();
}

// The objects a summary is about, and the version they belong to.
struct SummaryObjects {
  torch::Tensor states;  // [K, width] int64
  GlobalVersionPtr version;
};

// Draws the objects through Sample itself, so that its caps, version
// lookup, seeding and cancellation apply unchanged.
absl::StatusOr<SummaryObjects> DrawObjects(
    const SummaryQuery& query, Sampler& sampler, const ModelStore& models,
    int64_t width, const std::function<bool()>& keep_going) {
  SampleQuery sample;
  sample.num_samples = query.num_samples;
  sample.aggregate = query.aggregate;
  sample.model_version = query.model_version;
  sample.seed = query.seed;
  sample.control.cancelled = [&keep_going] { return !keep_going(); };
  std::vector<int64_t> rows;
  int64_t drawn_version = 0;
  RETURN_IF_ERROR(
      sampler.Sample(sample, [&](int64_t v, std::vector<SampledObject> batch) {
        drawn_version = v;
        for (const SampledObject& object : batch) {
          rows.insert(rows.end(), object.state.begin(), object.state.end());
        }
        return keep_going();
      }));
  SummaryObjects objects;
  objects.version = models.Get(drawn_version);
  if (objects.version == nullptr) {
    return absl::InternalError(
        absl::StrCat("version ", drawn_version, " vanished while sampling"));
  }
  objects.states =
      torch::from_blob(rows.data(),
                       {static_cast<int64_t>(rows.size()) / width, width},
                       torch::kInt64)
          .clone();
  return objects;
}

// The `top` most frequent objects (ties broken by state), with their
// frequencies and standard errors; their states also go to `top_states`.
std::vector<TopObjectSummary> MostFrequent(const torch::Tensor& states,
                                           int64_t top_limit,
                                           const Environment& environment,
                                           torch::Tensor& top_states,
                                           int64_t& num_distinct) {
  const int64_t width = states.size(1);
  const int64_t num_objects = states.size(0);
  std::map<std::vector<int64_t>, int64_t> counts;
  const int64_t* data = states.data_ptr<int64_t>();
  for (int64_t i = 0; i < num_objects; ++i) {
    ++counts[std::vector<int64_t>(data + i * width, data + (i + 1) * width)];
  }
  num_distinct = static_cast<int64_t>(counts.size());
  std::vector<std::pair<std::vector<int64_t>, int64_t>> ranked(counts.begin(),
                                                               counts.end());
  // The map is ordered by state, so a stable sort breaks ties by state.
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const auto& a, const auto& b) { return a.second > b.second; });
  const int64_t top =
      std::min<int64_t>(static_cast<int64_t>(ranked.size()), top_limit);
  top_states = torch::empty({top, width}, torch::kInt64);
  const double k = static_cast<double>(num_objects);
  std::vector<TopObjectSummary> result;
  for (int64_t i = 0; i < top; ++i) {
    TopObjectSummary object;
    object.state = ranked[i].first;
    object.count = ranked[i].second;
    object.frequency = static_cast<double>(object.count) / k;
    object.frequency_standard_error =
        std::sqrt(object.frequency * (1.0 - object.frequency) / k);
    std::copy(object.state.begin(), object.state.end(),
              top_states.data_ptr<int64_t>() + i * width);
    object.description = environment.Describe(top_states[i]);
    result.push_back(std::move(object));
  }
  return result;
}

// Importance-sampled p_T of each top object under the version's policy.
void EstimateProbabilities(const SummaryQuery& query, PolicyNet policy,
                           const Environment& environment,
                           const torch::Tensor& top_states, int32_t samples,
                           std::vector<TopObjectSummary>& top_objects) {
  if (top_objects.empty()) return;
  // Its own stream: seeded requests stay reproducible, and the estimate does
  // not reuse the draws' randomness.
  RandomSource random(query.seed ? *query.seed ^ 0x9e3779b97f4a7c15ULL
                                 : std::random_device()());
  const torch::Tensor log_p =
      EstimateLogTerminalProbability(policy, environment, top_states, samples,
                                     random)
          .contiguous();
  for (size_t i = 0; i < top_objects.size(); ++i) {
    top_objects[i].log_probability = log_p.data_ptr<double>()[i];
    top_objects[i].probability = std::exp(top_objects[i].log_probability);
  }
}

}  // namespace

Summarizer::Summarizer(std::shared_ptr<const FederationConfig> config,
                       const ModelStore* models, Sampler* sampler)
    : config_(std::move(config)), models_(models), sampler_(sampler) {}

absl::StatusOr<PosteriorSummary> Summarizer::Summarize(
    const SummaryQuery& query, const std::function<bool()>& keep_going) {
  // Inputs are checked before they reach LibTorch, so an exception here is a
  // bug; it becomes INTERNAL instead of escaping the RPC handler.
  try {
    return SummarizeOrThrow(query, keep_going);
  } catch (const std::exception& e) {
    LOG(ERROR) << "summary failed: " << e.what();
    return absl::InternalError(absl::StrCat("summary failed: ", e.what()));
  }
}

absl::StatusOr<PosteriorSummary> Summarizer::SummarizeOrThrow(
    const SummaryQuery& query, const std::function<bool()>& keep_going) {
  RETURN_IF_ERROR(ValidateQuery(query, sampler_->options().limits));
  const bool given = !query.objects.empty();
  const Environment& environment = *config_->environment;
  FeatureLabels labels;
  labels.variable_names = query.variable_names;
  ASSIGN_OR_RETURN(std::unique_ptr<FeatureSummarizer> features,
                   MakeFeatureSummarizer(environment, labels));

  torch::NoGradGuard no_grad;
  const int64_t width = environment.raw_state_dim();
  const ModelStore* models = models_;
  if (!IsDefaultAggregateName(query.aggregate)) {
    ASSIGN_OR_RETURN(models, sampler_->FindStore(query.aggregate));
  }
  SummaryObjects objects;
  if (given) {
    ASSIGN_OR_RETURN(objects.states, ObjectsTensor(query.objects, width));
    RETURN_IF_ERROR(features->CheckObjects(objects.states));
    ASSIGN_OR_RETURN(
        objects.version,
        FindPublishedVersion(*models, query.model_version, query.aggregate));
  } else {
    ASSIGN_OR_RETURN(objects,
                     DrawObjects(query, *sampler_, *models, width, keep_going));
  }
  if (!keep_going()) return Cancelled();

  PosteriorSummary summary;
  summary.model_version = objects.version->version;
  summary.num_objects = objects.states.size(0);
  summary.log_probability_samples = query.log_probability_samples > 0
                                        ? query.log_probability_samples
                                        : kDefaultSummaryLogProbabilitySamples;
  torch::Tensor top_states;
  summary.top_objects = MostFrequent(
      objects.states,
      query.top_objects > 0 ? query.top_objects : kDefaultSummaryTopObjects,
      environment, top_states, summary.num_distinct);
  EstimateProbabilities(query, objects.version->policy, environment, top_states,
                        summary.log_probability_samples, summary.top_objects);
  if (!keep_going()) return Cancelled();
  summary.features = features->Summarize(objects.states);
  VLOG(1) << Event("summary_served")
                 .With("federation", config_->spec.name())
                 .With("version", objects.version->version)
                 .With("objects", summary.num_objects)
                 .With("given", given)
                 .With("distinct", summary.num_distinct);
  return summary;
}

}  // namespace epgfn
